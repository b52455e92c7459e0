"""Which characters are Chinese (CJK): one definition for the parser, the search index and the search page.

Han ideographs in every block (the unified block, extension A and the supplementary planes), the compatibility
ideographs, 〇 and 々 (written in Chinese dates and words), and kana, which tokenizers glue into runs as they do
Han. Changing it changes how the search index tokenises text: bump ``pipelines.search.SEARCH_TEXT_VERSION``.
"""

from __future__ import annotations

import re

# The inside of a regular-expression character class: use as f"[{CJK}]" or f"[^{CJK}]".
CJK = "\u3005\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
CJK_CHAR = re.compile(f"[{CJK}]")


def count_cjk(text: str) -> int:
    return len(CJK_CHAR.findall(text))
