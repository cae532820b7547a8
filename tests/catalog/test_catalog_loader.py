"""The loader accepts a sound catalog and names the file behind every problem it rejects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from scalesim.catalog import CatalogError, UnknownPatternError, load_catalog

AddPattern = Callable[..., Path]


def problems(directory: Path) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        load_catalog(directory)
    return caught.value.problems


def test_loads_a_sound_directory(catalog_dir: Path) -> None:
    catalog = load_catalog(catalog_dir)
    assert "circuit-breaker" in catalog.ids
    assert list(catalog.ids) == sorted(catalog.ids)


def test_lookup_by_id_or_alias_ignores_case_and_separators(
    catalog_dir: Path, add_pattern: AddPattern
) -> None:
    add_pattern("two-phase-commit", aliases=["2PC", "XA transaction"])
    catalog = load_catalog(catalog_dir)
    assert catalog["2pc"].id == "two-phase-commit"
    assert catalog["xa_transaction"].id == "two-phase-commit"
    assert catalog["Two Phase Commit"].id == "two-phase-commit"
    assert "2Pc" in catalog
    assert catalog.get("three-phase-commit") is None


def test_unknown_lookup_suggests_the_nearest_id(catalog_dir: Path) -> None:
    with pytest.raises(UnknownPatternError) as caught:
        load_catalog(catalog_dir)["circuit-braker"]
    assert caught.value.suggestion == "circuit-breaker"
    assert "did you mean 'circuit-breaker'?" in str(caught.value)


def test_schema_errors_name_the_file_and_field(
    catalog_dir: Path, add_pattern: AddPattern
) -> None:
    path = add_pattern("bad-one", level="expert", summary=None)
    found = problems(catalog_dir)
    assert any(str(path) in p and "level" in p for p in found)
    assert any(str(path) in p and "summary" in p and "Field required" in p for p in found)


def test_invalid_yaml_names_the_file(catalog_dir: Path) -> None:
    path = catalog_dir / "resilience" / "broken.yaml"
    path.write_text("id: [unclosed\n", encoding="utf-8")
    assert any(p.startswith(f"{path}: invalid YAML") for p in problems(catalog_dir))


def test_id_must_equal_file_stem_and_category_the_folder(
    catalog_dir: Path, add_pattern: AddPattern
) -> None:
    path = add_pattern("misnamed")
    path.rename(path.with_name("other-name.yaml"))
    moved = add_pattern("misfiled", category="messaging")
    moved.rename(catalog_dir / "resilience" / moved.name)
    found = problems(catalog_dir)
    assert any("other-name.yaml" in p and "does not match the file name" in p for p in found)
    assert any("misfiled.yaml" in p and "is in 'resilience'/" in p for p in found)


def test_duplicate_ids_are_rejected(catalog_dir: Path, add_pattern: AddPattern) -> None:
    add_pattern("anchor")
    add_pattern("circuit-breaker", category="messaging", relations={"often_with": ["anchor"]})
    assert any("id 'circuit-breaker' is already used by" in p for p in problems(catalog_dir))


def test_alias_may_not_name_another_pattern(catalog_dir: Path, add_pattern: AddPattern) -> None:
    add_pattern("fuse", aliases=["Circuit Breaker"])
    add_pattern("switch", aliases=["BREAKER"])
    found = problems(catalog_dir)
    assert any("fuse.yaml" in p and "clashes with pattern 'circuit-breaker'" in p for p in found)
    assert any("switch.yaml" in p and "'BREAKER' clashes" in p for p in found)


def test_relations_and_fixes_must_resolve(catalog_dir: Path, add_pattern: AddPattern) -> None:
    add_pattern("lonely", relations={"requires": ["nowhere"]})
    add_pattern(
        "retry-everything",
        category="anti-pattern",
        anti_pattern={"symptoms": ["Load triples"], "causes": ["Retries"], "fixed_by": ["nope"]},
    )
    found = problems(catalog_dir)
    assert any("lonely.yaml: requires -> 'nowhere'" in p for p in found)
    assert any("retry-everything.yaml: fixed_by -> 'nope'" in p for p in found)


def test_requires_cycles_are_rejected(catalog_dir: Path, add_pattern: AddPattern) -> None:
    add_pattern("chicken", relations={"requires": ["egg"]})
    add_pattern("egg", relations={"requires": ["chicken"]})
    cycle = "requires/specializes cycle chicken -> egg -> chicken"
    assert any(cycle in p for p in problems(catalog_dir))


def test_every_problem_is_reported_in_one_pass(catalog_dir: Path, add_pattern: AddPattern) -> None:
    add_pattern("a-one", relations={"requires": ["missing-one"]})
    add_pattern("a-two", relations={"requires": ["missing-two"]})
    assert len(problems(catalog_dir)) == 2
