"""Quick commands start quickly: the CLI imports a command's module only when it runs, and
the modules behind `--help`, `validate` and `templates list` do not import the engine's
numpy or the report's jinja2 (a property; the timings are in the lead's report)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "shop.yaml"
HEAVY = ("numpy", "jinja2")

PROBE = """
import sys
from scalesim.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    print("LOADED", sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""


def _loaded(*args: str) -> list[str]:
    run = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
                         capture_output=True, text=True, check=False, timeout=120)
    line = next(x for x in run.stderr.splitlines() if x.startswith("LOADED"))
    return eval(line.removeprefix("LOADED "))  # a list literal printed above


def test_importing_the_cli_imports_no_command() -> None:
    code = ("import sys, scalesim.cli; print(sorted(m for m in sys.modules "
            "if m.startswith(('numpy', 'jinja2', 'pydantic', 'scalesim.'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert eval(out) == ["scalesim.cli"]


@pytest.mark.parametrize("args", [("--help",), ("validate", str(EXAMPLE)),
                                  ("templates", "list")])
def test_quick_commands_import_neither_numpy_nor_jinja2(args: tuple[str, ...]) -> None:
    assert _loaded(*args) == []


def test_the_listing_shows_each_command_s_own_summary() -> None:
    from scalesim.cli import COMMANDS, load_command

    for name, (_, _, listed) in COMMANDS.items():
        target = load_command(name)
        doc = target.info.help if hasattr(target, "info") else target.__doc__
        assert " ".join(doc.split("\n\n")[0].split()) == listed, name
