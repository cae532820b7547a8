"""What the command line shows people: usage lines as click writes them, one value's type
for a repeatable option, template defaults as they are typed, numbers without exponents,
and a verdict on standard output (docs/cli.md)."""

from __future__ import annotations

import re

import pytest
import typer

from scalesim.cli import COMMANDS, load_command


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Help on one line per option, so a type is never cut by the wrapping."""
    monkeypatch.setenv("COLUMNS", "250")


def _help_pages() -> list[tuple[str, ...]]:
    """Every command's and subcommand's --help arguments."""
    pages: list[tuple[str, ...]] = []
    for name in COMMANDS:
        target = load_command(name)
        pages.append((name,))
        if isinstance(target, typer.Typer):
            group = typer.main.get_group(target)
            pages += [(name, sub) for sub in group.list_commands(typer.Context(group))]
    return pages


@pytest.mark.parametrize("args", _help_pages(), ids=" ".join)
def test_help_shows_no_python_types_or_typer_braces(run_cli, args: tuple[str, ...]) -> None:
    """Usage lines read `{file}`, `{a} {b}`, `[template_ids]...`; types `<list[Path]>`."""
    page = run_cli(*args, "--help")
    assert page.exit_code == 0, page.output
    assert "<list[" not in page.output and "<Path>" not in page.output
    usage = next(line for line in page.output.splitlines() if "Usage:" in line)
    assert not re.search(r"\{|\[[a-z_]+\]", usage), usage


@pytest.mark.parametrize(("args", "usage"), [
    (("simulate",), "Usage: scalesim simulate [OPTIONS] FILE"),
    (("compare",), "Usage: scalesim compare [OPTIONS] A B"),
    (("advise",), "Usage: scalesim advise [OPTIONS] [TEXT]"),
    (("templates", "check"), "Usage: scalesim templates check [OPTIONS] [TEMPLATE_IDS]..."),
])
def test_usage_lines_name_arguments_as_click_does(run_cli, args: tuple[str, ...],
                                                  usage: str) -> None:
    assert usage in run_cli(*args, "--help").output


def test_a_repeatable_option_shows_the_type_of_one_value(run_cli) -> None:
    text = " ".join(run_cli("generate", "--help").output.split())
    assert "--target <k8s|istio|argo|kong|keda|compose|helm|code|all>" in text


def test_template_defaults_are_written_as_they_are_typed(run_cli) -> None:
    """`True` beside 'true or false': `--set with_breaker=True` is not what the spec takes."""
    table = run_cli("templates", "show", "circuit-breaker").output
    row = next(line for line in table.splitlines() if "with_breaker" in line)
    assert re.search(r"with_breaker\s*│\s*true\s*│\s*true or false", row), row


@pytest.mark.parametrize(("value", "text"), [
    (51209.7, "51210"), (525134.0, "525134"), (10004.3667, "10004"), (2968.0, "2968"),
    (3.1714, "3.171"), (0.0, "0"), (-12345.6, "-12346")])
def test_measured_values_have_no_exponent(value: float, text: str) -> None:
    """'measured 5.121e+04' beside an expectation written 50176."""
    from scalesim.cli.templates import measured_text

    assert measured_text(value) == text


def test_validate_prints_its_verdict_on_stdout(run_cli) -> None:
    result = run_cli("validate", "examples/shop.yaml")
    assert result.exit_code == 0
    assert result.stdout.startswith("ok examples/shop.yaml: 9 components, 2 workloads")
    assert result.stderr == ""
