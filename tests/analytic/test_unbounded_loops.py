"""A loop of async calls that regenerates at least one call per call (analytic/cycles.py):
only the loop and what it calls are unbounded; every other operation, component and
workload keeps the numbers it has without the loop, the estimate names the loop, and no
NaN (nor numpy's warning about one) comes out of the infinite rates."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from scalesim.analytic.caveats import caveats
from scalesim.analytic.cycles import divergent_loops, strongly_connected
from scalesim.analytic.estimate import estimate
from scalesim.analytic.load import visits
from scalesim.lint import lint_system
from scalesim.spec import load_spec_text

SPEC = """scalesim: 1
name: async-loop
defaults:
  network: 1ms
components:
  front:
    workers: 8
    operations:
      get:
        work: 1ms
        calls: [{{to: leaf.get}}, {{to: loop.x, async: true}}]
  leaf:
    workers: 8
    operations:
      get: {{work: 1ms}}
  loop:
    workers: 8
    operations:
      x:
        work: 1ms
        calls: [{{to: loop.x, async: true, probability: {p}}}, {{to: sink.y, async: true}}]
  sink:
    workers: 8
    operations:
      y: {{work: 1ms}}
  other:
    workers: 8
    operations:
      y: {{work: 1ms}}
workloads:
  - {{name: w, to: front.get, rate: 100/s}}
  - {{name: v, to: other.y, rate: 100/s}}
"""


def test_only_the_loop_and_what_it_calls_are_infinite() -> None:
    """0 calls 1 and, async, 2; 2 calls itself once a visit and calls 3; 4 is a source of
    its own. Source 0 at 100/s and 4 at 50/s: 0, 1 and 4 keep their rates."""
    matrix = np.zeros((5, 5))
    matrix[0, 1] = matrix[0, 2] = matrix[2, 2] = matrix[2, 3] = 1.0
    external = np.array([100.0, 0.0, 0.0, 0.0, 50.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = visits(list("abcde"), matrix, external)
        per_source = visits(list("abcde"), matrix, np.array(
            [[100.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 50.0]]))
    assert found.tolist() == [100.0, 100.0, math.inf, math.inf, 50.0]
    assert per_source[:, 0].tolist() == [100.0, 100.0, math.inf, math.inf, 0.0]
    assert per_source[:, 1].tolist() == [0.0, 0.0, 0.0, 0.0, 50.0]


def test_a_loop_nothing_reaches_is_zero_and_an_infinite_inflow_fills_a_finite_loop() -> None:
    """A regenerating loop {1, 2} no source reaches: 0. Downstream of a regenerating self
    loop, a loop {3, 4} that returns half its visits is infinite too (an infinite rate flows
    in); the finite loop fed by a finite source gets 1/(1 − ½) = 2 visits a request."""
    matrix = np.zeros((7, 7))
    matrix[1, 2] = matrix[2, 1] = 1.0  # unreached, regenerating
    matrix[0, 0] = 1.0  # a self loop, reached
    matrix[0, 3] = 1.0
    matrix[3, 4], matrix[4, 3] = 1.0, 0.5
    matrix[5, 6], matrix[6, 5] = 1.0, 0.5
    found = visits(list(range(7)), matrix, np.array([1.0, 0, 0, 0, 0, 10.0, 0]))
    assert found.tolist()[:5] == [math.inf, 0.0, 0.0, math.inf, math.inf]
    assert found[5] == pytest.approx(20.0) and found[6] == pytest.approx(20.0)


def test_components_come_callers_first_and_divergent_loops_are_named() -> None:
    matrix = np.zeros((4, 4))
    matrix[3, 1] = matrix[1, 2] = 1.0
    matrix[2, 1] = 0.5  # {1, 2}: ½ per round, finite
    matrix[1, 0] = 1.0
    matrix[0, 0] = 2.0  # a self loop that doubles
    order = strongly_connected(matrix)
    assert order == [[3], [1, 2], [0]]
    loops = divergent_loops(["a", "b", "c", "d"], matrix)
    assert [(loop.operations, loop.repetitions) for loop in loops] == [(("a",), 2.0)]
    matrix[2, 1] = 1.0  # now once per round: diverges (spectral radius 1)
    assert [loop.operations for loop in divergent_loops(["a", "b", "c", "d"], matrix)] == [
        ("b", "c"), ("a",)]


def test_the_estimate_keeps_the_numbers_of_what_the_loop_does_not_reach() -> None:
    """With the loop at probability 1, everything but loop and sink has the numbers of
    the same spec with the loop at ½ (where loop gets 200/s and sink 200/s): v 3 ms
    (hop, 1 ms, hop), other at 100/s; w still waits for leaf only; loop and sink are
    unbounded; a caveat names the loop; no NaN warning on the way."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        endless = estimate(load_spec_text(SPEC.format(p=1)))
        ended = estimate(load_spec_text(SPEC.format(p=0.5)))
        notes = caveats(endless.system, endless)
    assert ended.components["loop"].arrival_rate_rps == pytest.approx(200.0)
    for name in ("front", "leaf", "other"):
        assert endless.components[name].arrival_rate_rps == 100.0
        mine, theirs = endless.components[name].state, ended.components[name].state
        assert (mine.offered, mine.utilization, mine.mean_wait_s, mine.loss) == (
            theirs.offered, theirs.utilization, theirs.mean_wait_s, theirs.loss)
    for name in ("loop", "sink"):
        assert math.isinf(endless.components[name].arrival_rate_rps)
    v = endless.workloads["v"]
    assert v.mean_s == pytest.approx(0.003) and v.mean_s == ended.workloads["v"].mean_s
    assert endless.workloads["w"].mean_s == ended.workloads["w"].mean_s
    assert endless.bottleneck("v") == ("other", pytest.approx(100 * 0.001 / 8))
    loops = [note for note in notes if note.code == "unbounded-loop"]
    assert [note.where for note in loops] == ["loop.x → loop.x"]
    assert "expected visits per request diverge" in loops[0].message
    assert not any(note.code == "unbounded-loop"
                   for note in caveats(ended.system, ended))


def test_lint_says_overloaded_only_what_the_loop_reaches() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = lint_system(load_spec_text(SPEC.format(p=1)))
    overloaded = {finding.path.split(".")[1] for finding in found if finding.rule == "SS501"}
    assert overloaded == {"loop", "sink"}
