"""Junk in the objects import reads: one value of a document replaced by something an
operator or a broker would refuse, and the only outcomes allowed for it (a valid draft, what
does not fit noted, or errors that each name a line; never a crash)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from tests.fuzz.strategies import paths

from scalesim.importers import ImportFailed
from scalesim.importers.assemble import assemble
from scalesim.importers.k8s import read_cluster
from scalesim.importers.sources import parse

JUNK = [None, "x", "-5", -1, 0, 10**12, 2.5, True, [], {}, [{}], {"a": 1}]


def spoil(data: st.DataObject, node: Any, also: tuple[Any, ...] = ()) -> None:
    """Replace one value anywhere inside `node` (changed in place) by junk, or by one of
    `also` (values that mean something to the objects at hand)."""
    path = data.draw(st.sampled_from([found for found in paths(node) if found]))
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = data.draw(st.sampled_from([*JUNK, *also]))


def assert_noted_or_located(text: str) -> None:
    """Importing `text` gives a draft, or errors that each name a line."""
    try:
        assemble(read_cluster(parse(text, "junk.yaml"), "junk.yaml"))
    except ImportFailed as error:
        assert "a bug in scalesim import" not in str(error), str(error)
        assert all(problem.line > 0 for problem in error.problems), str(error)
