"""Views are computed from the files: add a file and every view shows it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scalesim.catalog import Catalog, load_catalog
from scalesim.catalog.graph import Edge, relation_graph
from scalesim.catalog.model import Category, LearningLevel
from scalesim.catalog.views import (
    by_category,
    by_layer,
    by_problem,
    complexity_matrix,
    compositions,
    learning_path,
    prerequisites,
    select,
    selection_matrix,
)

AddPattern = Callable[..., Path]
LEVEL_RANK = list(LearningLevel).index


def test_each_view_changes_when_a_pattern_file_is_added(
    catalog_dir: Path, add_pattern: AddPattern
) -> None:
    before = load_catalog(catalog_dir)
    forces = {**before["circuit-breaker"].forces.model_dump(mode="json"), "complexity": "high"}
    add_pattern(
        "novel-pattern",
        category="domain-specialized",
        layers=["infrastructure"],
        problems=["cost", "security"],
        level="advanced",
        forces=forces,
        use_when=["Only a test needs it."],
        relations={"requires": ["circuit-breaker"], "composed_of": ["circuit-breaker"]},
    )
    after = load_catalog(catalog_dir)

    assert "domain-specialized" not in by_category(before)
    assert by_category(after)["domain-specialized"] == ["novel-pattern"]
    assert "novel-pattern" in by_layer(after)["infrastructure"]
    assert "novel-pattern" in by_problem(after)["cost"].primary
    assert "novel-pattern" in by_problem(after)["security"].supporting
    assert "novel-pattern" in [s.id for s in learning_path(after, LearningLevel.ADVANCED)]
    novel = next(c for c in compositions(after) if c.id == "novel-pattern")
    assert [part.id for part in novel.parts] == ["circuit-breaker"]
    assert "novel-pattern" in complexity_matrix(after)["high"]["advanced"]
    row = next(r for r in selection_matrix(after) if r.id == "novel-pattern")
    assert (row.complexity, row.use_when) == ("high", "Only a test needs it.")
    assert Edge("circuit-breaker", "required_by", "novel-pattern") in relation_graph(after)[
        "circuit-breaker"
    ]
    assert sum(map(len, by_category(after).values())) == len(after) == len(before) + 1


def test_counts_cover_every_pattern_once(catalog_dir: Path) -> None:
    catalog = load_catalog(catalog_dir)
    assert sum(map(len, by_category(catalog).values())) == len(catalog)
    cells = complexity_matrix(catalog)
    assert {len(row) for row in cells.values()} == {3} and len(cells) == 3
    assert sum(len(ids) for row in cells.values() for ids in row.values()) == len(catalog)
    assert [r.id for r in selection_matrix(catalog)] == list(catalog.ids)
    for problem, group in by_problem(catalog).items():
        for pid in group.primary:
            assert catalog[pid].problems[0] == problem
        for pid in group.supporting:
            assert problem in catalog[pid].problems[1:]


def test_category_filter_includes_also_in(catalog_dir: Path, add_pattern: AddPattern) -> None:
    add_pattern("cross-listed", category="messaging", also_in=["security"])
    catalog = load_catalog(catalog_dir)
    assert [p.id for p in select(catalog, category=Category.SECURITY)] == ["cross-listed"]
    assert "cross-listed" not in by_category(catalog).get("security", [])


def test_learning_path_puts_prerequisites_first_and_breaks_ties_by_name(
    catalog_dir: Path, add_pattern: AddPattern
) -> None:
    add_pattern("basic-one", name="Basic One", level="beginner")
    add_pattern("unused-basic", name="Unused Basic", level="beginner")
    add_pattern("y-node", name="Yankee", level="advanced")
    add_pattern("z-node", name="Zulu", level="advanced", relations={"requires": ["y-node"]})
    add_pattern("c-node", name="Alpha", level="advanced", relations={"requires": ["basic-one"]})
    catalog = load_catalog(catalog_dir)
    steps = learning_path(catalog, LearningLevel.ADVANCED)
    mine = [(s.id, s.prerequisite) for s in steps if s.id in {
        "basic-one", "unused-basic", "y-node", "z-node", "c-node"}]
    assert mine == [("basic-one", True), ("c-node", False), ("y-node", False), ("z-node", False)]
    assert_prerequisites_first(catalog, [s.id for s in steps])


def test_learning_path_teaches_the_general_pattern_before_its_special_case(
    catalog_dir: Path, add_pattern: AddPattern
) -> None:
    """`specializes` is a prerequisite as `requires` is: by name alone 'Adapter' came
    before the 'Sidecar' it is one kind of."""
    add_pattern("general", name="Zulu General", level="beginner")
    add_pattern("special", name="Alpha Special", level="beginner",
                relations={"specializes": ["general"]})
    add_pattern("base-basic", name="Basic Base", level="beginner")
    add_pattern("hard-special", name="Alpha Hard", level="advanced",
                relations={"specializes": ["base-basic"]})
    catalog = load_catalog(catalog_dir)
    order = [s.id for s in learning_path(catalog, LearningLevel.BEGINNER)]
    assert order.index("general") < order.index("special")
    advanced = [(s.id, s.prerequisite) for s in learning_path(catalog, LearningLevel.ADVANCED)]
    assert advanced.index(("base-basic", True)) < advanced.index(("hard-special", False))


def test_the_packaged_paths_put_no_specialization_before_its_general_pattern() -> None:
    """QA found 22 `specializes` pairs inverted in `path beginner --all`."""
    catalog = load_catalog()
    for level in LearningLevel:
        steps = learning_path(catalog, level)
        assert {s.id for s in steps if not s.prerequisite} == {
            p.id for p in catalog if p.level is level}
        assert_prerequisites_first(catalog, [s.id for s in steps])


def assert_prerequisites_first(catalog: Catalog, order: list[str]) -> None:
    position = {pid: n for n, pid in enumerate(order)}
    for pid in order:
        for needed in prerequisites(catalog[pid]):
            assert position.get(needed, -1) < position[pid], f"{needed} must precede {pid}"


def test_every_level_path_is_a_topological_order(catalog_dir: Path) -> None:
    catalog = load_catalog(catalog_dir)
    for level in LearningLevel:
        steps = learning_path(catalog, level)
        assert {s.id for s in steps if not s.prerequisite} == {
            p.id for p in catalog if p.level is level
        }
        assert all(LEVEL_RANK(s.level) < LEVEL_RANK(level) for s in steps if s.prerequisite)
        assert_prerequisites_first(catalog, [s.id for s in steps])


def test_compositions_expand_recursively(catalog_dir: Path, add_pattern: AddPattern) -> None:
    add_pattern("inner-part")
    add_pattern("middle-part", relations={"composed_of": ["inner-part"]})
    add_pattern("outer-whole", relations={"composed_of": ["middle-part", "inner-part"]})
    found = {c.id: c for c in compositions(load_catalog(catalog_dir))}
    assert found["outer-whole"].to_dict() == {
        "id": "outer-whole",
        "parts": [
            {"id": "middle-part", "parts": [{"id": "inner-part", "parts": []}]},
            {"id": "inner-part", "parts": []},
        ],
    }
    assert "inner-part" not in found
