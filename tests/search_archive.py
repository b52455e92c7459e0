"""An archive written for the readers' search page tests: a story in three copies, words, phrases, full-width text,
a hostile title and body, and enough articles on one word for two pages. Stored through the pipelines.

Story ids are set here, after storing: whatever store-time linking does, these tests see the stories they name.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.item import Article, Capture, Kind, Outcome
from pipelines.run import Run
from pipelines.schema import open_archive

BASE = "https://gdxk.southcn.com/cz/llwzllzz/content/post_{}.html"
# Characters for filler text: each filler a different random draw, so no two articles are near copies, and none of
# the characters the tests search for, so no filler matches by chance.
SEARCHED = set("党建疫情政治设乡村振兴恶意不存在短语潮汕全角字母")
COMMON = ("的一是在了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多"
          "定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因"
          "由其些然前外天四日那社事平形相全表间样与关各重线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意月"
          "公无系军很者最立代想已通并提直题程展五果料象员革位入常文总次品式活及管特件长求老头基资边流路级少图山统接知较将")
FILLER_CHARS = "".join(c for c in COMMON if c not in SEARCHED)


@dataclass
class Spec:
    key: str
    title: str
    body: list[str]
    published_at: str
    source: str
    column: str
    authors: list[str] = field(default_factory=list)


def filler(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(FILLER_CHARS) for _ in range(n)) + "。"


def specs() -> list[Spec]:
    rng = random.Random(14)
    story = ["开展机关党建工作，一定要把党的政治建设摆在首位。" + filler(rng, 60),
             "各级党组织要把党建工作同疫情防控结合起来。" + filler(rng, 60)]
    out = [
        # One story in three copies: the first has the word in its title (most relevant), the third is newest.
        Spec("story_a", "扎实推进机关党建", story, "2021-03-01T09:00:00+08:00", "潮州日报", "理论文章",
             ["王伟"]),
        Spec("story_b", "推进机关工作的思考", story, "2021-03-05T09:00:00+08:00", "南方日报", "理论文章",
             ["王伟"]),
        Spec("story_c", "机关工作札记", story, "2022-01-10T09:00:00+08:00", "南方+", "理论",
             ["王伟", "李娜"]),
        Spec("epidemic", "疫情防控一线纪实", ["全市上下抗击疫情。" + filler(rng, 80)],
             "2020-02-01T10:00:00+08:00", "潮州日报", "大事记", ["李娜"]),
        Spec("phrase", "论政治建设", ["必须坚持政治建设，把政治建设摆在首位。" + filler(rng, 80)],
             "2019-07-01T10:00:00+08:00", "潮州日报", "理论文章", ["陈明"]),
        Spec("apart", "建设与政治", ["基层建设离不开政治引领，两者缺一不可。" + filler(rng, 80)],
             "2018-07-01T10:00:00+08:00", "南方日报", "理论文章", ["陈明"]),
        Spec("fullwidth", "全角字母的文章", ["会议代号为ＡＢＣ２０２０，在潮州举行。" + filler(rng, 80)],
             "2017-05-01T10:00:00+08:00", "潮州日报", "大事记"),
        Spec("hostile", "<script>window.__pwned=1</script>恶意标题", [
            '<img src=x onerror="window.__pwned=1">恶意正文<b>加粗</b> & 潮汕。' + filler(rng, 40)],
             "2016-05-01T10:00:00+08:00", "<b>来源</b>", "<i>栏目</i>", ["<u>作者</u>"]),
    ]
    for n in range(25):  # 25 stories on 乡村振兴: two pages of 20
        out.append(Spec(f"rural_{n}", f"乡村振兴第{n + 1}篇", [f"乡村振兴的第{n + 1}个案例。" + filler(rng, 100)],
                        f"{2000 + n}-06-01T08:00:00+08:00", "潮州日报", "理论文章", ["赵强"]))
    return out


def make_search_archive(directory: Path) -> tuple[Path, dict[str, int]]:
    """archive.db in directory, and each article's id by its key."""
    path = directory / "archive.db"
    db = open_archive(path)
    run = Run(db, None, None)
    for n, spec in enumerate(specs()):
        url = BASE.format(f"{n:06d}")
        article = Article(url=url, site="gdxk.southcn.com", extractor="gdxk", parser_version="1", encoding="utf-8",
                          title=spec.title, published_at=spec.published_at, source=spec.source,
                          authors=spec.authors, collection="潮州库", column=spec.column, paragraphs=spec.body)
        capture = Capture(record_id=f"<urn:search-test:{n}>", url=url, fetched_at="2026-01-01T00:00:00Z",
                          status=200, content_type="text/html; charset=utf-8")
        assert run.record(Outcome(Kind.ARTICLE, article=article), [capture]) is not None, spec.key
    ids = {spec.key: db.execute("select id from articles where url = ?", [BASE.format(f"{n:06d}")]).fetchone()[0]
           for n, spec in enumerate(specs())}
    with db.atomic():
        db.execute("update articles set story_id = null")
        db.execute("delete from stories")
        db.execute("insert into stories (id, title, published_at, article_count) values (7, ?, ?, 3)",
                   ["扎实推进机关党建", "2021-03-01T09:00:00+08:00"])
        for key in ("story_a", "story_b", "story_c"):
            db.execute("update articles set story_id = 7 where id = ?", [ids[key]])
    db.close()
    return path, ids
