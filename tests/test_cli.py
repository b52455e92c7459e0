"""The `scraper` command line: output, exit codes, and one clear line for every bad input."""

import json
import subprocess
import sys

from click.testing import CliRunner

from scraper.cli import cli


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input)


def test_parse_sample_prints_utf8_json_with_every_key():
    result = run("parse", "--sample")
    assert result.exit_code == 0, result.output
    assert "\\u" not in result.stdout  # Chinese is written as UTF-8, not escaped
    article = json.loads(result.stdout)
    for key in ("url", "site", "extractor", "parser_version", "encoding", "encoding_source", "title",
                "subtitle", "published_at", "source", "authors", "editor", "breadcrumb", "headings",
                "paragraphs", "images", "warnings"):
        assert key in article
    assert article["title"] == "发挥政治统领作用 强化机关政治建设"


def test_parse_reads_stdin(tmp_path):
    sample = run("parse", "--sample").stdout
    page = (tmp_path / "p.html")
    from importlib import resources
    page.write_bytes(resources.files("scraper").joinpath("samples/reference-article.html").read_bytes())
    result = run("parse", "-", "--url", "https://gdxk.southcn.com/cz/llwzllzz/content/post_000001.html",
                 input=page.read_bytes())
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads(sample)


def test_parse_text_format_shows_fields_then_paragraphs():
    result = run("parse", "--sample", "--format", "text")
    assert result.exit_code == 0
    assert "published_at: 2020-10-13T11:13:14+08:00" in result.stdout
    assert "## 一、坚持政治机关站位，落实政治要求" in result.stdout


def test_not_an_article_exits_2_with_one_line(tmp_path):
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    result = run("parse", str(empty))
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "not an article" in result.stderr and "Traceback" not in result.output


def test_binary_body_is_not_an_article(tmp_path):
    png = tmp_path / "x.html"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    result = run("parse", str(png))
    assert result.exit_code == 2 and "binary" in result.stderr


def test_missing_file_and_directory_give_one_clear_line(tmp_path):
    missing = run("parse", str(tmp_path / "nope.html"))
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
    directory = run("parse", str(tmp_path))
    assert directory.exit_code == 2 and "is a directory" in directory.stderr
    assert "Traceback" not in missing.output + directory.output


def test_unknown_option_is_a_usage_error():
    result = run("parse", "--sample", "--no-such-option")
    assert result.exit_code == 2 and "No such option" in result.stderr


def test_console_script_is_installed():
    result = subprocess.run([sys.executable, "-m", "scraper", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and "scraper" in result.stdout


def test_a_saved_page_is_named_by_its_file_url_with_three_slashes(tmp_path, monkeypatch):
    """A page's URL is its file: URL (RFC 8089), from an absolute or a relative path: never `file:////…` nor
    one that names the file's folder as a host or drops it."""
    from importlib import resources
    from pathlib import Path

    folder = tmp_path / "saved pages"
    folder.mkdir()
    page = folder / "p.html"
    page.write_bytes(resources.files("scraper").joinpath("samples/reference-article.html").read_bytes())
    expected = page.resolve().as_uri()
    assert expected.startswith("file:///") and not expected.startswith("file:////")
    monkeypatch.chdir(folder)
    for path in (str(page), "p.html", str(Path("..") / "saved pages" / "p.html")):
        parsed = run("parse", path)
        assert parsed.exit_code == 0, parsed.output
        assert json.loads(parsed.stdout)["url"] == expected
        diagnosed = run("doctor", path)
        assert diagnosed.exit_code == 0, diagnosed.output
        assert diagnosed.stdout.splitlines()[0] == f"page: {expected}"
        assert "file:////" not in diagnosed.stdout


def test_every_command_names_its_own_argument_in_an_error(tmp_path):
    """`doctor TARGET` says TARGET, `parse PAGE` says PAGE: the name the usage line just showed."""
    for command, argument in (("parse", "PAGE"), ("doctor", "TARGET")):
        for path in (str(tmp_path), str(tmp_path / "missing.html")):
            result = run(command, path)
            assert result.exit_code == 2
            error = [line for line in result.stderr.splitlines() if line.startswith("Error")]
            assert len(error) == 1 and f"for {argument}:" in error[0] and path in error[0], result.stderr
            assert argument in result.stderr.splitlines()[0]  # the usage line
            other = {"PAGE", "TARGET"} - {argument}
            assert not any(name in error[0] for name in other)


def test_serve_on_a_taken_port_says_so_in_one_line(sample_archive):
    """A port another server listens on: one line naming the address and what to do, exit 1, through the
    installed command (uvicorn logged four lines of its own, then exited 1)."""
    import shutil
    import socket

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = subprocess.run([shutil.which("scraper"), "serve", "--db", str(sample_archive), "--port", str(port)],
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"Error: cannot listen on 127.0.0.1:{port}: Address already in use "
                                          "(another server is using it: stop it, or give --port)"]
