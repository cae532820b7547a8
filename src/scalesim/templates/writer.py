"""Render a template's commented YAML from its Jinja2 file, with filters for ScaleSim units.

The YAML is written by hand in `specs/*.yaml.j2`, so the comments that explain the design
sit next to the fields they explain; the filters only format numbers as spec units."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

SPECS = Path(__file__).parent / "specs"


def _number(value: float) -> str:
    """Shortest exact-looking text: 2.0 -> '2', 0.25 -> '0.25', 1/3 -> '0.333333'. Below
    0.001 six decimals would round away the value (a share of 1e-7 written as 0, which the
    spec refuses where it must be positive), so it is written in exponent form instead."""
    if 0 < abs(value) < 1e-3:
        return _exponent(value)
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _exponent(value: float) -> str:
    """1e-7 -> '1.0e-07': six significant digits, and the mantissa keeps its dot because YAML
    reads '1e-07' as a string, not a number."""
    mantissa, exponent = f"{value:.5e}".split("e")
    mantissa = mantissa.rstrip("0")
    return f"{mantissa}0e{exponent}" if mantissa.endswith(".") else f"{mantissa}e{exponent}"


def duration(ms: float) -> str:
    """Milliseconds as a spec duration: 2 -> '2ms', 0.25 -> '250us', 1500 -> '1.5s'."""
    if ms >= 1000 and (ms / 1000).is_integer():
        return f"{_number(ms / 1000)}s"
    if 0 < ms < 1 and (ms * 1000).is_integer():
        return f"{_number(ms * 1000)}us"
    return f"{_number(ms)}ms"


def rate(per_s: float) -> str:
    return f"{_number(per_s)}/s"


def percent(share: float) -> str:
    return f"{_number(share * 100)}%"


@cache
def _environment() -> jinja2.Environment:
    import jinja2  # only when a spec is built: listing templates stays quick

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(SPECS), undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)
    env.filters.update(ms=duration, rate=rate, pct=percent, num=_number)
    return env


def render(spec_file: str, context: dict[str, Any]) -> str:
    return _environment().get_template(spec_file).render(context)
