"""Every command and option is documented in the README, and the README's set-up commands are what CI runs."""

import re
from pathlib import Path

import click
import pytest

from scraper.cli import cli

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands():
    return sorted(cli.commands.items())


@pytest.mark.parametrize("name,command", commands())
def test_command_is_documented(name, command):
    assert f"scraper {name}" in README, f"`scraper {name}` is missing from the README"


@pytest.mark.parametrize("name,option", [
    (name, opt) for name, command in commands() for param in command.params
    if isinstance(param, click.Option) for opt in param.opts if opt.startswith("--") and opt != "--help"
])
def test_option_is_documented(name, option):
    section = README.split(f"### `scraper {name}`", 1)
    assert len(section) == 2, f"the README has no section for `scraper {name}`"
    body = section[1].split("\n### ", 1)[0]
    assert option in body, f"`scraper {name} {option}` is missing from its README section"


def test_ci_runs_the_readme_install_and_test_commands():
    blocks = re.findall(r"```bash\n(.*?)\n```", README, re.S)
    install, test = blocks[0], blocks[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -e '.[test]'" in install and "pip install -e '.[test]'" in ci
    assert install.split("&&")[-1].strip() == "scraper crawl", "the first command runs the main job"
    assert test.split("&&")[-1].strip() in ci
