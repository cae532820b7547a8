"""The guidance views on the packaged catalog: curricula, the problem matrix, cards, trees,
combinations to avoid and the sources legend, each checked against the seeds' own lists
and against the catalog's relations."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from scalesim.catalog import Catalog, load_catalog
from scalesim.catalog.advisor import advise
from scalesim.catalog.cards import card_problems, load_cards
from scalesim.catalog.curriculum import (
    CORE_SLOTS,
    MAX_STEPS,
    apportion,
    core,
    curricula,
    prerequisites,
)
from scalesim.catalog.decision import load_trees
from scalesim.catalog.graph import centrality
from scalesim.catalog.loader import load_sources
from scalesim.catalog.model import Category, LearningLevel, Maturity, Relations
from scalesim.catalog.views import FAMILIES, combinations_to_avoid, family_of, problem_matrix

# The seeds' beginner path (DStudio pattern library index and discovery guide): health check,
# load balancing, retry with backoff and timeout, circuit breaker, basic caching.
SEED_BEGINNER = {"health-check", "load-balancing", "retry", "timeout", "circuit-breaker",
                 "cache-aside"}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_the_beginner_path_holds_the_seeds_beginner_patterns(catalog: Catalog) -> None:
    lessons = curricula(catalog)[LearningLevel.BEGINNER].lessons
    ids = [lesson.id for lesson in lessons]
    assert set(ids) >= SEED_BEGINNER, SEED_BEGINNER - set(ids)
    assert prerequisites(catalog[ids[0]]) == [], "a path starts with no prerequisites"


def test_every_path_is_a_short_curriculum_in_prerequisite_order(catalog: Catalog) -> None:
    taught: set[str] = set()
    for level, course in curricula(catalog).items():
        ids = [lesson.id for lesson in course.lessons]
        assert 10 <= len(ids) <= MAX_STEPS, (level, len(ids))
        assert not set(ids) & taught, "a path does not teach again what an easier one did"
        position = {pid: n for n, pid in enumerate(ids)}
        for pid in ids:
            for needed in prerequisites(catalog[pid]):
                assert needed in taught or position[needed] < position[pid], (pid, needed)
        for lesson in course.lessons:
            pattern = catalog[lesson.id]
            assert pattern.category is not Category.ANTI_PATTERN
            if lesson.why == "core":
                assert pattern.level is level and pattern.maturity is Maturity.ESTABLISHED
        assert set(course.builds_on) <= taught
        taught |= set(ids)
        for pitfall in course.anti_patterns:
            assert catalog[pitfall.id].category is Category.ANTI_PATTERN
            assert catalog[pitfall.id].level is level
            assert set(pitfall.fixed_by) <= taught


@pytest.mark.parametrize("level", list(LearningLevel))
def test_a_levels_core_is_fifteen_patterns(catalog: Catalog, level: LearningLevel) -> None:
    """docs/catalog.md: a level's core is 15 patterns spread over the families (rounding
    each family's share on its own gave the beginner path 16)."""
    assert CORE_SLOTS == 15
    assert len(core(catalog, level, centrality(catalog))) == CORE_SLOTS


def test_slots_go_by_share_with_one_for_every_family_that_has_candidates() -> None:
    slots = apportion({"a": 0.6, "b": 0.3, "c": 0.01, "d": 0.09}, {"a": 9, "b": 9, "c": 2,
                                                                    "d": 0}, 10)
    assert slots == {"a": 6, "b": 3, "c": 1, "d": 0}
    assert sum(apportion({"a": 1.0, "b": 1.0}, {"a": 2, "b": 1}, 10).values()) == 3


ORDER = list(LearningLevel)  # beginner, intermediate, advanced


def test_no_prerequisite_is_harder_than_what_needs_it(catalog: Catalog) -> None:
    """A `requires` or `specializes` target is a prerequisite on the learning paths, so it
    sits at the pattern's level or below: claim-check (beginner) required distributed
    storage (advanced), and the beginner path taught intermediate patterns."""
    harder = [(p.id, needed) for p in catalog for needed in prerequisites(p)
              if ORDER.index(catalog[needed].level) > ORDER.index(p.level)]
    assert harder == []


def test_a_path_teaches_nothing_above_its_level(catalog: Catalog) -> None:
    for level, course in curricula(catalog).items():
        above = [lesson.id for lesson in course.lessons
                 if ORDER.index(catalog[lesson.id].level) > ORDER.index(level)]
        assert above == [], level


def test_the_problem_matrix_covers_the_seed_families(catalog: Catalog) -> None:
    matrix = problem_matrix(catalog)
    assert list(matrix) == ["availability", "scalability", "latency", "consistency",
                            "migration", "cost"]
    for family, group in matrix.items():
        assert group.primary, family
        for pid in group.primary:
            assert family_of(catalog[pid]) == family
        for pid in group.supporting:
            assert family_of(catalog[pid]) != family
            assert set(catalog[pid].problems) & set(FAMILIES[family])
        assert not any(catalog[pid].category is Category.ANTI_PATTERN
                       for pid in group.primary + group.supporting)
    assert "strangler-fig" in matrix["migration"].primary
    assert "circuit-breaker" in matrix["availability"].primary


def test_cards_resolve_and_apply_prerequisites_first(catalog: Catalog) -> None:
    cards = load_cards()
    assert list(cards) == ["high-availability", "scalability", "consistency", "low-latency",
                           "migration"]
    assert card_problems(cards, catalog) == []
    shuffled = {"x": cards["migration"].model_copy(update={
        "steps": list(reversed(cards["migration"].steps))})}
    assert any("which it requires" in p for p in card_problems(shuffled, catalog))


def test_trees_for_new_and_existing_systems_and_migration() -> None:
    trees = load_trees()
    assert {"new-system", "existing-system", "migration"} <= set(trees)
    assert {"scale", "team", "freshness"} == set(trees["new-system"].questions())
    assert "pain" in trees["existing-system"].questions()
    migration = trees["migration"].recommended_ids()
    assert {"strangler-fig", "anti-corruption-layer", "branch-by-abstraction",
            "parallel-run"} <= migration

    def ids(tree: str, **answers: str) -> list[str]:
        return [r.id for r in advise(trees[tree], answers).recommendations]

    assert ids("migration", **{"from": "monolith"}, seam="edge", data="owned",
               verify="costly")[0] == "strangler-fig"
    assert "branch-by-abstraction" in ids("migration", **{"from": "monolith"}, seam="deep",
                                          data="shared", verify="tolerable")
    assert "monolithic-architecture" in ids("new-system", scale="small", team="one",
                                            freshness="stale-ok")
    assert "circuit-breaker" in ids("existing-system", pain="outages", cause="dependency")


def test_every_conflict_has_a_reason_and_the_seed_combinations_are_there(
        catalog: Catalog) -> None:
    edges = combinations_to_avoid(catalog, anti_patterns=True)
    assert edges and all(edge.reason and len(edge.reason) > 20 for edge in edges)
    pairs = {frozenset((e.source, e.target)) for e in edges}
    for pair in [("two-phase-commit", "multi-region-architecture"),
                 ("microservice-architecture", "shared-database"),
                 ("event-driven-architecture", "synchronous-chains")]:
        assert frozenset(pair) in pairs, pair
    assert all(catalog[e.source].category is not Category.ANTI_PATTERN
               and catalog[e.target].category is not Category.ANTI_PATTERN
               for e in combinations_to_avoid(catalog))
    with pytest.raises(ValidationError, match="reason"):
        Relations.model_validate({"conflicts_with": [{"id": "saga"}]})
    with pytest.raises(ValidationError):
        Relations.model_validate({"conflicts_with": ["saga"]})


def test_the_docs_conflicts_examples_show_combinations(catalog: Catalog) -> None:
    """Each `patterns conflicts ID` example in docs/catalog.md has something to show."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "catalog.md").read_text("utf-8")
    examples = re.findall(r"scalesim patterns conflicts ([a-z0-9-]+)", doc)
    assert examples
    edges = combinations_to_avoid(catalog)
    for pid in examples:
        assert any(pid in (e.source, e.target) for e in edges), pid


def test_every_source_key_has_a_link_in_the_legend(catalog: Catalog) -> None:
    legend = load_sources()
    used = {key for p in catalog for key in p.sources} | {
        f.source for p in catalog for f in p.figures}
    assert used <= set(legend)
    assert all(source.url.startswith("https://") for source in legend.values())


def test_an_unknown_source_key_is_a_catalog_error(catalog_dir: Path, add_pattern: Any) -> None:
    from scalesim.catalog import CatalogError

    add_pattern("odd-source", sources=["nowhere"])
    with pytest.raises(CatalogError, match="source 'nowhere' is not in the legend"):
        load_catalog(catalog_dir)


def test_figures_have_a_home_in_their_entries(catalog: Catalog) -> None:
    figures = {p.id: p.figures for p in catalog if p.figures}
    assert "circuit-breaker" in figures
    assert any("1 ms" in f.value for f in figures["circuit-breaker"])
    assert len(figures) >= 10


def test_the_seed_entries_exist(catalog: Catalog) -> None:
    for pid in ("synchronous-chains", "premature-distribution", "pattern-overload",
                "membership"):
        assert pid in catalog
    assert catalog["synchronous-chains"].category is Category.ANTI_PATTERN


def test_the_guidance_commands(catalog: Catalog) -> None:
    import json

    import typer
    from typer.testing import CliRunner

    from scalesim.cli import patterns as cli

    app = typer.Typer()
    app.add_typer(cli.patterns_app, name="patterns")
    app.command("advise")(cli.advise_command)

    def run(*args: str, code: int = 0) -> Any:
        result = CliRunner().invoke(app, ["patterns", *args], env={"COLUMNS": "200"})
        assert result.exit_code == code, result.output
        return result

    matrix = json.loads(run("problems", "--json").stdout)
    assert set(matrix) == set(FAMILIES)
    assert json.loads(run("problems", "migration", "--json").stdout)["migration"]["primary"]
    assert "did you mean 'latency'" in run("problems", "latencyy", code=2).output
    card = json.loads(run("cards", "migration", "--json").stdout)["migration"]
    assert card["steps"][1]["id"] == "strangler-fig"
    assert "1." in run("cards").stdout and "no card" in run("cards", "speed", code=2).output
    conflicts = json.loads(run("conflicts", "two-phase-commit", "--json").stdout)
    assert {"a": "multi-region-architecture", "b": "two-phase-commit"} in [
        {"a": c["a"], "b": c["b"]} for c in conflicts] and all(c["reason"] for c in conflicts)
    legend = json.loads(run("sources", "--json").stdout)
    assert legend["dstudio"]["url"].startswith("https://") and legend["dstudio"]["patterns"] > 0
    shown = run("show", "circuit-breaker").stdout
    for part in ("Sources", "https://microservices.io/patterns/", "Figures", "< 1 ms", "why"):
        assert part in shown, part
    relations = json.loads(run("show", "circuit-breaker", "--json").stdout)["relations"]
    assert any(r["kind"] == "counters" and r["id"] == "retry-storm"
               and r["reason"].startswith("An open breaker") for r in relations)
    kinds = {(r["kind"], r["id"]) for r in relations}
    assert ("fixes", "retry-storm") not in kinds  # said once, as 'counters', with the reason
    assert not any(r["kind"] == "conflicts_with" and r["id"] == "retry-storm" for r in relations)
    storm = json.loads(run("show", "retry-storm", "--json").stdout)["relations"]
    assert {"kind": "countered_by", "id": "circuit-breaker"}.items() <= next(
        r for r in storm if r["id"] == "circuit-breaker").items()
    assert "counters" in run("show", "circuit-breaker").stdout
    course = json.loads(run("path", "beginner", "--json").stdout)
    assert course["lessons"][0]["id"] == "health-check"
    tables = json.loads(run("matrix", "--category", "resilience", "--json").stdout)
    assert "effort" in tables and "maintenance" in tables["selection"][0]
    assert "days/low: " in run("matrix", "--category", "resilience").stdout
