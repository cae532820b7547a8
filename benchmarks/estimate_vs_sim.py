"""How far to trust `scalesim estimate`: the estimate against the simulation for every
template (default parameters, its shipped scenario) and every example, as the Markdown table
in docs/capacity.md.

    python benchmarks/estimate_vs_sim.py            # print the table
    python benchmarks/estimate_vs_sim.py --write    # replace the table in docs/capacity.md

Each spec is simulated with 3 replications at its own duration (the mean of their pooled
results), and estimated once. Columns compare the pooled mean and p99 latency of successful
requests, the throughput, the error rate, and the utilization of the component the estimate
calls the bottleneck. "err" is (estimate − simulation) / simulation.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from scalesim.analytic.document import estimate_document
from scalesim.sim import SafetyStop
from scalesim.spec import System, load_spec
from scalesim.sweep.replicate import Execution
from scalesim.templates.registry import TEMPLATES
from scalesim.templates.run import load_built

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "capacity.md"
START, END = "<!-- estimate-table:start -->", "<!-- estimate-table:end -->"
REPLICATIONS = 3


def specs() -> list[tuple[str, System]]:
    out = [(f"template `{t.id}`", load_built(t.build(None))) for t in TEMPLATES]
    out += [(f"example `{p.stem}`", load_spec(p))
            for p in sorted((ROOT / "examples").glob("*.yaml"))]
    return out


def relative(estimate: float | None, simulated: float | None) -> str:
    if estimate is None or simulated is None:
        return "—"
    if simulated == 0.0:
        return "0" if estimate == 0.0 else "—"
    return f"{(estimate - simulated) / simulated:+.0%}"


def number(value: float | None, digits: int = 1) -> str:
    return "∞" if value is None else f"{value:,.{digits}f}"


def row(name: str, system: System) -> tuple[str, float]:
    start = time.perf_counter()
    doc = estimate_document(system)
    took = time.perf_counter() - start
    system = system.model_copy(update={"simulation": system.simulation.model_copy(
        update={"replications": REPLICATIONS})})
    try:
        sim: dict[str, Any] | None = Execution(jobs=1).simulate(system)
    except SafetyStop:
        sim = None
    busiest = doc["bottleneck"]
    est_util = busiest["utilization"] if busiest else None
    sim_util = sim["components"][busiest["component"]]["utilization"] \
        if sim is not None and busiest else None
    e_lat, s_lat = doc["latency_ms"], (sim or {}).get("latency_ms", {})
    notes = sorted({c["code"] for c in doc["caveats"]})
    exact = all(w["exact"] for w in doc["workloads"].values())
    cells = [
        name, "yes" if exact else "no",
        f"{number(e_lat['mean'])} / {number(s_lat.get('mean'))}",
        relative(e_lat["mean"], s_lat.get("mean")),
        f"{number(e_lat['p99'])} / {number(s_lat.get('p99'))}",
        relative(e_lat["p99"], s_lat.get("p99")),
        f"{number(doc['throughput_rps'])} / {number((sim or {}).get('throughput_rps'))}",
        f"{doc['error_rate']:.2%} / " + ("—" if sim is None or sim["error_rate"] is None
                                         else f"{sim['error_rate']:.2%}"),
        "—" if busiest is None else
        f"{busiest['component']} {est_util:.0%} / " + ("—" if sim_util is None
                                                        else f"{sim_util:.0%}"),
        ", ".join(notes) or "—",
    ]
    return "| " + " | ".join(cells) + " |", took


def table() -> str:
    head = ("| spec | exact | mean ms (est / sim) | err | p99 ms (est / sim) | err | "
            "rps (est / sim) | errors (est / sim) | bottleneck ρ (est / sim) | caveats |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n")
    lines, slowest = [], 0.0
    for name, system in specs():
        line, took = row(name, system)
        slowest = max(slowest, took)
        lines.append(line)
        print(line, file=sys.stderr)
    return head + "\n".join(lines) + f"\n\nSlowest estimate: {slowest * 1e3:.0f} ms.\n"


def main() -> None:
    text = table()
    if "--write" in sys.argv:
        doc = DOC.read_text(encoding="utf-8")
        before, _, rest = doc.partition(START)
        _, _, after = rest.partition(END)
        DOC.write_text(f"{before}{START}\n{text}{END}{after}", encoding="utf-8")
    else:
        print(text)


if __name__ == "__main__":
    main()
