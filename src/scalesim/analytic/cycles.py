"""Visit rates through a call graph with loops (async calls back, queues whose consumers
publish again), one loop at a time.

r = external + Mᵀ r is solved strongly connected component by component, callers first:
a component's rates depend only on what flows into it from outside (external rates and its
callers' calls) and on its own loop. A loop whose matrix has spectral radius ≥ 1 makes, per
visit, at least one visit of itself on average (a single cycle: the product of its calls
per visit): its expected visits per request diverge, so it has no steady state and every
operation it reaches gets an infinite rate. The rest of the graph keeps its finite rates:
an infinite rate only flows along the calls it makes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# spectral radius from which a loop regenerates one visit per visit (rounding left out)
DIVERGES_AT = 1.0 - 1e-12


@dataclass(frozen=True)
class Divergent:
    """A loop of the call graph with no steady state."""

    operations: tuple[str, ...]  # its operations ('comp.op'), in the matrix's order
    repetitions: float  # the visits of itself one visit makes, in the long run (≥ 1)


def strongly_connected(matrix: npt.NDArray[np.float64]) -> list[list[int]]:
    """The strongly connected components of the graph i → j where M[i, j] ≠ 0, callers
    first (an edge between two components goes from an earlier to a later one), each
    sorted. Tarjan's algorithm, iterative: a chain of thousands of calls is one pass."""
    size = len(matrix)
    edges = [np.flatnonzero(matrix[i]).tolist() for i in range(size)]
    index = [-1] * size
    low = [0] * size
    on_stack = [False] * size
    stack: list[int] = []
    found: list[list[int]] = []
    counter = 0
    for root in range(size):
        if index[root] != -1:
            continue
        work = [(root, 0)]
        while work:
            node, next_edge = work.pop()
            if next_edge == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack[node] = True
            descended = False
            while next_edge < len(edges[node]):
                callee = edges[node][next_edge]
                next_edge += 1
                if index[callee] == -1:
                    work += [(node, next_edge), (callee, 0)]
                    descended = True
                    break
                if on_stack[callee]:
                    low[node] = min(low[node], index[callee])
            if descended:
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component.append(member)
                    if member == node:
                        break
                found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    found.reverse()  # Tarjan's finds a component after every one it reaches
    return found


def _looping(matrix: npt.NDArray[np.float64], members: list[int]) -> bool:
    """Whether a strongly connected component is a loop (not one operation that does not
    call itself)."""
    return len(members) > 1 or matrix[members[0], members[0]] != 0.0


def _radius(block: npt.NDArray[np.float64]) -> float:
    return float(max(abs(np.linalg.eigvals(block))))


def divergent_loops(names: Sequence[str], matrix: npt.NDArray[np.float64]) -> list[Divergent]:
    """The loops of the call graph whose expected visits per request diverge."""
    out = []
    for members in strongly_connected(matrix):
        if not _looping(matrix, members):
            continue
        radius = _radius(matrix[np.ix_(members, members)])
        if radius >= DIVERGES_AT:
            out.append(Divergent(tuple(str(names[i]) for i in members), radius))
    return out


def solve_loops(matrix: npt.NDArray[np.float64], external: npt.NDArray[np.float64]
                ) -> npt.NDArray[np.float64]:
    """r = external + Mᵀ r (one vector of external rates, or a column per source), loop by
    loop, callers first: a loop's rates from what flows into it, densely (one
    factorization for all columns); infinite for every operation of a loop that regenerates
    one visit per visit, or that an infinite rate flows into, when anything flows in; 0
    where nothing does. M and the external rates are non-negative, so an infinite rate only
    meets positive calls and no NaN arises."""
    rates = np.array(external, dtype=np.float64).reshape(len(matrix), -1)
    for members in strongly_connected(matrix):
        if _looping(matrix, members):
            _solve_loop(matrix, members, rates)
        inside = set(members)
        with np.errstate(over="ignore"):  # visits past the largest double: infinite
            for i in members:
                callees = [j for j in np.flatnonzero(matrix[i]).tolist() if j not in inside]
                if callees:
                    rates[callees] += np.multiply.outer(matrix[i, callees], rates[i])
    return rates.reshape(np.shape(external))


def _solve_loop(matrix: npt.NDArray[np.float64], members: list[int],
                rates: npt.NDArray[np.float64]) -> None:
    """The rates of one loop's operations, in place, from what has flowed into them."""
    inflow = rates[members]
    reached = (inflow > 0.0).any(axis=0)
    block = matrix[np.ix_(members, members)]
    finite = np.isfinite(inflow).all(axis=0) & (_radius(block) < DIVERGES_AT)
    solved = np.where(reached, math.inf, 0.0)[np.newaxis, :].repeat(len(members), axis=0)
    if finite.any():
        solved[:, finite] = np.linalg.solve(np.eye(len(members)) - block.T, inflow[:, finite])
    rates[members] = solved


def weighted_rate(weights: npt.NDArray[np.float64], rates: npt.NDArray[np.float64]) -> float:
    """Σ weights·rates over the weights that are not 0: an operation an unbounded loop
    gives an infinite rate adds nothing where its weight is 0 (a dot product would make
    0·∞ a NaN there)."""
    used = np.flatnonzero(weights)
    return float(weights[used] @ rates[used])
