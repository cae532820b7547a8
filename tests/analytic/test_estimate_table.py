"""docs/capacity.md publishes the estimate against the simulation "on every template and
example" (benchmarks/estimate_vs_sim.py --write): its rows must be exactly those specs."""

from __future__ import annotations

import re
from pathlib import Path

from scalesim.templates.registry import template_ids

ROOT = Path(__file__).resolve().parents[2]
START, END = "<!-- estimate-table:start -->", "<!-- estimate-table:end -->"
ROW = re.compile(r"^\| (template|example) `([^`]+)` \|", re.MULTILINE)


def test_the_estimate_table_covers_every_template_and_example() -> None:
    doc = (ROOT / "docs" / "capacity.md").read_text(encoding="utf-8")
    table = doc.partition(START)[2].partition(END)[0]
    rows = ROW.findall(table)
    assert len(rows) == len(set(rows)), "a spec appears twice in the table"
    expected = {("template", t) for t in template_ids()} | {
        ("example", p.stem) for p in (ROOT / "examples").glob("*.yaml")}
    missing, extra = expected - set(rows), set(rows) - expected
    assert not missing and not extra, (
        f"missing {sorted(missing)}, not a spec {sorted(extra)}: rerun "
        "`python benchmarks/estimate_vs_sim.py --write`")
