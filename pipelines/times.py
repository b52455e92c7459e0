"""Time, written one way: every moment the archive stores is UTC text to the second, ``2020-10-13T03:13:14Z``.

One spelling and one precision, so that times from the clock, from WARC-Date headers (with or without fractions)
and from saved files compare correctly as text, which is how SQLite compares them. Publication times are another
matter: they are China time (``CHINA``) and as precise as the page printed them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

CHINA = timezone(timedelta(hours=8))
_FOURTEEN_DIGITS = re.compile(r"^\d{14}$")  # the ARC and CDX spelling: 20201013031314


def utc_text(moment: datetime) -> str:
    """A moment in the archive's spelling; a naive datetime is taken to be UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    m = moment.astimezone(UTC)
    # Not strftime: it writes the year 999 as "999", which sorts after "2020" as text.
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


def utc_now() -> str:
    return utc_text(datetime.now(UTC))


def utc_later(seconds: float) -> str:
    return utc_text(datetime.now(UTC) + timedelta(seconds=seconds))


def utc_from_text(value: str | None) -> str | None:
    """A WARC-Date (ISO 8601, with or without fractions), an HTTP date or a 14-digit timestamp in the archive's
    spelling; None for None and for text that is no time at all (never stored as if it were one)."""
    moment = parse_time(value)
    return utc_text(moment) if moment is not None else None


def parse_time(value: str | None) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        if _FOURTEEN_DIGITS.match(value):
            return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
