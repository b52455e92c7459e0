"""Site rules a user writes without code (scraper.rules): a field pinned to a CSS selector in a TOML file, per host
or URL pattern, tried before the built-in rules, through parse, doctor, crawl, import and reparse.

The page below is a reconstruction, written for these tests: an outlet name that stands alone in a side box, far
from the headline and the body, with no label and no metadata, which no built-in rule can take for the source.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from scraper.rules import load_rules
from tests.site_server import Reply

PARAGRAPH = ("潮州古城修缮工程近日全面完工，牌坊街沿线二十余处历史建筑恢复了原有风貌，"
             "工程历时两年，采用传统工艺与现代技术相结合的方式进行，市民和游客纷纷前来参观。")
PAGE = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>潮州古城修缮工程完工</title></head><body>
<div class="nav"><a href="/">首页</a> <a href="/news/">新闻</a></div>
<h1 class="headline">潮州古城修缮工程完工</h1>
<div class="meta"><span class="time">2024-03-05 10:20</span></div>
<div class="content">{"".join(f"<p>{PARAGRAPH}（{i}）</p>" for i in range(6))}</div>
<div class="side"><div class="origin-box"><em class="origin">潮州日报社</em></div></div>
<div class="footer">网站地图 | 联系我们</div>
</body></html>"""
ARTICLE_PATH = "/news/2024/0305/a1.html"
STORED = "select s.name, a.field_rules from articles a left join sources s on s.id = a.source_id"
RULES = '["loopback news"]\nhost = "127.0.0.1"\nsource = "em.origin"\n'


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def parse_json(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["parse", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def page_file(tmp_path) -> Path:
    return write(tmp_path / "page.html", PAGE)


def test_parse_with_rules_pins_the_source_the_built_in_rules_miss(tmp_path, page_file):
    url = "http://127.0.0.1:8000" + ARTICLE_PATH
    plain = parse_json(str(page_file), "--url", url)
    assert plain["source"] is None  # what the rules file is for
    rules = write(tmp_path / "site.toml", RULES)
    pinned = parse_json(str(page_file), "--url", url, "--rules", str(rules))
    assert pinned["source"] == "潮州日报社"
    assert pinned["field_rules"]["source"] == "rule:site.toml:loopback news"
    assert "source: not found" not in pinned["warnings"]
    # Only the pinned field changes: the rest is what the built-in rules found.
    for name in ("title", "published_at", "authors", "paragraphs"):
        assert pinned[name] == plain[name], name


@pytest.mark.parametrize("where", ['host = "news.example.com"', 'url = "http://127.0.0.1:*/other/*"',
                                   'host = "127.0.0.1"\nurl = "https://*"'])
def test_a_rule_for_another_site_or_path_does_not_apply(tmp_path, page_file, where):
    rules = write(tmp_path / "rules.toml", f'["other"]\n{where}\nsource = "em.origin"\ntitle = "div.footer"\n')
    article = parse_json(str(page_file), "--url", "http://127.0.0.1:8000" + ARTICLE_PATH, "--rules", str(rules))
    assert article["source"] is None and article["title"] == "潮州古城修缮工程完工"
    assert not any(rule.startswith("rule:") for rule in article["field_rules"].values())


def test_a_url_pattern_rule_applies_and_pins_date_from_an_attribute_and_the_body(tmp_path, page_file):
    html = PAGE.replace('<span class="time">2024-03-05 10:20</span>',
                        '<span class="time" data-time="2024-03-05 10:20:31">三月五日</span>')
    html = html.replace('<div class="side">', f'<div class="side"><p>{PARAGRAPH}（侧栏）</p>')
    rules = write(tmp_path / "r.toml", '["news pages"]\nurl = "http://127.0.0.1:*/news/*"\n'
                                       'published_at = { selector = "span.time", attribute = "data-time" }\n'
                                       'body = "div.content"\nauthors = "div.nav"\ntitle = "h2.nowhere"\n')
    article = parse_json(str(write(page_file, html)), "--url", "http://127.0.0.1:8000" + ARTICLE_PATH,
                         "--rules", str(rules))
    assert article["published_at"] == "2024-03-05T10:20:31+08:00"
    assert len(article["paragraphs"]) == 6 and "侧栏" not in "".join(article["paragraphs"])
    assert article["field_rules"]["published_at"] == article["field_rules"]["paragraphs"] == "rule:r.toml:news pages"
    assert article["authors"] == ["首页", "新闻"]  # the user's rule is taken as written, however odd
    # A selector that matches nothing leaves the field to the built-in rules.
    assert article["title"] == "潮州古城修缮工程完工" and not article["field_rules"]["title"].startswith("rule:")


def test_a_crawl_with_rules_stores_the_pinned_source_and_the_rule(site, crawl, tmp_path, db_path):
    site.route("/robots.txt", Reply(404))
    site.route(ARTICLE_PATH, Reply.html(PAGE))
    result = crawl(site, site.base + ARTICLE_PATH, rules=load_rules(write(tmp_path / "site.toml", RULES)),
                   drift_check=False)
    assert result.counts.new == 1, result.errors
    with sqlite3.connect(db_path) as conn:
        source, rules = conn.execute(STORED).fetchone()
    assert source == "潮州日报社" and json.loads(rules)["source"] == "rule:site.toml:loopback news"


def test_rules_toml_beside_the_archive_is_used_by_import_and_reparse(site, crawl, tmp_path, db_path, page_file):
    site.route("/robots.txt", Reply(404))
    site.route(ARTICLE_PATH, Reply.html(PAGE))
    crawl(site, site.base + ARTICLE_PATH, drift_check=False)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute(STORED).fetchone()[0] is None
    write(db_path.parent / "rules.toml", RULES)
    result = CliRunner().invoke(cli, ["reparse", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db_path) as conn:
        source, rules = conn.execute(STORED).fetchone()
    assert source == "潮州日报社" and json.loads(rules)["source"] == "rule:rules.toml:loopback news"

    other = tmp_path / "other" / "archive.db"
    other.parent.mkdir()
    write(other.parent / "rules.toml", RULES.replace("em.origin", "div.nav a"))
    result = CliRunner().invoke(cli, ["import", str(page_file), "--url", site.base + ARTICLE_PATH,
                                      "--db", str(other), "--no-drift-check"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(other) as conn:
        assert conn.execute(STORED).fetchone()[0] == "首页"


BAD_FILES = {
    "not-toml": ('["a"]\nhost = "127.0.0.1"\nsource = span.origin\n', "not valid TOML"),
    "unknown-field": ('["site a"]\nhost = "127.0.0.1"\nsorce = "em.origin"\n', "rule 'site a': 'sorce' is not a field"),
    "bad-selector": ('["site a"]\nhost = "127.0.0.1"\nsource = "span:-soup-contains("\n',
                     "rule 'site a': source: the selector"),
    "no-where": ('["site a"]\nsource = "em.origin"\n', "rule 'site a': says neither host"),
    "outside-a-rule": ('source = "em.origin"\n', "stands outside a rule"),
}


@pytest.mark.parametrize("name", BAD_FILES)
@pytest.mark.parametrize("command", ["parse", "doctor", "crawl", "import", "reparse"])
def test_a_bad_rules_file_is_one_line_and_exit_code_2(tmp_path, page_file, name, command):
    text, says = BAD_FILES[name]
    rules = write(tmp_path / "bad.toml", text)
    db = str(tmp_path / "archive.db")
    args = {"parse": [str(page_file)], "doctor": [str(page_file)], "crawl": ["http://127.0.0.1:9/", "--db", db],
            "import": [str(page_file), "--db", db], "reparse": ["--db", db]}[command]
    result = CliRunner().invoke(cli, [command, *args, "--rules", str(rules)])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert result.stderr.startswith(f"Error: {rules}: ") and says in result.stderr, result.stderr
    assert not Path(db).exists()  # refused before anything was opened


def test_doctor_prints_a_selector_per_field_and_a_rules_file_that_parses_the_page_the_same(tmp_path, page_file):
    url = "http://127.0.0.1:8000" + ARTICLE_PATH
    rules = write(tmp_path / "site.toml", RULES)
    result = CliRunner().invoke(cli, ["doctor", str(page_file), "--url", url, "--rules", str(rules)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    pins = out.split("selectors a user could pin", 1)[1].split("\n\n", 1)[0]
    for name in ("title", "published_at", "source", "body"):
        assert f"\n  {name:<13} " in pins and f"\n  {name:<13} -" not in pins, pins
    assert "\n  source        em.origin" in pins
    suggested = write(tmp_path / "suggested.toml", out[out.index('\n["'):])
    shown = parse_json(str(page_file), "--url", url, "--rules", str(rules))
    again = parse_json(str(page_file), "--url", url, "--rules", str(suggested))
    assert set(again["field_rules"].values()) >= {"rule:suggested.toml:127.0.0.1"}
    for article in (shown, again):
        article.pop("field_rules")
    assert again == shown


FIXTURES = Path(__file__).parent / "fixtures" / "pages"


@pytest.mark.parametrize("spec", sorted(FIXTURES.glob("*.expected.json")), ids=lambda p: p.name.split(".")[0])
def test_doctors_rules_file_parses_every_fixture_page_as_shown(tmp_path, spec):
    fixture = json.loads(spec.read_text(encoding="utf-8"))
    if fixture.get("not_an_article"):
        pytest.skip("not an article: nothing to pin")
    page = str(spec.with_name(spec.name.replace(".expected.json", ".html")))
    args = ["--url", fixture["request"]["url"]]
    if fixture["request"].get("content_type"):
        args += ["--content-type", fixture["request"]["content_type"]]
    out = CliRunner().invoke(cli, ["doctor", page, *args]).stdout
    suggested = write(tmp_path / "suggested.toml", out[out.index('\n["'):])
    shown, again = parse_json(page, *args), parse_json(page, *args, "--rules", str(suggested))
    assert any(rule.startswith("rule:suggested.toml:") for rule in again["field_rules"].values())
    for article in (shown, again):
        article.pop("field_rules")
    assert again == shown


def test_a_page_no_rule_applies_to_is_never_given_to_beautifulsoup(tmp_path, monkeypatch):
    import scraper.rules
    from scraper.parse import extract_article, read_page

    def refuse(page):
        raise LookupError("BeautifulSoup was asked to read the page")

    monkeypatch.setattr(scraper.rules, "soup_of", refuse)
    url = "http://127.0.0.1:8000" + ARTICLE_PATH
    other = load_rules(write(tmp_path / "rules.toml", '["other"]\nhost = "news.example.com"\nsource = "em.origin"\n'))
    assert extract_article(read_page(PAGE.encode(), url), other).source is None
    with pytest.raises(LookupError, match="BeautifulSoup"):  # and a rule that applies does ask for it
        extract_article(read_page(PAGE.encode(), url), load_rules(write(tmp_path / "site.toml", RULES)))
