"""What the commands print beside their results: an article as text, and the status line of a running job."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from pipelines.item import Article


def format_text(article: Article) -> str:
    out = []
    for key, value in article.to_dict().items():
        if key in ("paragraphs", "images", "field_rules"):
            continue
        if isinstance(value, list):
            value = " / ".join(value) if value else "-"
        out.append(f"{key:>16}: {value if value not in (None, '') else '-'}")
    for image in article.images:
        out.append(f"{'image':>16}: {image.url}" + (f"  ({image.caption})" if image.caption else ""))
    out.append("")
    headings = set(article.headings)
    for paragraph in article.paragraphs:
        out.append(f"## {paragraph}" if paragraph in headings else paragraph)
        out.append("")
    return "\n".join(out)


def progress_printer() -> Callable[[str | None], None]:
    """One updating status line on a terminal; plain log lines otherwise (cron mail, CI logs)."""
    tty = sys.stderr.isatty()
    count = [0]

    def show(message):
        if message is None:
            if tty and count[0]:
                click.echo("", err=True)
            return
        count[0] += 1
        if tty:
            click.echo(f"\r\033[K[{count[0]}] {message[:100]}", err=True, nl=False)
        else:
            click.echo(f"[{count[0]}] {message}", err=True)

    return show
