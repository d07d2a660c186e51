"""Docs that fail a test when they drift: the generated reference pages (docs/cli.md,
routes.md, agent-settings.md, events.md) must be what `make docs` writes from the code
now, and every command must have help text for them to show."""
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from shadowmap import devdocs
from shadowmap.cli import main

ROOT = Path(__file__).resolve().parent.parent
ALL = list(devdocs.walk_cli(main, click.Context(main, info_name="shadowmap")))


def test_generated_docs_are_up_to_date():
    assert devdocs.stale() == [], "generated docs are out of date: run `make docs` and commit docs/"


@pytest.mark.parametrize("ctx, command", ALL, ids=[ctx.command_path for ctx, _ in ALL])
def test_every_command_has_help(ctx, command):
    assert (command.help or command.short_help or "").strip(), f"{ctx.command_path} has no help text"
    result = CliRunner().invoke(main, [*ctx.command_path.split()[1:], "--help"])
    assert result.exit_code == 0, result.output


def test_every_command_and_option_is_in_the_cli_reference():
    reference = (ROOT / "docs" / "cli.md").read_text()
    for ctx, command in ALL:
        assert f"## {ctx.command_path}\n" in reference or ctx.command_path == "shadowmap"
        for param in command.params:
            for opt in getattr(param, "opts", ()):
                if opt.startswith("-"):
                    assert opt in reference, f"{ctx.command_path} {opt} missing from docs/cli.md"


def test_readme_points_at_the_cli_reference():
    assert "docs/cli.md" in (ROOT / "README.md").read_text()


def test_check_names_a_stale_page_and_says_how_to_fix_it(tmp_path, monkeypatch, capsys):
    (tmp_path / "cli.md").write_text("stale\n")  # the others are missing: stale too
    monkeypatch.setattr(devdocs, "DOCS", tmp_path)
    assert devdocs.main(["--check"]) == 1
    message = capsys.readouterr().err
    assert "docs/cli.md" in message and "run `make docs`" in message
    assert devdocs.stale() == list(devdocs.PAGES)
    assert devdocs.main([]) == 0 and devdocs.stale() == []
