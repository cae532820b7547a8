"""Every pattern a finding points to exists: in the public index, and in our catalog."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scalesim.catalog.loader import load_catalog
from scalesim.lint import RULES
from scalesim.lint.rules.capacity import CAPACITY_FIXES
from scalesim.lint.rules.topology import REDUNDANCY_FIXES

INDEX = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "pattern-index.yaml"


def referenced() -> set[str]:
    ids = {fix for rule in RULES for fix in rule.fixes}
    by_kind = [*CAPACITY_FIXES.values(), *REDUNDANCY_FIXES.values()]  # fixes chosen by kind
    return ids | {fix for fixes in by_kind for fix in fixes} | {
        rule.see for rule in RULES if rule.see}


def test_every_rule_has_fixes_and_a_unique_id_and_name() -> None:
    assert all(rule.fixes for rule in RULES)
    assert len({rule.id for rule in RULES}) == len({rule.name for rule in RULES}) == len(RULES)
    assert [rule.id for rule in RULES] == sorted(rule.id for rule in RULES)


# Entries the catalog has beyond the public index (named by the seeds, issue 16).
BEYOND_INDEX = {"synchronous-chains", "premature-distribution", "pattern-overload", "membership"}


def test_fix_ids_exist_in_the_pattern_index() -> None:
    if not INDEX.is_file():
        pytest.skip(f"pattern index not found at {INDEX}")
    index = yaml.safe_load(INDEX.read_text(encoding="utf-8"))
    known = {pattern["id"] for pattern in index["patterns"]}
    assert referenced() - known - BEYOND_INDEX == set()


def test_fix_ids_exist_in_the_catalog() -> None:
    catalog = load_catalog()
    assert {key for key in referenced() if key not in catalog.ids} == set()
