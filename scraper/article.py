"""The Article: everything the parser gives for one page, as plain data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Image:
    url: str
    caption: str | None = None


@dataclass
class Article:
    url: str
    site: str | None = None
    extractor: str | None = None
    parser_version: str | None = None
    encoding: str | None = None
    encoding_source: str | None = None
    title: str | None = None
    subtitle: str | None = None
    published_at: str | None = None
    source: str | None = None
    authors: list[str] = field(default_factory=list)
    editor: str | None = None
    breadcrumb: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Which rule found each field ("template:…", "anchor:…", "meta:…", "generic:…"): what drift
    # detection and `scraper doctor` read to tell a template that still matches from one that quietly fell back.
    field_rules: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Article:
        data = dict(data)
        data["images"] = [Image(**img) for img in data.get("images") or []]
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def body(self) -> str:
        return "\n".join(self.paragraphs)
