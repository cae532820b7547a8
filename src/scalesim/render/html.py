"""The Jinja2 environment of the HTML pages: packaged templates, autoescape on, and the
number filters every page shares (so a unit is always next to its number)."""

from __future__ import annotations

import shlex
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f} ms"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def rps(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f} rps"


def count(value: int | float | None) -> str:
    return "—" if value is None else f"{value:,}"


def mean(value: float | None) -> str:
    """A time average of a count (busy workers, requests waiting): 38,458.81."""
    return "—" if value is None else f"{value:,.2f}"


def set_options(settings: list[str]) -> str:
    """A fix's settings as command-line options to paste: each `--set` quoted for a POSIX
    shell where it needs it (a retry's `{attempts: 3, jitter: full}` holds spaces)."""
    return " ".join(f"--set {shlex.quote(item)}" for item in settings)


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("scalesim.render", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(ms=ms, pct=pct, rps=rps, count=count, mean=mean,
                       set_options=set_options)
    return env


def render_page(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
