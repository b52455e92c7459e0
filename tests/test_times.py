"""One spelling of a moment: UTC to the second, whatever the source wrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pipelines.times import utc_from_text, utc_text


@pytest.mark.parametrize(("text", "expected"), [
    ("2020-10-13T03:13:14Z", "2020-10-13T03:13:14Z"),
    ("2020-10-13T03:13:14.123456Z", "2020-10-13T03:13:14Z"),  # a WARC 1.1 date with fractions
    ("2020-10-13T11:13:14+08:00", "2020-10-13T03:13:14Z"),
    ("2020-10-13T03:13:14", "2020-10-13T03:13:14Z"),  # no zone: UTC, as WARC-Date is
    ("20201013031314", "2020-10-13T03:13:14Z"),  # ARC and CDX timestamps
    ("Tue, 13 Oct 2020 03:13:14 GMT", "2020-10-13T03:13:14Z"),  # an HTTP date
    ("0999-10-13T03:13:14Z", "0999-10-13T03:13:14Z"),  # four digits, so that it sorts as text
    ("yesterday", None), ("", None), (None, None),  # never stored as if it were a time
])
def test_times_are_utc_to_the_second(text, expected):
    assert utc_from_text(text) == expected


def test_a_moment_in_any_zone_is_written_in_utc():
    china = timezone(timedelta(hours=8))
    assert utc_text(datetime(2020, 10, 13, 11, 13, 14, 999999, tzinfo=china)) == "2020-10-13T03:13:14Z"
    assert utc_text(datetime(2020, 10, 13, 3, 13, 14)) == "2020-10-13T03:13:14Z"
    assert utc_text(datetime(2020, 10, 13, 3, 13, 14, tzinfo=UTC)) < utc_text(datetime(2020, 10, 13, 3, 13, 15))
