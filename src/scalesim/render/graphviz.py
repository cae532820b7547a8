"""Running Graphviz's `dot`: the one place that shells out, with a clear error when it is
missing, and SVG trimmed for inlining into HTML, where it may shrink to the page only as far
as its text stays legible."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Literal

INSTALL_HINT = ("Graphviz's `dot` is not on PATH: install Graphviz (e.g. `apt install graphviz` "
                "or `brew install graphviz`), or write .dot or .mmd instead")


LAYOUT_TIMEOUT_S = 60  # dot's layout is stopped after this (400 components took minutes)


class GraphvizError(RuntimeError):
    """`dot` is missing or failed."""


def available() -> bool:
    return shutil.which("dot") is not None


def render(source: str, fmt: Literal["svg", "png"]) -> bytes:
    """Lay out DOT source and return the image bytes."""
    executable = shutil.which("dot")
    if executable is None:
        raise GraphvizError(INSTALL_HINT)
    try:
        done = subprocess.run([executable, f"-T{fmt}"], input=source.encode("utf-8"),
                              capture_output=True, check=False, timeout=LAYOUT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise GraphvizError(f"dot did not lay the diagram out within {LAYOUT_TIMEOUT_S} s (a "
                            "graph of hundreds of nodes and edges can take it far longer): "
                            "write .dot or .mmd instead, or draw a part of it") from None
    if done.returncode != 0:
        raise GraphvizError(f"dot failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout


def inline_svg(source: str) -> str:
    """The <svg> element alone (no XML prolog, doctype or comments), for inside HTML.
    Graphviz escapes all label text itself."""
    text = render(source, "svg").decode("utf-8")
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return text[text.index("<svg"):].strip()


MIN_FONT_PX = 10.0  # the least size a diagram's text is drawn at: that of the charts' ticks
_PX_PER = {"pt": 4 / 3, "px": 1.0, "": 1.0}
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"


def natural_width_px(svg: str) -> float | None:
    """The width `dot` gave the <svg> (in pt), in CSS pixels; None when it has none."""
    head = re.search(r"<svg\b[^>]*>", svg)
    found = re.search(rf'\swidth="({_NUMBER})(pt|px)?"', head.group(0)) if head else None
    return float(found.group(1)) * _PX_PER[found.group(2) or ""] if found else None


def smallest_font_px(svg: str) -> float | None:
    """The size of the smallest text of a `dot` SVG drawn at its natural width, in CSS
    pixels: its smallest font-size (user units) times the pixels per user unit."""
    width = natural_width_px(svg)
    box = re.search(rf'viewBox="{_NUMBER} {_NUMBER} ({_NUMBER}) {_NUMBER}"', svg)
    sizes = [float(size) for size in re.findall(rf'font-size="({_NUMBER})"', svg)]
    if width is None or box is None or not sizes or not float(box.group(1)):
        return None
    scale = re.search(rf'transform="scale\(({_NUMBER})', svg)  # the graph's own, if any
    return min(sizes) * width / float(box.group(1)) * (float(scale.group(1)) if scale else 1.0)


def legible(svg: str, min_font_px: float = MIN_FONT_PX) -> str:
    """The SVG with a CSS min-width: a page narrower than the diagram (style.css lets it
    shrink to the page's width) may shrink it only until its smallest text is `min_font_px`
    tall, never below; from there it keeps its width and its box scrolls sideways. A diagram
    whose text is already smaller than that is never shrunk."""
    width, smallest = natural_width_px(svg), smallest_font_px(svg)
    if width is None or smallest is None:
        return svg
    floor = width * min(1.0, min_font_px / smallest)
    return svg.replace("<svg", f'<svg style="min-width: {floor:.0f}px"', 1)
