"""The simulation engine: compile a System to a plan, run the event loop, build the result."""

from scalesim.sim.kernel import SafetyStop
from scalesim.sim.run import run_kernels, simulate

__all__ = ["SafetyStop", "run_kernels", "simulate"]
