"""Relations read both ways, neighbourhoods by distance, and diagrams that escape names."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from scalesim.catalog import UnknownPatternError, diagram, load_catalog
from scalesim.catalog.graph import (
    Edge,
    as_read,
    contradictions,
    declared_edges,
    related,
    relation_graph,
)
from scalesim.render import graphviz

AddPattern = Callable[..., Path]


def test_inverse_edges_show_on_the_target(catalog_dir: Path, add_pattern: AddPattern) -> None:
    add_pattern("needs-breaker", relations={"requires": ["circuit-breaker"]})
    add_pattern("pal")  # often_with circuit-breaker
    add_pattern("big-thing", relations={"composed_of": ["pal"], "specializes": ["pal"]})
    graph = relation_graph(load_catalog(catalog_dir))
    assert Edge("circuit-breaker", "required_by", "needs-breaker") in graph["circuit-breaker"]
    assert Edge("circuit-breaker", "often_with", "pal") in graph["circuit-breaker"]
    assert Edge("pal", "often_with", "circuit-breaker") in graph["pal"]
    assert Edge("pal", "part_of", "big-thing") in graph["pal"]
    assert Edge("pal", "generalized_by", "big-thing") in graph["pal"]


def test_a_symmetric_link_declared_twice_is_one_edge(
    catalog_dir: Path, add_pattern: AddPattern
) -> None:
    add_pattern("left-one", relations={"often_with": ["right-one"]})
    add_pattern("right-one", relations={"often_with": ["left-one"]})
    edges = declared_edges(load_catalog(catalog_dir))
    assert [e for e in edges if "left-one" in (e.source, e.target)] == [
        Edge("left-one", "often_with", "right-one")
    ]


def test_contradictory_kinds_on_one_pair_are_found_from_either_side(
    catalog_dir: Path, add_pattern: AddPattern
) -> None:
    add_pattern("retry", relations={"alternative_to": ["circuit-breaker"]})  # breaker: often_with
    add_pattern("needy", relations={"requires": ["lonely"]})
    add_pattern("lonely", relations={"alternative_to": ["needy"]})
    add_pattern("fine", relations={"alternative_to": ["fallback"], "evolves_into": ["fallback"]})
    graph = relation_graph(load_catalog(catalog_dir))
    assert contradictions(graph["retry"]) == [("circuit-breaker", "alternative_to", "often_with")]
    assert contradictions(graph["circuit-breaker"]) == [
        ("retry", "alternative_to", "often_with")]
    assert contradictions(graph["lonely"]) == [("needy", "alternative_to", "required_by")]
    assert contradictions(graph["needy"]) == [("lonely", "alternative_to", "requires")]
    assert contradictions(graph["fine"]) == []  # an alternative it can also grow into


def test_often_with_beside_a_stronger_link_is_read_once(
    catalog_dir: Path, add_pattern: AddPattern
) -> None:
    add_pattern("timeout", relations={"often_with": ["circuit-breaker"]})  # breaker requires it
    add_pattern("piece", relations={"often_with": ["whole"]})
    add_pattern("whole", relations={"composed_of": ["piece"]})
    catalog = load_catalog(catalog_dir)
    graph = relation_graph(catalog)
    assert {e.kind for e in graph["circuit-breaker"] if e.target == "timeout"} == {
        "requires", "often_with"}
    read = as_read(catalog, graph["circuit-breaker"])
    assert [e.kind for e in read if e.target == "timeout"] == ["requires"]
    read = as_read(catalog, graph["timeout"])
    assert [e.kind for e in read if e.target == "circuit-breaker"] == ["required_by"]
    assert [e.kind for e in as_read(catalog, graph["piece"]) if e.target == "whole"] == [
        "part_of"]
    assert [e.kind for e in as_read(catalog, graph["whole"]) if e.target == "piece"] == [
        "composed_of"]


def test_related_walks_outward_by_distance(catalog_dir: Path, add_pattern: AddPattern) -> None:
    add_pattern("hop-one", aliases=["first hop"], relations={"requires": ["hop-two"]})
    add_pattern("hop-two", relations={"requires": ["hop-three"]})
    add_pattern("hop-three")  # often_with circuit-breaker
    catalog = load_catalog(catalog_dir)
    near = related(catalog, "First Hop", depth=1)
    assert [(r.id, r.distance, r.via) for r in near] == [
        ("hop-two", 1, Edge("hop-one", "requires", "hop-two"))
    ]
    far = {r.id: r.distance for r in related(catalog, "hop-one", depth=3)}
    assert far["hop-three"] == 2 and far["circuit-breaker"] == 3
    with pytest.raises(UnknownPatternError):
        related(catalog, "hop-zero")


def test_dot_and_mermaid_escape_names(catalog_dir: Path, add_pattern: AddPattern) -> None:
    add_pattern("odd-name", name='Say "hi" \\ & go')
    graph = diagram.subgraph(load_catalog(catalog_dir), "odd-name")
    assert {p.id for p in graph.nodes} == {"odd-name", "circuit-breaker"}
    dot = diagram.to_dot(graph)
    assert '"odd-name" [label="Say \\"hi\\" \\\\ & go"];' in dot
    assert '"circuit-breaker" -> "odd-name" [label="often_with", style=dashed, dir=none];' in dot
    mermaid = diagram.to_mermaid(graph)
    assert 'p_odd_name["Say #quot;hi#quot; \\ #amp; go"]' in mermaid
    assert "p_circuit_breaker ---|often_with| p_odd_name" in mermaid


def test_svg_without_graphviz_says_to_install_it(
    catalog_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shutil.which", lambda _: None)
    with pytest.raises(graphviz.GraphvizError, match="install Graphviz"):
        diagram.to_svg(diagram.subgraph(load_catalog(catalog_dir)))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed")
def test_a_layout_past_its_time_is_stopped_with_a_way_out(
    catalog_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole catalog's graph (348 patterns) kept dot busy for minutes; a layout is
    stopped at LAYOUT_TIMEOUT_S (here a microsecond, for a small catalog's) and the error
    says what to write instead."""
    monkeypatch.setattr(graphviz, "LAYOUT_TIMEOUT_S", 1e-6)
    with pytest.raises(graphviz.GraphvizError, match=r"write \.dot or \.mmd"):
        diagram.to_svg(diagram.subgraph(load_catalog(catalog_dir)))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed")
def test_svg_renders_every_pattern_of_the_subgraph(catalog_dir: Path) -> None:
    import xml.etree.ElementTree as ET

    graph = diagram.subgraph(load_catalog(catalog_dir))
    svg = diagram.to_svg(graph)
    root = ET.fromstring(svg)
    titles = {el.text for el in root.iter("{http://www.w3.org/2000/svg}title")}
    assert {pattern.id for pattern in graph.nodes} <= titles
