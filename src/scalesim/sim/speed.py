"""How fast the engine runs, for estimating a run's wall time before it starts.

Measured on the templates and examples (kernel events per second of `Kernel.run`, 20 s
scenarios, 2026-12-05): 1.7 to 10 million events/s compiled with mypyc (e-commerce, saga
choreography and the retry storm are the slowest per event, the bare queues the fastest), 280
to 430 thousand in pure Python. Estimates use about half of the slowest, so that a loaded
machine or an expensive model (many mechanisms per event) is not underestimated.
"""

from __future__ import annotations

import scalesim.sim.kernel

COMPILED_EVENTS_PER_S = 1_000_000.0
PURE_PYTHON_EVENTS_PER_S = 140_000.0


def compiled() -> bool:
    return not scalesim.sim.kernel.__file__.endswith(".py")


def events_per_s() -> float:
    """Events per second the installed kernel can be counted on for."""
    return COMPILED_EVENTS_PER_S if compiled() else PURE_PYTHON_EVENTS_PER_S
