"""Every option of every command is in docs/cli.md, in that command's section or a doc the
section links (lint.md, catalog.md, …): `--version`, lint's `--ignore`, `new --force`,
`--no-force` and import helm's `-f` were in --help only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.core import TyperOption

from scalesim.cli import COMMANDS, app, click_command

DOCS = Path(__file__).parents[2] / "docs"
CLI = (DOCS / "cli.md").read_text(encoding="utf-8")


def _section(command: str) -> str:
    """The `## ` sections of cli.md whose heading names `scalesim COMMAND`."""
    parts = re.split(r"^(?=## )", CLI, flags=re.M)
    found = [part for part in parts if re.match(rf"## .*`scalesim {command}\b|## .*`scalesim "
                                                rf"[a-z]+ …` and `scalesim {command}`", part)]
    assert found, f"docs/cli.md has no section for `scalesim {command}`"
    return "\n".join(found)


def _with_links(section: str) -> str:
    """The section and the docs it links to."""
    linked = dict.fromkeys(re.findall(r"\]\(([a-z0-9_-]+\.md)(?:#[^)]*)?\)", section))
    return "\n".join([section, *((DOCS / name).read_text(encoding="utf-8")
                                 for name in linked)])


def _named(option: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


def _options(command: typer.core.TyperCommand) -> list[str]:
    return [name for param in command.params if isinstance(param, TyperOption)
            for name in (*param.opts, *param.secondary_opts) if name != "--help"]


def _commands() -> list[tuple[str, str, typer.core.TyperCommand]]:
    """(command, section to look in, click command) for every command and subcommand."""
    found = []
    for name in COMMANDS:
        command = click_command(name)
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            found.append((name, name, command))
        else:
            found += [(f"{name} {sub}", name, subcommands[sub]) for sub in subcommands]
    return found


@pytest.mark.parametrize(("label", "section", "command"), [
    pytest.param(*found, id=found[0]) for found in _commands()])
def test_every_option_is_documented(label: str, section: str,
                                    command: typer.core.TyperCommand) -> None:
    text = _with_links(_section(section))
    assert [o for o in _options(command) if not _named(o, text)] == [], label


def test_the_root_options_are_documented() -> None:
    root = typer.main.get_command(app)
    assert [o for o in _options(root) if not _named(o, CLI)] == []
