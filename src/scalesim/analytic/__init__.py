"""Queueing formulas and instant estimates: the `estimate` command's engine and the oracle
the simulator is tested against. Units are seconds and requests per second throughout."""

from scalesim.analytic.forkjoin import (
    exponential_max,
    exponential_order_statistic,
    harmonic,
    order_statistic,
)
from scalesim.analytic.jackson import NetworkMeasures, Station, open_network
from scalesim.analytic.load import ComponentLoad, offered_load
from scalesim.analytic.markovian import erlang_b, erlang_c, mm1, mm1_sojourn_quantile, mmc
from scalesim.analytic.measures import QueueMeasures
from scalesim.analytic.mva import MvaResult, MvaStation, mva
from scalesim.analytic.pk import md1, mg1, mg1_cv

__all__ = [
    "ComponentLoad",
    "MvaResult",
    "MvaStation",
    "NetworkMeasures",
    "QueueMeasures",
    "Station",
    "erlang_b",
    "erlang_c",
    "exponential_max",
    "exponential_order_statistic",
    "harmonic",
    "md1",
    "mg1",
    "mg1_cv",
    "mm1",
    "mm1_sojourn_quantile",
    "mmc",
    "mva",
    "offered_load",
    "open_network",
    "order_statistic",
]
