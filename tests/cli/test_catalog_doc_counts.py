"""docs/catalog.md gives the size of the whole catalog's graph (why its layout is slow); it
said 1,680 relations where `patterns graph` draws 1,676."""

from __future__ import annotations

import re
from pathlib import Path

from scalesim.catalog.diagram import subgraph
from scalesim.cli.patterns import get_catalog

DOC = Path(__file__).parents[2] / "docs" / "catalog.md"


def test_the_doc_counts_the_patterns_and_relations_graph_draws() -> None:
    text = " ".join(DOC.read_text(encoding="utf-8").split())
    found = re.search(r"the whole catalog's ([\d,]+) patterns and ([\d,]+) relations", text)
    assert found, "catalog.md no longer states the graph's size"
    drawn = subgraph(get_catalog())
    assert (len(drawn.nodes), len(drawn.edges)) == \
        tuple(int(n.replace(",", "")) for n in found.groups())
