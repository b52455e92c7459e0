"""Time, written one way: every moment the archive stores is UTC text to the second, ``2020-10-13T03:13:14Z``.

One spelling and one precision, so that times from the clock, from WARC-Date headers (with or without fractions)
and from saved files compare correctly as text, which is how SQLite compares them. Publication times are another
matter: they are China time (``CHINA``) and as precise as the page printed them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))
FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_text(moment: datetime) -> str:
    """A moment in the archive's spelling; a naive datetime is taken to be UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(FORMAT)


def utc_now() -> str:
    return utc_text(datetime.now(UTC))


def utc_later(seconds: float) -> str:
    return utc_text(datetime.now(UTC) + timedelta(seconds=seconds))


def utc_from_text(value: str | None) -> str | None:
    """Any ISO 8601 / WARC-Date text in the archive's spelling (None stays None; unreadable text is kept as is)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return value
    return utc_text(moment)
