"""The estimate at the edges of valid specs: times too small to square, means that are
infinite (Pareto α ≤ 1), and wide fan-outs with many workloads, whose cost must grow with the
width and not with its square, nor with the number of identical workloads."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter
from rich.console import Console

from scalesim.analytic import capacity
from scalesim.analytic import lattice as lat
from scalesim.analytic.document import estimate_document
from scalesim.analytic.estimate import Model
from scalesim.analytic.success import Success, _at_least
from scalesim.cli.estimate import print_estimate
from scalesim.spec import load_spec_text
from scalesim.spec.dists import Distribution

SMALL = """
scalesim: 1
name: t
components:
  api:
    workers: 4
    operations:
      get: {{work: {work}}}
workloads:
  - {{name: w, to: api.get, rate: 100/s}}
"""

# gw waits on api, whose work has no finite mean: api is overloaded on its (cut-off) mean,
# so gw, which holds a worker for api's answer, is offered an unbounded load.
INFINITE = """
scalesim: 1
name: t
components:
  gw:
    workers: 64
    operations:
      get: {calls: [{to: api.get}]}
  api:
    workers: 16
    operations:
      get: {work: {dist: pareto, min: 1ms, alpha: 0.5}}
workloads:
  - {name: w, to: gw.get, rate: 100/s}
"""


def wide(branches: int, workloads: int, wait_for: str = "all") -> str:
    lines = ["scalesim: 1", "name: wide", "components:", "  gw:", "    workers: unlimited",
             "    operations:", "      get:", "        calls:",
             f"          - parallel: {{wait_for: {wait_for}, calls: ["
             + ", ".join(f"{{to: c{i}.op}}" for i in range(branches)) + "]}"]
    for i in range(branches):
        lines += [f"  c{i}:", "    operations: {op: {work: {dist: exponential, mean: 1ms}}}"]
    lines += ["workloads:"] + [f"  - {{name: w{i}, to: gw.get, rate: 1/s}}"
                               for i in range(workloads)]
    return "\n".join(lines) + "\n"


# -- finding 10: a mean too small to square --------------------------------------------------

@pytest.mark.parametrize("work", ["1e-300s", "{dist: exponential, mean: 1e-300s}",
                                  "{dist: pareto, min: 1e-300s, alpha: 3}", "5e-324s"])
def test_a_work_too_small_to_square_estimates_as_nothing(work: str) -> None:
    """1e-300 s squared underflows to 0: the service time's scv, E[S²] / E[S]², divided
    by that 0 (ZeroDivisionError)."""
    doc = estimate_document(load_spec_text(SMALL.format(work=work)))
    assert doc["latency_ms"]["mean"] == 0.0
    assert doc["components"]["api"]["utilization"] == 0.0
    json.dumps(doc, allow_nan=False)


def test_a_closed_loop_of_zero_time_requests_estimates_without_a_crash() -> None:
    """3 users, no think time, an operation of no work on unlimited workers: MVA sends them
    infinitely fast, and pooling the workloads' latencies by goodput divided inf by inf (a
    mixture of nothing: ValueError, from `scalesim estimate` and the run budget alike)."""
    doc = estimate_document(load_spec_text(
        "scalesim: 1\nname: impatient\ncomponents:\n  a:\n    workers: unlimited\n"
        "    operations:\n      x: {}\nworkloads:\n  - {name: w, to: a.x, users: 3}\n"))
    assert doc["latency_ms"]["mean"] == 0.0
    assert doc["workloads"]["w"]["latency_ms"]["mean"] == 0.0


def test_over_square_divides_twice_only_where_the_square_underflows() -> None:
    assert lat.over_square(2e-300, 1e-200) == pytest.approx(2e100)  # 1e-400: 0 as a float
    assert lat.over_square(0.0, 1e-300) == 0.0
    for value, mean in ((2.0, 3.0), (1e-9, 7e-5), (0.1, 0.3)):
        assert lat.over_square(value, mean) == value / (mean * mean)  # to the last bit


# -- finding 2: an infinite mean -------------------------------------------------------------

def test_an_unbounded_utilization_prints_as_infinite() -> None:
    """gw's utilization is null in the JSON (offered an infinite load); the table printed
    None with a percent format (TypeError)."""
    doc = estimate_document(load_spec_text(INFINITE))
    assert doc["workloads"]["w"]["bottleneck"] == {"component": "gw", "utilization": None}
    out = io.StringIO()
    print_estimate(doc, Console(file=out, width=200, color_system=None))
    text = out.getvalue()
    assert "gw (∞)" in text
    gw_row = next(line for line in text.splitlines() if line.startswith("│ gw"))
    assert "∞" in gw_row.split("│")[4]  # its utilization column
    assert "offered an unbounded load" in text


def test_an_infinite_mean_is_a_caveat_that_says_so() -> None:
    found = estimate_document(load_spec_text(INFINITE))["caveats"]
    heavy = next(c for c in found if c["code"] == "heavy-tail")
    assert heavy["where"] == "api.get"
    assert "infinite mean" in heavy["message"] and "99.99th percentile" in heavy["message"]
    # with unlimited workers too: the latency itself is the cut-off one's
    unlimited = INFINITE.replace("workers: 16", "workers: unlimited")
    assert any("infinite mean" in c["message"]
               for c in estimate_document(load_spec_text(unlimited))["caveats"])


@pytest.mark.parametrize("alpha", [0.01, 0.001])
def test_a_pareto_tail_past_the_largest_double_is_cut_at_1e300_s(alpha: float) -> None:
    """α = 0.01: the 1 − 1e-4 quantile is 1e400 times the minimum (OverflowError from
    `scalesim estimate` and `plan`). The grid stops at lattice.CUT_MOST, and the overload
    caveat prints the factor in three digits, not three hundred."""
    found = estimate_document(load_spec_text(INFINITE.replace("alpha: 0.5",
                                                              f"alpha: {alpha}")))["caveats"]
    overloaded = next(c for c in found if c["code"] == "overloaded" and c["where"] == "api")
    assert re.search(r"offered \d\.\d\de\+\d+× what its workers", overloaded["message"])
    assert any(c["code"] == "heavy-tail" for c in found)
    assert lat.of(TypeAdapter(Distribution).validate_python(
        {"dist": "pareto", "min": "1ms", "alpha": alpha})).h * (lat.LEAF_POINTS - 1) \
        == pytest.approx(lat.CUT_MOST)


# -- finding 4: wide fan-outs, many workloads ------------------------------------------------

def _full_table(need: int, parts: Sequence[lat.Lattice]) -> lat.Lattice:
    """order_statistic as it was: every count of done parts, k + 1 rows of the grid."""
    h = max(p.h for p in parts)
    vectors = [lat.on_step(p, h) for p in parts]
    length = max(len(v) for v in vectors)
    cdfs = [np.concatenate([np.cumsum(v), np.full(length - len(v), np.cumsum(v)[-1])])
            for v in vectors]
    done = np.zeros((len(parts) + 1, length))
    done[0] = 1.0
    for cdf in cdfs:
        done[1:] = done[1:] * (1.0 - cdf) + done[:-1] * cdf
        done[0] = done[0] * (1.0 - cdf)
    at_least = done[need:].sum(axis=0)
    mass = np.diff(np.maximum.accumulate(at_least), prepend=0.0)
    values = np.arange(len(mass)) * h
    return lat.Lattice(h, mass, max(0.0, 1.0 - float(at_least[-1])),
                       float((values * mass).sum()), float((values * values * mass).sum()))


def _parts(count: int) -> list[lat.Lattice]:
    rng = np.random.default_rng(7)
    return [lat.total([lat.exponential(float(rng.uniform(1e-3, 5e-3)), 256),
                       lat.point(float(rng.uniform(0.0, 2e-3)), 256)]) for _ in range(count)]


@pytest.mark.parametrize("need", [60, 59, 31, 30, 2, 1])
def test_the_order_statistic_is_the_full_tables(need: int) -> None:
    """Bit for bit when need > k/2 (the counts still running, summed in the table's order),
    to rounding otherwise."""
    parts = _parts(60)
    new, old = lat.order_statistic(need, parts), _full_table(need, parts)
    assert new.h == old.h and new.beyond == old.beyond
    if 60 - need <= need:
        assert np.array_equal(new.mass, old.mass) and (new.mean, new.second) == \
            (old.mean, old.second)
    else:
        assert np.allclose(new.mass, old.mass, rtol=0.0, atol=1e-13)
        assert new.mean == pytest.approx(old.mean, rel=1e-12)


@pytest.mark.parametrize(("need", "rows"), [(400, 1), (399, 2), (1, 2), (2, 3)])
def test_the_order_statistic_tracks_only_the_counts_that_decide_it(
        need: int, rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """k parts cost k·min(need + 1, k − need + 1) grid passes, not k²: the table of counts
    it fills has that many rows (it had k + 1: a 999-way fan-out took 49 s)."""
    tables: list[tuple[int, ...]] = []
    zeros = np.zeros

    def spy(shape: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(shape, tuple) and len(shape) == 2:
            tables.append(shape)
        return zeros(shape, *args, **kwargs)

    monkeypatch.setattr(np, "zeros", spy)
    lat.order_statistic(need, [lat.exponential(1e-3, 64)] * 400)
    assert [shape[0] for shape in tables] == [rows]


class _Counted(float):
    """A probability that counts the arithmetic done with it."""

    uses = 0

    def __rmul__(self, other: float) -> float:
        _Counted.uses += 1
        return float(other) * float(self)

    def __rsub__(self, other: float) -> float:
        _Counted.uses += 1
        return float(other) - float(self)


@pytest.mark.parametrize(("need", "most"), [(500, 3 * 500), (1, 5 * 500)])
def test_the_success_of_a_wide_fan_out_is_linear_in_its_width(need: int, most: int) -> None:
    _Counted.uses = 0
    assert 0.0 <= _at_least(need, [_Counted(0.999)] * 500) <= 1.0
    assert _Counted.uses <= most  # the full table made about k²/2 = 125,000


def test_at_least_is_the_full_tables() -> None:
    def full(need: int, probabilities: list[float]) -> float:
        exactly = [1.0]
        for p in probabilities:
            nxt = [0.0] * (len(exactly) + 1)
            for k, q in enumerate(exactly):
                nxt[k] += q * (1.0 - p)
                nxt[k + 1] += q * p
            exactly = nxt
        return sum(exactly[need:])

    rng = np.random.default_rng(3)
    for _ in range(200):
        k = int(rng.integers(1, 30))
        need = int(rng.integers(1, k + 1))
        ps = [float(p) for p in rng.choice([1.0, 0.0, 0.999, rng.random()], k)]
        if k - need <= need:
            assert _at_least(need, ps) == full(need, ps)  # to the last bit
        else:
            assert _at_least(need, ps) == pytest.approx(full(need, ps), abs=1e-14)


def test_identical_workloads_share_one_capacity_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """30 workloads entering at one operation at one rate are one search (and share one
    coarse model): the evaluations do not grow with their number, and each gets the
    saturation its own search finds."""
    counts = {"evaluate": 0, "model": 0}
    evaluate, init = Model.evaluate, Model.__init__

    def counted_evaluate(self: Model, *args: Any, **kwargs: Any) -> Any:
        counts["evaluate"] += 1
        return evaluate(self, *args, **kwargs)

    def counted_init(self: Model, *args: Any, **kwargs: Any) -> None:
        counts["model"] += 1
        init(self, *args, **kwargs)

    monkeypatch.setattr(Model, "evaluate", counted_evaluate)
    monkeypatch.setattr(Model, "__init__", counted_init)
    alone = estimate_document(load_spec_text(wide(8, 1)))
    one = dict(counts)
    counts.update(evaluate=0, model=0)
    many = estimate_document(load_spec_text(wide(8, 30)))
    assert counts == one  # it was 30 searches, each building its own coarse model
    system = load_spec_text(wide(8, 30))
    model = Model(system)
    own = capacity.saturation(model, "w17")
    assert many["workloads"]["w17"]["saturation_rps"] == pytest.approx(
        round(own.rate_rps, 2), rel=1e-9)
    assert {w["saturation_rps"] for w in many["workloads"].values()} == \
        {many["workloads"]["w0"]["saturation_rps"]}
    assert alone["workloads"]["w0"]["saturation_rps"] > many["workloads"]["w0"]["saturation_rps"]


def test_a_wide_fan_out_with_many_workloads_is_the_narrow_ones_arithmetic() -> None:
    """300 branches and 20 workloads: every workload gets the same numbers, and the fan-out
    is the maximum of its branches' calls (hop, response, hop)."""
    system = load_spec_text(wide(300, 20))
    model = Model(system)
    found = model.evaluate()
    assert len({(w.mean_s, w.quantile_s(0.99), w.success) for w in found.workloads.values()}) == 1
    hop = model.hop
    branches = [found.components[f"c{i}"].responses[f"c{i}.op"] for i in range(300)]
    calls = [lat.total([hop, branch, hop]) for branch in branches if branch is not None]
    fan = lat.order_statistic(300, calls)
    gw = found.components["gw"].responses["gw.get"]
    assert gw is not None
    assert np.array_equal(gw.mass, fan.mass) and gw.mean == fan.mean


def identical_branches(width: int) -> str:
    branches = ", ".join(["{to: b.get, timeout: 50ms, retry: {attempts: 2}}"] * width)
    return f"""
scalesim: 1
name: fan
components:
  a: {{workers: unlimited, operations: {{op: {{calls: [{{parallel: {{calls: [{branches}]}}}}]}}}}}}
  b: {{workers: unlimited, operations: {{get: {{work: {{dist: exponential, mean: 10ms}}}}}}}}
workloads: [{{name: w, to: a.op, rate: 100/s}}]
"""


def test_identical_branches_of_a_fan_out_are_worked_out_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """How a call fails, and how its retried attempts do for the time it waits, are worked
    out once for a run of identical branches, as for one of two: a fan-out of 1,000 asked
    them 1,000 times at every load (20 such steps: 24 s)."""
    asked = {"_call": 0, "_attempt_failures": 0}

    def counting(cls: type, name: str) -> None:
        method = getattr(cls, name)

        def counted(self: Any, *args: Any) -> Any:
            asked[name] += 1
            return method(self, *args)

        monkeypatch.setattr(cls, name, counted)

    counting(Success, "_call")
    counting(Model, "_attempt_failures")
    Model(load_spec_text(identical_branches(2))).evaluate()
    two = dict(asked)
    asked.update({name: 0 for name in asked})
    found = Model(load_spec_text(identical_branches(1000))).evaluate()
    assert asked == two
    assert 0.0 < found.workloads["w"].success < 1.0
