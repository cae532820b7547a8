"""ScaleSim: simulate distributed-systems patterns before deploying them."""

__version__ = "0.1.0"
