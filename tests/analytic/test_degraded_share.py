"""The share of requests answered in part by a `degraded` fallback: the estimate knew how often
each call outlasts its timeout, yet reported no degraded answers where the simulation had
30 % (scatter-gather, 40 ms timeouts at 1,200/s) and its caveat said it failed them."""

from __future__ import annotations

import pytest
import yaml

from scalesim.analytic.caveats import caveats
from scalesim.analytic.estimate import estimate
from scalesim.sim import simulate
from scalesim.spec import load_spec_text
from scalesim.spec.model import System

BRANCHES = 4


def scatter(timeout_ms: int, degraded: bool = True, fronted: bool = False) -> System:
    """A gatherer waits for 4 partitions, each call giving up at `timeout_ms` into a fallback;
    with `fronted`, an api calls the gatherer (a degraded answer passes up)."""
    calls = [{"to": f"part-{i}.search", "timeout": f"{timeout_ms}ms",
              "on_failure": {"fallback": "0ms", "degraded": degraded}}
             for i in range(BRANCHES)]
    components = {"gatherer": {"workers": "unlimited", "operations": {"query": {
        "work": "1ms", "calls": [{"parallel": {"wait_for": "all", "calls": calls}}]}}}}
    for i in range(BRANCHES):
        components[f"part-{i}"] = {"workers": "unlimited", "operations": {"search": {
            "work": {"dist": "exponential", "mean": "20ms"}}}}
    entry = "gatherer.query"
    if fronted:
        components["api"] = {"workers": "unlimited", "operations": {"get": {
            "calls": [{"to": "gatherer.query"}]}}}
        entry = "api.get"
    spec = {"scalesim": 1, "name": "sg", "defaults": {"network": "0ms"},
            "components": components, "workloads": [{"name": "q", "to": entry,
                                                     "rate": "200/s"}],
            "simulation": {"duration": "30s", "seed": 1}}
    return load_spec_text(yaml.safe_dump(spec, sort_keys=False))


@pytest.mark.parametrize("fronted", [False, True])
def test_a_request_is_degraded_when_any_branch_falls_back(fronted: bool) -> None:
    """Exp(20 ms) work with a 40 ms timeout: each branch late with e^−2; a request with
    1 − (1 − e^−2)^4 of them, also through a caller that waits for it."""
    found = estimate(scatter(40, fronted=fronted))
    late = found.timeouts["gatherer.query->part-0.search"]
    assert late == pytest.approx(0.1353, abs=2e-3)  # e^−2 on the estimate's grid
    assert found.workloads["q"].degraded == pytest.approx(1 - (1 - late) ** BRANCHES,
                                                          rel=1e-9)
    assert found.workloads["q"].success == pytest.approx(1.0)


def test_fallbacks_not_marked_degraded_are_plain_answers() -> None:
    assert estimate(scatter(40, degraded=False)).workloads["q"].degraded == 0.0


def test_the_degraded_share_matches_the_simulation_and_the_caveat_says_so() -> None:
    system = scatter(40)
    found = estimate(system)
    r = simulate(system)["workloads"]["q"]["requests"]
    share = r["degraded"] / r["total"]
    # 6,037 requests: 0.439 simulated, 0.441 estimated; 3 standard errors of the share
    assert found.workloads["q"].degraded == pytest.approx(share, abs=3 * (0.44 * 0.56 / 6000)
                                                          ** 0.5)
    message = next(c.message for c in caveats(system, found) if c.code == "timeouts-fire")
    assert "answers them with the call's fallback after any retries, counted in the " \
        "workloads' `degraded` share" in message
