"""Networks: Jackson (open), MVA (closed), fork-join order statistics."""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from scalesim.analytic import (
    MvaStation,
    Station,
    exponential_max,
    exponential_order_statistic,
    harmonic,
    mm1,
    mmc,
    mva,
    open_network,
    order_statistic,
)


def test_model_c_jackson_reference() -> None:
    """performance.md (c): 4 random-balanced M/M/1 app replicas (3.5 ms) at 900/s, then an
    M/M/8 database (7 ms): W = 16.4706 ms + 8.7753 ms = 25.2459 ms."""
    net = open_network(900.0, [Station(0.0035, replicas=4), Station(0.007, servers=8)])
    app, db = net.stations
    assert app.mean_sojourn_s * 1e3 == pytest.approx(16.4706, abs=5e-5)
    assert db.mean_sojourn_s * 1e3 == pytest.approx(8.7753, abs=5e-5)
    assert net.mean_sojourn_s * 1e3 == pytest.approx(25.2459, abs=5e-5)


def test_tandem_is_sum_of_stations_and_visits_scale() -> None:
    lam = 300.0
    net = open_network(lam, [Station(0.002), Station(0.003, servers=2), Station(0.001)])
    expected = (mm1(lam, 500).mean_sojourn_s + mmc(lam, 1 / 0.003, 2).mean_sojourn_s
                + mm1(lam, 1000).mean_sojourn_s)
    assert net.mean_sojourn_s == pytest.approx(expected, rel=1e-12)
    # Two visits to a station: it sees 2λ and its W counts twice.
    twice = open_network(100.0, [Station(0.002, visits=2.0)])
    assert twice.mean_sojourn_s == pytest.approx(2 * mm1(200.0, 500.0).mean_sojourn_s)


def _closed_ctmc(users: int, think_s: float, demands: list[float],
                 servers: list[int]) -> tuple[float, float]:
    """Exact X and R of N users (exponential think) cycling through exponential FCFS
    stations in series, from the stationary distribution of the Markov chain."""
    states = [s for s in product(range(users + 1), repeat=len(demands)) if sum(s) <= users]
    index = {s: i for i, s in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    for s in states:
        moves = [((users - sum(s)) / think_s, -1)]  # a user finishes thinking -> station 0
        moves += [(min(n, c) / d, k)
                  for k, (n, c, d) in enumerate(zip(s, servers, demands, strict=True))]
        for rate, k in moves:
            if rate == 0.0:
                continue
            t = list(s)
            if k >= 0:
                t[k] -= 1
            if k + 1 < len(s):
                t[k + 1] += 1
            q[index[s], index[tuple(t)]] += rate
    q -= np.diag(q.sum(axis=1))
    a = np.vstack([q.T, np.ones(len(states))])
    b = np.zeros(len(states) + 1)
    b[-1] = 1.0
    pi = np.linalg.lstsq(a, b, rcond=None)[0]
    last = len(demands) - 1
    throughput = sum(p * min(s[last], servers[last]) / demands[last]
                     for p, s in zip(pi, states, strict=True))
    return throughput, users / throughput - think_s


@pytest.mark.parametrize("users", [1, 2, 5, 10, 20])
def test_mva_equals_markov_chain_for_single_servers(users: int) -> None:
    demands = [0.008, 0.012]
    x, r = _closed_ctmc(users, 0.1, demands, [1, 1])
    result = mva(users, 0.1, [MvaStation(d) for d in demands])
    assert result.throughput_rps == pytest.approx(x, rel=1e-9)
    assert result.response_s == pytest.approx(r, rel=1e-9)
    assert sum(result.queue_lengths) == pytest.approx(result.throughput_rps * r, rel=1e-9)


@pytest.mark.parametrize("users", [2, 8, 12, 16, 30])
def test_seidmann_multiserver_is_close_to_the_markov_chain(users: int) -> None:
    """Seidmann's approximation is pessimistic: against the exact chain for a 4-server
    station, X is at most 5 % low and R at most 12 % high (worst near the knee, N ≈ 12:
    −4.2 % and +11.3 %); exact at light and heavy load."""
    x, r = _closed_ctmc(users, 0.05, [0.02, 0.004], [4, 1])
    result = mva(users, 0.05, [MvaStation(0.02, servers=4), MvaStation(0.004)])
    assert 0.95 * x <= result.throughput_rps <= x
    assert r <= result.response_s <= 1.12 * r


@pytest.mark.parametrize("users", [1, 2, 3, 4])
def test_a_server_for_every_user_is_exact(users: int) -> None:
    """With no more users than a station's servers nobody waits there: MVA takes it as a
    delay and is exact against the chain (Seidmann's split put N = 2 on 4 servers 5 % low)."""
    x, r = _closed_ctmc(users, 0.05, [0.02, 0.004], [4, 1])
    result = mva(users, 0.05, [MvaStation(0.02, servers=4), MvaStation(0.004)])
    assert result.throughput_rps == pytest.approx(x, rel=1e-9)
    assert result.response_s == pytest.approx(r, rel=1e-9)


@given(st.floats(0.0, 10.0), st.lists(st.floats(0.0, 1.0), min_size=1, max_size=5))
def test_mva_one_user_sees_no_queueing(think: float, demands: list[float]) -> None:
    """N = 1: R = ΣD and X = 1 / (Z + ΣD)."""
    if think + sum(demands) == 0.0:
        return
    result = mva(1, think, [MvaStation(d) for d in demands])
    assert result.response_s == pytest.approx(sum(demands), rel=1e-9, abs=1e-15)
    assert result.throughput_rps == pytest.approx(1.0 / (think + sum(demands)), rel=1e-9)


def test_mva_respects_the_asymptotic_bounds() -> None:
    """X(N) ≤ min(N/(Z + ΣD), 1/max D), and approaches 1/max D for large N."""
    stations = [MvaStation(0.008), MvaStation(0.012), MvaStation(0.03, servers=None)]
    for users in (1, 5, 10, 50, 200):
        x = mva(users, 0.1, stations).throughput_rps
        assert x <= min(users / (0.1 + 0.05), 1 / 0.012) * (1 + 1e-12)
    assert mva(500, 0.1, stations).throughput_rps == pytest.approx(1 / 0.012, rel=1e-3)
    assert mva(1, 0.0, [MvaStation(0.03, servers=None)]).utilizations == (0.0,)


@pytest.mark.parametrize("k", [1, 2, 4, 10])
def test_fork_join_exponentials(k: int) -> None:
    assert exponential_max(k, 10.0) == pytest.approx(10.0 * harmonic(k))
    assert exponential_order_statistic(k, 1, 10.0) == pytest.approx(10.0 / k)
    assert harmonic(4) == pytest.approx(25 / 12)


@pytest.mark.parametrize(("k", "j"), [(1, 1), (4, 1), (4, 2), (4, 4), (10, 7)])
def test_numeric_order_statistic(k: int, j: int) -> None:
    """Against the exponential closed form and the uniform one, E[U_(j:k)] = j/(k+1).
    The trapezoid rule's error is O(h²): h = 3 ms on a unit mean gives ~1e-5."""
    expon = order_statistic(lambda x: stats.expon.cdf(x), k, j, upper_s=60.0)
    assert expon == pytest.approx(exponential_order_statistic(k, j, 1.0), rel=1e-4)
    uniform = order_statistic(lambda x: np.clip(x, 0.0, 1.0), k, j, upper_s=1.0)
    assert uniform == pytest.approx(j / (k + 1), rel=1e-6)


def test_order_statistic_refuses_j_above_k() -> None:
    with pytest.raises(ValueError):
        exponential_order_statistic(3, 4, 1.0)
    assert math.isclose(exponential_max(1, 2.0), 2.0)
