"""Docs and CLI stay together: every command has help text and the README names it."""
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from shadowmap.cli import SUBCOMMANDS, main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def walk(command: click.Command, path: tuple[str, ...]):
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            yield from walk(command.get_command(ctx, name), path + (name,))


ALL = list(walk(main, ("shadowmap",)))


@pytest.mark.parametrize("path, command", ALL, ids=[" ".join(p) for p, _ in ALL])
def test_every_command_has_help(path, command):
    assert (command.help or command.short_help or "").strip(), f"{' '.join(path)} has no help text"
    result = CliRunner().invoke(main, [*path[1:], "--help"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_readme_documents_each_command(name):
    assert f"shadowmap {name}" in README
