"""Template <-> catalog links resolve both ways."""

from __future__ import annotations

import re

import pytest

from scalesim.catalog import load_catalog
from scalesim.templates import TEMPLATES, templates_for_pattern

IDS = [t.id for t in TEMPLATES]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.mark.parametrize("template", TEMPLATES, ids=IDS)
def test_every_named_pattern_is_a_canonical_catalog_id(template, catalog):
    assert template.patterns
    for pattern_id in template.patterns:
        assert catalog[pattern_id].id == pattern_id


@pytest.mark.parametrize("template", TEMPLATES, ids=IDS)
def test_each_pattern_lists_the_template_back(template):
    for pattern_id in template.patterns:
        assert template.id in templates_for_pattern(pattern_id)


def test_templates_for_pattern_is_sorted_and_exact():
    assert templates_for_pattern("circuit-breaker") == ["circuit-breaker", "e-commerce"]
    assert templates_for_pattern("sharding") == ["sharded-service"]
    assert templates_for_pattern("paxos") == []
    assert templates_for_pattern("breaker") == []  # an alias: resolve it through the catalog


def test_the_issue_patterns_all_have_a_template():
    wanted = ["replicated-load-balanced-service", "sharding", "scatter-gather",
              "gateway-aggregation", "api-gateway", "sidecar", "ambassador",
              "adapter-container", "service-mesh", "circuit-breaker", "bulkhead", "retry",
              "timeout", "health-check", "failover", "cache-aside", "work-queue",
              "database-per-service", "strangler-fig"]
    assert [p for p in wanted if not templates_for_pattern(p)] == []


@pytest.mark.parametrize("template", TEMPLATES, ids=IDS)
def test_no_pattern_is_claimed_that_the_assumptions_say_is_not_modelled(template, catalog):
    """A template listed under a pattern is where `patterns show` sends a reader to see it
    at work: it must not be one whose assumptions leave that pattern out."""
    left_out = [clause.casefold() for assumption in template.assumptions
                for clause in re.split(r"[.;] ", assumption) if "not modelled" in clause]
    for pattern_id in template.patterns:
        pattern = catalog[pattern_id]
        for name in [pattern.name, *pattern.aliases, pattern_id.replace("-", " ")]:
            assert not any(name.casefold() in sentence for sentence in left_out), (
                pattern_id, name)
