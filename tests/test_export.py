"""`scraper export` (streamed CSV, JSON, NDJSON) and `scraper serve` (real Datasette, options passed through)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from tests.browse_helpers import HOSTILE_URL, REFERENCE_URL


@pytest.fixture(scope="session")
def archive(sample_archive):
    return sample_archive


def run(*args) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout_bytes, result.stderr


def test_csv_to_stdout(archive):
    code, out, _ = run("export", "--db", str(archive))
    assert code == 0
    assert not out.startswith(b"\xef\xbb\xbf") and b"\r\n" not in out.split(b"\n", 1)[0]
    rows = list(csv.DictReader(io.StringIO(out.decode("utf-8"))))
    assert len(rows) == 6
    reference = next(r for r in rows if r["url"] == REFERENCE_URL)
    assert reference["title"] == "发挥政治统领作用 强化机关政治建设"
    assert reference["source"] == "潮州日报" and reference["authors"] == "魏界亮"
    assert reference["body"].startswith("开展机关党建工作") and reference["body"].count("\n") >= 10
    dates = [r["published_at"] for r in rows]
    assert dates == sorted(dates)  # publication order


def test_excel_csv_has_bom_crlf_and_no_live_formulas(archive, tmp_path):
    out = tmp_path / "articles.csv"
    code, stdout, stderr = run("export", "--db", str(archive), "--excel", "-o", str(out))
    assert code == 0 and stdout == b"" and "6 articles" in stderr
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,url,title,") and b"\r\n" in data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert "发挥政治统领作用 强化机关政治建设" in [r["title"] for r in rows]
    assert not any(value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())


def test_excel_neutralises_formulas():
    from pipelines.export import csv_cell

    assert csv_cell("=HYPERLINK(\"http://x\")", excel=True) == "'=HYPERLINK(\"http://x\")"
    assert csv_cell("-1", excel=True) == "'-1"
    assert csv_cell("=1+1", excel=False) == "=1+1"
    assert csv_cell(["张三", "李四"], excel=True) == "张三\n李四"


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_json_and_ndjson(archive, fmt):
    code, out, _ = run("export", "--db", str(archive), "--format", fmt)
    assert code == 0
    text = out.decode("utf-8")
    records = json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]
    assert len(records) == 6
    hostile = next(r for r in records if r["url"] == HOSTILE_URL)
    assert hostile["authors"] == ["张三"] and hostile["images"][0] == "javascript:window.__pwned=1"
    assert hostile["breadcrumb"] == ["首页", "潮州库", "理论文章、理论著作"]
    assert "恶意测试文章" in hostile["title"]  # stored text, exported as it is (not rendered)
    assert "\\u" not in text  # Chinese stays readable


def test_since(archive):
    code, out, _ = run("export", "--db", str(archive), "--format", "ndjson", "--since", "2020-10-14")
    assert code == 0
    dates = [json.loads(line)["published_at"] for line in out.decode().splitlines()]
    assert dates and all(d >= "2020-10-14" for d in dates)
    assert len(dates) == 2  # 2020-10-14 (the .shtml copy) and the 2021 hostile page
    code, out, _ = run("export", "--db", str(archive), "--format", "json", "--since", "2030")
    assert code == 0 and json.loads(out) == []


def test_bad_requests(archive, tmp_path):
    code, _, err = run("export", "--db", str(archive), "--since", "yesterday")
    assert code == 2 and "YYYY-MM-DD" in err
    code, _, err = run("export", "--db", str(archive), "--format", "json", "--excel")
    assert code == 2 and "--excel" in err
    code, _, err = run("export", "--db", str(tmp_path / "missing.db"))
    assert code == 1 and "does not exist" in err



@pytest.mark.parametrize("since", ["2020-13", "2020-00", "2020-02-30", "2021-02-29", "2020-04-31", "2020-01-00"])
def test_an_impossible_month_or_day_is_a_usage_error_naming_it(archive, since):
    """A date that matches YYYY-MM(-DD) but names no day would compare as text and quietly choose some rows."""
    code, out, err = run("export", "--db", str(archive), "--since", since)
    assert code == 2 and since in err and out == b""
    assert "Traceback" not in err and [line for line in err.splitlines() if line.startswith("Error")] == [
        err.strip().splitlines()[-1]]  # click's usage lines, then one error line


def test_every_real_date_is_accepted(archive):
    for since in ("2020-02-29", "2020-12", "2020-12-31", "0001"):
        code, _, err = run("export", "--db", str(archive), "--format", "json", "--since", since)
        assert code == 0, err

def test_export_streams(archive):
    """Rows are written as the cursor yields them: the first is out before the last is read."""
    import sqlite3

    from pipelines.export import export_articles

    class Watch(io.BytesIO):
        writes = 0

        def write(self, data):
            Watch.writes += 1
            return super().write(data)

    seen = []
    conn = sqlite3.connect(archive)
    out = Watch()
    count = export_articles(conn, out, "ndjson", progress=lambda n: seen.append(Watch.writes))
    assert count == 6 and seen == [1, 2, 3, 4, 5, 6]


def test_serve_runs_datasette_with_our_plugins(archive):
    code, out, _ = run("serve", "--db", str(archive), "--get", "/-/metadata.json")
    assert code == 0
    assert json.loads(out)["title"] == "潮州库档案 · Chaozhou Archive"
    code, out, _ = run("serve", "--db", str(archive), "--get", "/-/settings.json")
    settings = json.loads(out)
    assert settings["max_csv_mb"] == 0  # all rows of a large archive stream as CSV
    assert settings["truncate_cells_html"] == 200 and settings["sql_time_limit_ms"] == 5000
    # Any Datasette option passes through, and the user's setting wins over ours.
    code, out, _ = run("serve", "--db", str(archive), "--setting", "max_csv_mb", "50", "--get", "/-/settings.json")
    assert code == 0 and json.loads(out)["max_csv_mb"] == 50


def test_serve_refuses_immutable_and_missing_files(archive, tmp_path):
    code, _, err = run("serve", "--db", str(archive), "-i", str(archive))
    assert code == 2 and "WAL" in err
    code, _, err = run("serve", "--db", str(tmp_path / "missing.db"))
    assert code == 1 and "does not exist" in err
