"""A reconstructed 潮州库 collection for crawl tests: home, columns, paginated listings and articles.

Built in code from the layout of the bundled sample page (itself a reconstruction, see tests/fixtures/README.md):
the real gdxk listing markup has not been seen. Pages are served by tests.site_server on 127.0.0.1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.site_server import Reply, SiteServer

COLUMNS = {"llwzllzz": "理论文章、理论著作", "dsj": "大事记"}
# What a site serves, with status 200, in place of the page when it will not serve it.
BLOCK_PAGE = ("<html><head><meta charset=utf-8><title>安全验证</title></head><body><h1>访问过于频繁</h1>"
              "<p>您的访问过于频繁，请完成下方验证码后继续访问。</p><img src=/captcha.png><input name=code>"
              "</body></html>")


@dataclass
class Story:
    column: str
    post_id: int
    title: str
    published: str  # "2020-10-13 11:13:14"
    paragraphs: list[str]
    author: str | None = "测试作者"
    layout: str = "v1"  # "v2": the redesign drift tests use (body class, source moved, no author line)

    @property
    def path(self) -> str:
        return f"/cz/{self.column}/content/post_{self.post_id}.html"


def article_html(story: Story) -> str:
    body = "\n".join(f"<p>　　{p}</p>" for p in story.paragraphs)
    if story.layout == "v2":
        return redesigned_html(story, body)
    author = f"<p>作者：{story.author}</p>" if story.author else ""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{story.title}_潮州库</title></head><body>
<div class="location"><a href="/">首页</a> &gt; <a href="/cz/">潮州库</a> &gt;
<a href="/cz/{story.column}/">{COLUMNS[story.column]}</a></div>
<h1>{story.title}</h1>
<div class="info">{story.published} 来源：潮州日报</div>
<div class="content">{body}{author}</div>
<div class="related">相关阅读：<a href="https://elsewhere.example/cz/x.html">站外链接</a></div>
<div class="footer"><span>指导单位：中共广东省委宣传部</span><span>建设单位：南方新闻网</span></div>
</body></html>"""


def redesigned_html(story: Story, body: str) -> str:
    """The same article after a redesign: a new body class, the source line moved under the body and reworded,
    and no author line."""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{story.title}_潮州库</title></head><body>
<nav class="crumbs-v2"><a href="/">首页</a> &gt; <a href="/cz/">潮州库</a> &gt;
<a href="/cz/{story.column}/">{COLUMNS[story.column]}</a></nav>
<header><h2 class="headline">{story.title}</h2><time>{story.published}</time></header>
<section class="article-body-v2">{body}</section>
<aside class="origin">本文转自潮州日报</aside>
<div class="footer"><span>指导单位：中共广东省委宣传部</span><span>建设单位：南方新闻网</span></div>
</body></html>"""


def listing_html(column: str, stories: list[Story], page: int, pages: int) -> str:
    items = "\n".join(
        f'<li><a href="content/post_{s.post_id}.html" title="{s.title}">{s.title[:8]}…</a>'
        f"<span>{s.published[:10]}</span></li>" for s in stories)
    pager = " ".join(
        f'<a href="{"index" if n == 1 else f"index_{n}"}.html">{n}</a>' for n in range(1, pages + 1))
    if page < pages:
        pager += f' <a href="index_{page + 1}.html">下一页</a>'
    # Each story is linked twice (once with a fragment), to check that one article is fetched once.
    dupes = "".join(f'<a href="content/post_{s.post_id}.html#top">{s.title}</a>' for s in stories[:1])
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{COLUMNS[column]}_潮州库</title></head>
<body><div class="location"><a href="/">首页</a> &gt; <a href="/cz/">潮州库</a> &gt; {COLUMNS[column]}</div>
<ul class="list">{items}</ul>{dupes}<div class="pager">{pager}</div>
<a href="https://elsewhere.example/cz/llwzllzz/content/post_9.html">站外文章</a>
<a href="/zh/llwzllzz/">珠海库</a>
<div class="footer"><span>指导单位：中共广东省委宣传部</span><span>建设单位：南方新闻网</span></div></body></html>"""


def home_html() -> str:
    links = "".join(f'<li><a href="/cz/{code}/">{name}</a></li>' for code, name in COLUMNS.items())
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>潮州库</title></head><body>
<div class="location"><a href="/">首页</a> &gt; 潮州库</div><ul class="columns">{links}</ul>
<div class="footer"><span>指导单位：中共广东省委宣传部</span></div></body></html>"""


@dataclass
class Collection:
    per_page: int = 5
    stories: dict[str, list[Story]] = field(default_factory=dict)  # newest first per column
    next_id: int = 100000

    def add(self, column: str, count: int, year: int = 2020, layout: str = "v1",
            authorless: int = 0) -> list[Story]:
        """Add count stories, newest first; the first `authorless` of them carry no author line."""
        made = []
        for _ in range(count):
            self.next_id += 1
            n = self.next_id
            story = Story(column, n, f"潮州理论文章第{n}号 强化机关政治建设",
                          f"{year}-10-{1 + n % 28:02d} 11:{n % 60:02d}:14",
                          [f"第{n}篇。开展机关党建工作，一定要把党的政治建设摆在首位，发挥统领作用。",
                           f"总书记指出，党的政治建设是根本性建设，编号{n}，沿着正确的政治方向前进。"],
                          author=None if len(made) < authorless else "测试作者", layout=layout)
            self.stories.setdefault(column, []).insert(0, story)
            made.append(story)
        return made

    def all_stories(self) -> list[Story]:
        return [s for stories in self.stories.values() for s in stories]

    def publish(self, server: SiteServer, robots: str = "User-agent: *\nDisallow: /cz/private/\n") -> None:
        """(Re)build every route on the server from the current stories."""
        server.route("/robots.txt", Reply(200, robots.encode(), {"Content-Type": "text/plain"}))
        server.route("/cz/", Reply.html(home_html()))
        for column, stories in self.stories.items():
            pages = max(1, -(-len(stories) // self.per_page))
            for page in range(1, pages + 1):
                chunk = stories[(page - 1) * self.per_page: page * self.per_page]
                html = Reply.html(listing_html(column, chunk, page, pages))
                server.route(f"/cz/{column}/" if page == 1 else f"/cz/{column}/index_{page}.html", html)
                if page == 1:
                    server.route(f"/cz/{column}/index.html", html)
            for story in stories:
                server.route(story.path, Reply.html(article_html(story)))
