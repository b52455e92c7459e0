"""One story as three sites publish it, and articles that only look alike: pages for the stories tests.

The copies are the reconstructed fixture pages of the reference article (tests/fixtures/README.md says what they
are) in three templates, each edited as a republication is: the 潮州库 page as is; the southcn.com page with a
sentence corrected and the channel's note after the body; the 南方+ page with its last paragraph cut.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.warc_helpers import HTML, REFERENCE_URL, reference_html

PAGES = Path(__file__).parent / "fixtures" / "pages"
SOUTHCN_PAGE = "southcn-shtml"
NFAPP_PAGE = "nfapp-reference-ms-epoch"
CORRECTED = ("必须坚决站稳政治立场。要站稳党性立场。", "必须始终站稳政治立场。首先要站稳党性立场。")
CUT = "<p>打造政治过硬党务队伍。"
CHANNEL_NOTE = ('<p style="text-indent: 2em;">更多精彩内容，请关注南方网潮州频道和“潮州发布”微信公众号，第一时间了解'
                '潮州本地新闻资讯。</p>')


def fixture_page(name: str) -> tuple[str, str | None, bytes]:
    request = json.loads((PAGES / f"{name}.expected.json").read_text("utf-8"))["request"]
    return request["url"], request["content_type"], (PAGES / f"{name}.html").read_bytes()


def story_copies() -> list[tuple[str, str, bytes]]:
    """(url, content type, page) of the three copies, earliest published first."""
    southcn_url, southcn_type, southcn = fixture_page(SOUTHCN_PAGE)
    old, new = (part.encode() for part in CORRECTED)
    first = southcn.index(b'<p style="text-indent: 2em;">')
    assert old in southcn[first:]
    southcn = southcn[:first] + southcn[first:].replace(old, new, 1)
    last = southcn.index(b"</p>", southcn.rindex(b'<p style="text-indent: 2em;">')) + 4
    southcn = southcn[:last] + CHANNEL_NOTE.encode() + southcn[last:]
    nfapp_url, nfapp_type, nfapp = fixture_page(NFAPP_PAGE)
    start = nfapp.index(CUT.encode())
    nfapp = nfapp[:start] + nfapp[nfapp.index(b"</p>", start) + 4:]
    return [(REFERENCE_URL, HTML, reference_html()), (nfapp_url, nfapp_type or HTML, nfapp),
            (southcn_url, southcn_type or HTML, southcn)]
