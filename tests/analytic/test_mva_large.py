"""MVA with many users (analytic/mva.py): the recursion stops once it has settled on its
asymptote (exact to 1e-13), and past MARGINAL_USERS users where it would not settle,
Schweitzer's approximation takes over (marked approximate); so a loop of a million users
is estimated in about the time of a small one, where the recursion took O(users)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scalesim.analytic.document import estimate_document
from scalesim.analytic.mva import MARGINAL_USERS, MvaStation, mva
from scalesim.spec import load_spec_text


def recursion(users: int, think: float, stations: list[MvaStation]
              ) -> tuple[float, float, list[np.ndarray | None]]:
    """The textbook recursion to the end (Seidmann's split, a server per user a delay):
    X(N), R(N) and, up to MARGINAL_USERS users, each queueing part's P(j | N − 1) by
    P(j | n) = U(n)·P(j − 1 | n − 1)."""
    queueing = [s.demand_s / s.servers if s.servers and s.servers < users else 0.0
                for s in stations]
    delay = [s.demand_s - q for s, q in zip(stations, queueing, strict=True)]
    backlog = [0.0] * len(stations)
    seen: list[np.ndarray | None] = [np.ones(1) if s.servers else None for s in stations]
    throughput = response = 0.0
    for n in range(1, users + 1):
        residence = [q * (1 + b) + d for q, b, d in zip(queueing, backlog, delay, strict=True)]
        response = sum(residence)
        throughput = n / (think + response)
        backlog = [throughput * q * (1 + b) for q, b in zip(queueing, backlog, strict=True)]
        if n < users <= MARGINAL_USERS:
            grown: list[np.ndarray | None] = []
            for p, q in zip(seen, queueing, strict=True):
                if p is None:
                    grown.append(None)
                    continue
                out = np.empty(len(p) + 1)
                out[1:] = throughput * q * p
                out[0] = 1.0 - out[1:].sum()
                grown.append(out)
            seen = grown
    return throughput, response, seen


NETWORKS = [
    (0.0, [MvaStation(0.002, 1), MvaStation(0.001, 1), MvaStation(0.0005, None)]),
    (0.1, [MvaStation(0.005, 1), MvaStation(0.008, 1)]),
    (0.0, [MvaStation(0.002, 16), MvaStation(0.0005, None)]),
    (1.0, [MvaStation(0.004, 4), MvaStation(0.003, 2), MvaStation(0.001, None)]),
]


@pytest.mark.parametrize(("think", "stations"), NETWORKS)
@pytest.mark.parametrize("users", [7, 300, 5000, 20000])
def test_a_settled_recursion_gives_the_whole_recursion_s_answer(
        think: float, stations: list[MvaStation], users: int) -> None:
    """One bottleneck: the recursion settles long before N and extrapolates; X and R agree
    with the recursion run to N to 1e-12, the arrival's view (up to MARGINAL_USERS) to
    1e-10, and the result is marked exact."""
    throughput, response, seen = recursion(users, think, stations)
    found = mva(users, think, stations)
    assert found.exact
    assert found.throughput_rps == pytest.approx(throughput, rel=1e-12)
    assert found.response_s == pytest.approx(response, rel=1e-12)
    if users <= MARGINAL_USERS:
        for mine, theirs in zip(found.seen, seen, strict=True):
            assert (mine is None) == (theirs is None)
            if mine is not None and theirs is not None:
                assert np.abs(mine - theirs).max() < 1e-10
    else:
        assert found.seen == ()


def test_without_a_queue_the_closed_form() -> None:
    """Only delays: X = N / (Z + ΣD) for a million users at once."""
    found = mva(1_000_000, 0.5, [MvaStation(0.01, None), MvaStation(0.02, 2_000_000)])
    assert found.throughput_rps == 1_000_000 / 0.53 and found.exact


@pytest.mark.parametrize(("users", "throughput", "response"), [
    (10_000, 0.0025, 0.30),  # at the knee N* = (Z + D)/D
    (12_000, 5e-4, 0.003),
    (20_000, 1e-4, 2e-4),
    (100_000, 2e-6, 2e-6),
])
def test_schweitzer_where_the_recursion_would_not_settle(
        users: int, throughput: float, response: float) -> None:
    """One server of 1 ms under users thinking 10 s: the knee is 10,000 users, past
    MARGINAL_USERS, so Schweitzer's approximation: throughput a little low and response
    high, most at the knee (0.2 % and 25 %: the response there is a few service times),
    vanishing past it; marked approximate. Within the asymptotic bounds."""
    stations = [MvaStation(0.001, 1)]
    exact_x, exact_r, _ = recursion(users, 10.0, stations)
    found = mva(users, 10.0, stations)
    assert not found.exact
    assert 0.0 < 1.0 - found.throughput_rps / exact_x < throughput
    assert 0.0 < found.response_s / exact_r - 1.0 < response
    assert found.throughput_rps <= min(1000.0, users / 10.001)


def test_two_equal_bottlenecks_take_schweitzer_at_once() -> None:
    """Two equal servers never settle (X(n) = n/(n + 1)/D): Schweitzer's, close at 100×
    the knee."""
    stations = [MvaStation(0.0001, 1), MvaStation(0.0001, 1)]
    exact_x, exact_r, _ = recursion(10_000, 0.0, stations)
    found = mva(10_000, 0.0, stations)
    assert not found.exact
    assert found.throughput_rps == pytest.approx(exact_x, rel=1e-4)
    assert found.response_s == pytest.approx(exact_r, rel=2e-4)


def test_a_million_users_on_the_shop_are_estimated_quickly() -> None:
    """examples/shop.yaml with its browsers a closed loop of a million users without think
    time, everything `scalesim estimate` works out (its SLO's capacity search evaluates
    the loop some 40 times): 35 s at 100,000 users and not done in 60 s at a million,
    before; about as long as the shop itself now (the recursion settles, or Schweitzer's).
    How long is a benchmark's question: here, that it ends and the loop is sized."""
    text = Path("examples/shop.yaml").read_text()
    shop = load_spec_text(text)
    browsers = next(i for i, w in enumerate(shop.workloads) if w.name == "browsers")
    loop = shop.workloads[browsers].model_copy(update={"rate": None, "profile": None,
                                                        "users": 1_000_000})
    system = shop.model_copy(update={"workloads": [
        loop if i == browsers else w for i, w in enumerate(shop.workloads)]})
    found = estimate_document(system)
    assert found["workloads"]["browsers"]["rate_rps"] > 0.0
