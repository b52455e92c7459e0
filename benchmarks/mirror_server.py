"""A local mirror of the 潮州库 for benchmarks/crawl.py, served from its own process on 127.0.0.1.

Builds a tests.collection.Collection (home, columns, paginated listings, articles) and serves it with
tests.site_server.SiteServer (http.server's ThreadingHTTPServer; every request is logged). Runs in a process of
its own so that its memory and CPU are not counted against the crawl being measured.

Control is one command a line on standard input, one JSON answer a line on standard output:

    add COLUMN N   add N new articles at the top of COLUMN, rebuild every route; answers the new paths and the
                   listing pages that hold them
    hits           every request seen so far: [path, conditional (If-None-Match / If-Modified-Since sent)]
    clear          forget the requests seen so far

End of input stops the server. The first line printed is {"base": "http://127.0.0.1:PORT"}.

    python benchmarks/mirror_server.py --articles 5000 --per-page 20
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.collection import COLUMNS, Collection  # noqa: E402
from tests.site_server import SiteServer  # noqa: E402

# Theory prose to bring each article to a realistic length (the real ones run to about 3,000 characters).
SENTENCES = [
    "坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻党的路线方针政策",
    "机关党建工作要围绕中心、建设队伍、服务群众，推动党建和业务深度融合",
    "基层党组织是党在社会基层组织中的战斗堡垒，是党的全部工作和战斗力的基础",
    "要把政治标准放在首位，教育引导党员干部增强“四个意识”、坚定“四个自信”",
    "潮州历史文化底蕴深厚，要在保护传承中推动优秀传统文化创造性转化、创新性发展",
    "乡村振兴要坚持农业农村优先发展，按照产业兴旺、生态宜居、乡风文明的总要求推进",
    "全面从严治党永远在路上，必须以钉钉子精神持之以恒正风肃纪反腐",
    "理论学习要联系实际、学以致用，在解决实际问题中检验学习成效",
]


def pad(collection: Collection, stories, paragraphs: int) -> None:
    """Bring each new story to `paragraphs` paragraphs of about 150 characters, all naming its number."""
    for story in stories:
        n = story.post_id
        extra = []
        for i in range(paragraphs - len(story.paragraphs)):
            picked = [SENTENCES[(n + i + k) % len(SENTENCES)] for k in range(4)]
            extra.append("；".join(picked) + f"。这是第{n}篇文章的第{i + 3}段，共{paragraphs}段。")
        story.paragraphs.extend(extra)


def listing_path(column: str, page: int) -> str:
    return f"/cz/{column}/" if page == 1 else f"/cz/{column}/index_{page}.html"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=5000, help="articles in all, split evenly over the columns")
    parser.add_argument("--per-page", type=int, default=20, help="articles per listing page")
    parser.add_argument("--paragraphs", type=int, default=20, help="paragraphs per article (~150 characters each)")
    args = parser.parse_args()

    collection = Collection(per_page=args.per_page)
    columns = list(COLUMNS)
    for i, column in enumerate(columns):
        count = args.articles // len(columns) + (1 if i < args.articles % len(columns) else 0)
        # Oldest first, a column at a time: Collection.add puts each new story at the top of its column.
        pad(collection, collection.add(column, count), args.paragraphs)

    with SiteServer() as server:
        # http.server writes the status line, headers and body in separate sends: with Nagle's algorithm on, each
        # keep-alive response then waits for the client's delayed ACK (about 40 ms a request on Linux).
        server.httpd.RequestHandlerClass.disable_nagle_algorithm = True
        collection.publish(server)
        print(json.dumps({"base": server.base, "articles": len(collection.all_stories())}), flush=True)
        for line in sys.stdin:
            command = line.split()
            if not command:
                continue
            if command[0] == "add":
                column, count = command[1], int(command[2])
                made = collection.add(column, count)
                pad(collection, made, args.paragraphs)
                collection.publish(server)
                positions = {collection.stories[column].index(s) for s in made}
                pages = sorted({listing_path(column, p // args.per_page + 1) for p in positions})
                answer = {"paths": [s.path for s in made], "listing_pages": pages}
            elif command[0] == "hits":
                with server._lock:
                    answer = [[h.path, any(k.lower() in ("if-none-match", "if-modified-since") for k in h.headers)]
                              for h in server.hits]
            elif command[0] == "clear":
                with server._lock:
                    server.hits.clear()
                answer = "ok"
            else:
                answer = {"error": f"unknown command {command[0]!r}"}
            print(json.dumps(answer, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
