"""The reference models written in SimPy, the baseline the benchmark compares against."""

from __future__ import annotations

import random

import simpy


def three_tier(n_requests: int, seed: int = 1) -> float:
    """Model (c): returns the mean response time in seconds over n_requests."""
    rng = random.Random(seed)
    env = simpy.Environment()
    apps = [simpy.Resource(env, capacity=1) for _ in range(4)]
    db = simpy.Resource(env, capacity=8)
    total = [0.0, 0]

    def request(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        start = env.now
        app = apps[rng.randrange(4)]
        with app.request() as slot:
            yield slot
            yield env.timeout(rng.expovariate(1 / 0.0035))
        with db.request() as slot:
            yield slot
            yield env.timeout(rng.expovariate(1 / 0.007))
        total[0] += env.now - start
        total[1] += 1

    def source(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        for _ in range(n_requests):
            env.process(request(env))
            yield env.timeout(rng.expovariate(900.0))

    env.process(source(env))
    env.run()
    return total[0] / total[1]


def mmc(n_customers: int, arrival_rate: float, servers: int, seed: int = 1) -> float:
    """Models (a) and (b): M/M/c with unit service rate per server; returns the mean sojourn
    time over n_customers."""
    rng = random.Random(seed)
    env = simpy.Environment()
    station = simpy.Resource(env, capacity=servers)
    total = [0.0, 0]

    def customer(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        start = env.now
        with station.request() as slot:
            yield slot
            yield env.timeout(rng.expovariate(1.0))
        total[0] += env.now - start
        total[1] += 1

    def source(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        for _ in range(n_customers):
            env.process(customer(env))
            yield env.timeout(rng.expovariate(arrival_rate))

    env.process(source(env))
    env.run()
    return total[0] / total[1]
