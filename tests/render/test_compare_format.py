"""The comparison shows its numbers as the rest of the output does: thousands separated,
shares in %, the metric's unit, never scientific notation (the QA pass read "8.965e+04"
failed requests, an error rate of "1" and a throughput of "3047"); both runs are named in
the overlaid charts' legends."""

from __future__ import annotations

import io
import re

from rich.console import Console
from tests.render.helpers import run

from scalesim.render.compare import print_comparison, render_compare, shown


def test_numbers_have_separators_units_and_no_exponent() -> None:
    assert shown("failed", 89649.0) == "89,649"
    assert shown("queue_mean", 38458.81) == "38,459"
    assert shown("queue_mean", 0.3985) == "0.3985"
    assert shown("throughput_rps", 3047.2) == "3,047 rps"
    assert shown("latency_p99_ms", 37.44) == "37.44 ms"
    assert shown("failed_per_s", 12345.6) == "12,346/s"
    assert shown("amplification", 4.016) == "4.016"
    assert shown("failed", 0.0) == "0" and shown("degraded", None) == "—"


def test_shares_are_percent_and_their_changes_points() -> None:
    assert shown("error_rate", 1.0) == "100.00 %"
    assert shown("utilization", 0.1409) == "14.09 %"
    assert shown("error_rate", -0.9998, signed=True) == "-99.98 pp"
    assert shown("failed", -89635.0, signed=True) == "-89,635"
    assert shown("goodput_rps", 8964.0, signed=True) == "+8,964 rps"


def test_page_and_terminal_show_no_scientific_notation() -> None:
    _, cascade = run("cascade", "simulation.duration=45s")
    _, contained = run("contained", "simulation.duration=45s")
    html = render_compare(cascade, contained, (None, None), ("cascade", "contained"))
    table = html[html.index("Differences (B"):html.index("<h2>Workloads")]
    assert not re.search(r"\de[+-]\d", table)
    assert re.search(r"<td>\d+\.\d\d %</td>", table)  # the error rate, in %
    assert 'class="legend">A · cascade<' in html and 'class="legend">B · contained<' in html
    console = Console(file=io.StringIO(), width=200)
    print_comparison(cascade, contained, ("cascade", "contained"), console)
    assert not re.search(r"\de[+-]\d", console.file.getvalue())
