"""Running Graphviz's `dot`: the one place that shells out, with a clear error when it is
missing, and SVG trimmed for inlining into HTML."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Literal

INSTALL_HINT = ("Graphviz's `dot` is not on PATH: install Graphviz (e.g. `apt install graphviz` "
                "or `brew install graphviz`), or write .dot or .mmd instead")


class GraphvizError(RuntimeError):
    """`dot` is missing or failed."""


def available() -> bool:
    return shutil.which("dot") is not None


def render(source: str, fmt: Literal["svg", "png"]) -> bytes:
    """Lay out DOT source and return the image bytes."""
    executable = shutil.which("dot")
    if executable is None:
        raise GraphvizError(INSTALL_HINT)
    done = subprocess.run([executable, f"-T{fmt}"], input=source.encode("utf-8"),
                          capture_output=True, check=False, timeout=120)
    if done.returncode != 0:
        raise GraphvizError(f"dot failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout


def inline_svg(source: str) -> str:
    """The <svg> element alone (no XML prolog, doctype or comments), for inside HTML.
    Graphviz escapes all label text itself."""
    text = render(source, "svg").decode("utf-8")
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return text[text.index("<svg"):].strip()
