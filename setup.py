"""Builds the simulation kernel with mypyc: the same Python source, compiled to C.

The pure-Python modules stay the reference (tests compare both byte for byte). Set
SCALESIM_PURE_PYTHON=1 to skip compilation, e.g. on a machine without a C compiler.
`sim/area.py` is compiled with `allow_interpreted_subclasses`, so the compiled data areas
(sim/data) and the interpreted controllers (sim/control, which run per period) share it.
"""

import os

from setuptools import setup

COMPILED = [
    "src/scalesim/sim/kernel.py",
    "src/scalesim/sim/agenda.py",
    "src/scalesim/sim/calendar.py",
    "src/scalesim/sim/ring.py",
    "src/scalesim/sim/rows.py",
    "src/scalesim/sim/metrics.py",
    "src/scalesim/sim/area.py",
    "src/scalesim/sim/cpu.py",
    "src/scalesim/sim/plan.py",
    "src/scalesim/sim/random.py",
    "src/scalesim/sim/mechanisms/arrivals.py",
    "src/scalesim/sim/mechanisms/backoff.py",
    "src/scalesim/sim/mechanisms/balancer.py",
    "src/scalesim/sim/mechanisms/circuit_breaker.py",
    "src/scalesim/sim/data/messages.py",
    "src/scalesim/sim/data/delivery.py",
    "src/scalesim/sim/data/partitions.py",
    "src/scalesim/sim/data/messaging.py",
    "src/scalesim/sim/data/saga.py",
    "src/scalesim/sim/data/outbox.py",
    "src/scalesim/sim/data/event_store.py",
    "src/scalesim/sim/data/leadership.py",
    "src/scalesim/sim/data/election.py",
    "src/scalesim/sim/data/replication.py",
    "src/scalesim/sim/data/cache.py",
]


def extensions() -> list:
    if os.environ.get("SCALESIM_PURE_PYTHON") == "1":
        return []
    from mypyc.build import mypycify

    return mypycify(COMPILED, opt_level="3")


setup(ext_modules=extensions())
