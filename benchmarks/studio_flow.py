"""The studio's main flow, timed end to end through its HTTP API (`make bench`): build a
template's spec from its parameters, start a run (a worker process from the fork server),
follow its event stream to the end, and fetch the result the canvas and charts draw.

The goal (issue 12) is under 2 s for a default template on the project's 2-core machine.
Each template is timed REPEATS times (median shown), next to the engine alone on the same
spec in this process (`simulate`), so the studio's own cost is the difference: templates
whose scenario simulates a million requests take what the engine takes.
"""

from __future__ import annotations

import statistics
import sys
import time

from fastapi.testclient import TestClient

from scalesim.sim import simulate
from scalesim.spec import load_spec_text
from scalesim.studio import StudioConfig, create_app
from scalesim.templates import TEMPLATES, get_template

REPEATS = 3
GOAL_S = 2.0
SHOWN = ("circuit-breaker", "load-balanced-service", "retry-backoff", "cache-aside",
         "e-commerce")


def flow(client: TestClient, template: str) -> float:
    start = time.perf_counter()
    spec = client.post(f"/api/templates/{template}/spec", json={"params": {}}).json()["spec"]
    run_id = client.post("/api/runs", json={"spec": spec}).json()["id"]
    with client.stream("GET", f"/api/runs/{run_id}/events") as events:
        for _ in events.iter_lines():
            pass
    state = client.get(f"/api/runs/{run_id}").json()
    elapsed = time.perf_counter() - start
    if state["status"] != "done":
        raise SystemExit(f"{template}: the run ended {state['status']}: {state['error']}")
    return elapsed


def engine(template: str) -> float:
    system = load_spec_text(get_template(template).build().text)
    start = time.perf_counter()
    simulate(system, with_series=True)
    return time.perf_counter() - start


def main() -> int:
    chosen = sys.argv[1:] or [t for t in SHOWN if t in {x.id for x in TEMPLATES}]
    print(f"{'template':24} {'studio s':>9} {'engine s':>9} {'overhead s':>11}  "
          f"goal: studio < {GOAL_S:g} s")
    with TestClient(create_app(StudioConfig())) as client:
        flow(client, chosen[0])  # start the fork server once, as a running studio has
        for template in chosen:
            studio = statistics.median(flow(client, template) for _ in range(REPEATS))
            alone = statistics.median(engine(template) for _ in range(REPEATS))
            verdict = "ok" if studio < GOAL_S else "engine-bound" if alone > GOAL_S else "SLOW"
            print(f"{template:24} {studio:9.2f} {alone:9.2f} {studio - alone:11.2f}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
