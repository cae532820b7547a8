"""Visit rates (analytic/load.py): an acyclic call graph is solved in one pass in
topological order, a cyclic one loop by loop (densely within each); the one pass gives what
the dense solve gives, to the last bit where that is exact, and exactly 0 where no source
reaches."""

from __future__ import annotations

import time

import numpy as np
import pytest
from tests.spec.test_bounds import chain

from scalesim.analytic.load import call_matrix, served_rates, visits
from scalesim.spec import load_spec_text


def dense(matrix: np.ndarray, external: np.ndarray) -> np.ndarray:
    return np.linalg.solve(np.eye(len(matrix)) - matrix.T, external)


def random_dag(rng: np.random.Generator, n: int, permuted: bool) -> np.ndarray:
    order = rng.permutation(n) if permuted else np.arange(n)
    matrix = np.zeros((n, n))
    for _ in range(2 * n):
        a, b = sorted(rng.choice(n, 2, replace=False))
        matrix[order[a], order[b]] += rng.choice([1.0, 0.5, 0.25, 2.0])  # exact in binary
    return matrix


@pytest.mark.parametrize("permuted", [False, True])
def test_an_acyclic_graph_s_rates_are_the_exact_solution(permuted: bool) -> None:
    """Probabilities that are exact in binary (1, ½, ¼, 2 calls) make exact rates: the one
    pass finds them to the last bit; the dense solve's rounding is off by an ulp or two
    here and there, and it leaves ±1e-16 where nothing arrives."""
    rng = np.random.default_rng(7)
    for _ in range(50):
        n = int(rng.integers(2, 40))
        matrix = random_dag(rng, n, permuted)
        external = np.zeros((n, 2))
        external[rng.integers(n), 0], external[rng.integers(n), 1] = 600.0, 1.0
        found = visits(list(range(n)), matrix, external)
        assert np.allclose(found, dense(matrix, external), rtol=1e-12,
                           atol=1e-11 * float(found.max()))
        exact = np.zeros_like(external)  # by recursion over the paths, in exact arithmetic
        for column in range(2):
            todo = [(int(np.flatnonzero(external[:, column])[0]),
                     float(external[:, column].max()))]
            while todo:
                i, amount = todo.pop()
                exact[i, column] += amount
                todo += [(int(j), amount * matrix[i, j]) for j in np.flatnonzero(matrix[i])]
        assert (found == exact).all()


def test_one_vector_of_external_rates_and_a_non_finite_one() -> None:
    matrix = np.zeros((3, 3))
    matrix[0, 1], matrix[1, 2] = 1.0, 2.0
    assert visits([0, 1, 2], matrix, np.array([5.0, 0.0, 0.0])).tolist() == [5.0, 5.0, 10.0]
    assert visits([0, 1, 2], matrix, np.array([np.inf, 0.0, 0.0])).tolist() == [np.inf] * 3
    assert visits([0, 1, 2], matrix, np.array([0.0, np.inf, 0.0])).tolist() == [
        0.0, np.inf, np.inf]


def test_a_cycle_is_solved_densely_and_one_that_regenerates_is_infinite() -> None:
    matrix = np.zeros((3, 3))
    matrix[0, 1], matrix[1, 2], matrix[2, 0] = 1.0, 1.0, 0.5  # an async call back
    external = np.array([5.0, 0.0, 0.0])
    assert visits([0, 1, 2], matrix, external) == pytest.approx([10.0, 10.0, 10.0])
    matrix[2, 0] = 1.0  # every visit makes another
    assert visits([0, 1, 2], matrix, external).tolist() == [np.inf] * 3


def test_a_thousand_deep_chain_is_solved_in_milliseconds() -> None:
    """The dense solve (and the spectral radius it needed) took 0.1–0.3 s at 1,000
    operations, and validation asked for it five times."""
    system = load_spec_text(chain(1000))
    names, matrix = call_matrix(system)
    external = np.zeros(len(names))
    external[0] = 1.0
    start = time.process_time()
    found = visits(names, matrix, external)
    assert time.process_time() - start < 0.1
    assert (found == 1.0).all()


SATURATED = """scalesim: 1
name: s
components:
  front:
    workers: unlimited
    operations: {get: {calls: [{to: mid.op}]}}
  mid:
    workers: 2
    operations: {op: {work: 10ms, calls: [{to: back.op}]}}
  back:
    workers: unlimited
    operations: {op: {work: 1ms}}
workloads: [{name: w, to: front.get, rate: 400/s}]
"""


def test_a_component_past_its_capacity_serves_1_over_rho_and_only_that_calls_on() -> None:
    """mid holds a worker 10 ms (plus its call) with 2 workers: at 400/s, ρ ≈ 2, so it
    serves about half its visits, and back sees only the calls those make."""
    system = load_spec_text(SATURATED)
    rates, served = served_rates(system, (0.0, 60.0), {})
    assert rates["mid.op"] == 400.0
    assert served["mid.op"] == pytest.approx(1 / (400 * 0.011 / 2))
    assert rates["back.op"] == pytest.approx(400 * served["mid.op"])
    assert served["front.get"] == served["back.op"] == 1.0
    doubled = served_rates(system, (0.0, 60.0), {
        ("components", "front", "operations", "get", "calls", 0): 2.0})
    assert doubled[0]["mid.op"] == 800.0 and doubled[0]["back.op"] == pytest.approx(
        rates["back.op"])  # at most its capacity, however many attempts arrive
