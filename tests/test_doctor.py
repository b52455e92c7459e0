"""`scraper doctor` on every fixture template: the template used and the rule behind every field found."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from tests.site_server import Reply

PAGES = Path(__file__).parent / "fixtures" / "pages"
FIXTURES = sorted(PAGES.glob("*.expected.json"))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("spec", FIXTURES, ids=lambda p: p.name.split(".")[0])
def test_doctor_names_template_and_rule_per_field(spec):
    fixture = load(spec)
    page = spec.with_name(spec.name.replace(".expected.json", ".html"))
    args = ["doctor", str(page), "--url", fixture["request"]["url"]]
    if fixture["request"].get("content_type"):
        args += ["--content-type", fixture["request"]["content_type"]]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "templates, in order tried:" in out and "body candidates" in out
    assert "does not match\n" in out and "(needs " in out  # says why a template did not match
    if fixture.get("not_an_article"):
        assert "not an article:" in out
        return
    expected = fixture["expected"]
    assert f"{expected['extractor']:<18} matches  <- used" in out
    for name in ("title", "published_at", "source", "authors", "breadcrumb", "paragraphs"):
        value = expected[name]
        block = out.split(f"\n  {name:<13} ", 1)[1].split("\n  ", 2)
        rule_line = block[1].strip()
        assert rule_line.startswith("rule: ")
        if value not in (None, []):
            assert rule_line != "rule: -", f"{name} has a value but no rule"
            assert ":" in rule_line[len("rule: "):], f"{name}: {rule_line}"


def test_doctor_fetches_a_url_politely(site):
    page = (PAGES / "gdxk-div-title.html").read_bytes()
    site.route("/robots.txt", Reply(404))
    site.route("/cz/llwzllzz/content/post_1.html", Reply(200, page, {"Content-Type": "text/html"}))
    result = CliRunner().invoke(cli, ["doctor", site.base + "/cz/llwzllzz/content/post_1.html"])
    assert result.exit_code == 0, result.output
    assert [h.path for h in site.hits] == ["/robots.txt", "/cz/llwzllzz/content/post_1.html"]
    assert "chaozhou-archive" in site.hits[1].headers["User-Agent"]
    assert "gdxk               matches  <- used" in result.stdout


def test_doctor_respects_robots(site):
    site.route("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /\n", {"Content-Type": "text/plain"}))
    result = CliRunner().invoke(cli, ["doctor", site.base + "/cz/a.html"])
    assert result.exit_code == 2 and "robots.txt does not allow" in result.stderr
    assert site.count("/cz/a.html") == 0
