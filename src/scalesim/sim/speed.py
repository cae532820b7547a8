"""How fast the engine runs, for estimating a run's wall time before it starts.

Measured with `make bench` (kernel events per second on the reference models, best of
three): about 1.1 million events/s compiled with mypyc, about 110 thousand in pure Python.
Estimates use half of that, so that a loaded machine or an expensive model (many
mechanisms per event) is not underestimated.
"""

from __future__ import annotations

import scalesim.sim.kernel

COMPILED_EVENTS_PER_S = 550_000.0
PURE_PYTHON_EVENTS_PER_S = 55_000.0


def compiled() -> bool:
    return not scalesim.sim.kernel.__file__.endswith(".py")


def events_per_s() -> float:
    """Events per second the installed kernel can be counted on for."""
    return COMPILED_EVENTS_PER_S if compiled() else PURE_PYTHON_EVENTS_PER_S
