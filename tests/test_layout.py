"""The shape the README promises, checked against the code: packages that depend one way, every Datasette plugin
in browse/, a dependency list that is exactly what the code imports, one version, no ``assert`` for validation."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

import scraper
from scraper.cli import cli

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("scraper", "pipelines", "browse")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """(top-level module, line, whether the import sits inside a function) for every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                found.extend((alias.name.split(".")[0], child.lineno, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.append((child.module.split(".")[0], child.lineno, in_function))
            visit(child, inside)

    visit(tree, False)
    return found


@pytest.mark.parametrize("package", ["pipelines", "browse"])
def test_pipelines_and_browse_never_import_the_scraper(package):
    wrong = [f"{p.relative_to(ROOT)}:{line}" for p in modules(package) for name, line, _ in imports(p)
             if name == "scraper"]
    assert wrong == [], "scraper -> pipelines <- browse: these import the scraper"


def test_nothing_imports_browse():
    wrong = [f"{p.relative_to(ROOT)}:{line}" for package in ("scraper", "pipelines") for p in modules(package)
             for name, line, _ in imports(p) if name == "browse"]
    assert wrong == []


def test_pipelines_and_browse_import_their_own_modules_at_the_top():
    """An import hidden inside a function is how a cycle between packages hides; there is none to hide."""
    hidden = [f"{p.relative_to(ROOT)}:{line}" for package in ("pipelines", "browse") for p in modules(package)
              for name, line, in_function in imports(p) if in_function and name in PACKAGES]
    assert hidden == []


def test_every_datasette_plugin_is_in_browse():
    registering = {p.relative_to(ROOT).parts[0] for package in PACKAGES for p in modules(package)
                   if re.search(r"^from datasette import .*\bhookimpl\b", p.read_text(encoding="utf-8"), re.M)}
    assert registering == {"browse"}
    entry_points = PYPROJECT["project"]["entry-points"]["datasette"].values()
    assert all(target == "browse" or target.startswith("browse.") for target in entry_points), entry_points
    plugin_modules = {p.stem for p in modules("browse") if "@hookimpl" in p.read_text(encoding="utf-8")}
    assert plugin_modules <= {target.split(".")[-1] for target in entry_points}, "a plugin module is not registered"


def test_the_dependency_list_is_what_the_code_imports():
    distributions = importlib.metadata.packages_distributions()
    imported = {name for package in PACKAGES for p in modules(package) for name, _, _ in imports(p)
                if name not in sys.stdlib_module_names and name not in PACKAGES}
    needed = {distributions[name][0].lower().replace("_", "-") for name in imported}
    declared = {re.split(r"[<>=!~ \[]", spec)[0].lower() for spec in PYPROJECT["project"]["dependencies"]}
    assert declared == needed
    bounded = [spec for spec in PYPROJECT["project"]["dependencies"] if not ("<" in spec and ">=" in spec)]
    assert bounded == [], "every dependency has a lower and an upper bound"


def test_the_version_is_written_once():
    assert "version" not in PYPROJECT["project"] and "version" in PYPROJECT["project"]["dynamic"]
    assert importlib.metadata.version("chaozhou-archive") == scraper.__version__
    result = CliRunner().invoke(cli, ["--version"])
    assert result.output.strip().endswith(scraper.__version__)
    written = [p.relative_to(ROOT) for package in PACKAGES for p in modules(package)
               if re.search(rf"""["']{re.escape(scraper.__version__)}["']""", p.read_text(encoding="utf-8"))]
    assert written == [Path("scraper/__init__.py")]


def test_no_assert_in_the_packages():
    """Validation raises a named error: an ``assert`` is gone under ``python -O``."""
    found = [f"{p.relative_to(ROOT)}:{node.lineno}" for package in PACKAGES for p in modules(package)
             for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))) if isinstance(node, ast.Assert)]
    assert found == []


def test_gitignore_covers_every_file_a_run_leaves_beside_the_archive(tmp_path):
    """A user who keeps the archive in a git checkout sees none of the database's files as untracked: the
    database, its WAL, the WARC folder and the lock files a crawl takes (made here by the lock code itself)."""
    import shutil
    import subprocess

    from pipelines.lock import archive_lock
    from pipelines.schema import open_archive

    shutil.copy(ROOT / ".gitignore", tmp_path / ".gitignore")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    db_path = tmp_path / "archive.db"
    open_archive(str(db_path)).close()
    with archive_lock(db_path, "crawl", one_at_a_time=True):
        pass
    assert {p.name for p in tmp_path.iterdir()} >= {"archive.db", "archive.db.lock", "archive.db.crawl.lock"}
    status = subprocess.run(["git", "-C", str(tmp_path), "status", "--porcelain", "--untracked-files=all"],
                            capture_output=True, text=True, check=True).stdout.split("\n")
    assert [line for line in status if line and not line.endswith(".gitignore")] == []
