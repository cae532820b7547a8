"""Counts in spec errors agree with their noun: '1 node', '1 replica', '1 branch'."""

from __future__ import annotations

import pytest
import yaml

from scalesim.spec import SpecError, load_spec_text


def messages(extra: dict[str, object], api: dict[str, object] | None = None) -> list[str]:
    data = {"scalesim": 1, "name": "x",
            "components": {"api": {"operations": {"get": {"work": "1ms"}}, **(api or {})},
                           "b": {"operations": {"get": {"work": "1ms"}}}},
            "workloads": [{"name": "w", "to": "api.get", "rate": "1/s"}], **extra}
    with pytest.raises(SpecError) as caught:
        load_spec_text(yaml.safe_dump(data, sort_keys=False), "s.yaml")
    return [issue.message for issue in caught.value.issues]


def test_counted_agrees_with_its_noun() -> None:
    from scalesim.spec.errors import counted

    assert [counted(1, "node"), counted(0, "step"), counted(2, "branch", "branches"),
            counted(1500, "replica")] == ["1 node", "0 steps", "2 branches", "1,500 replicas"]
    # a measure such as cores: as few digits as it needs, singular only at exactly 1
    assert [counted(1.0, "core"), counted(0.5, "core"), counted(1.75, "core")] == [
        "1 core", "0.5 cores", "1.75 cores"]


def test_one_node_holds_in_the_singular() -> None:
    assert messages({"cluster": {"nodes": 1, "pods_per_node": 1}}) == [
        "the components start with 2 replicas but 1 node can hold 1; raise 'nodes' or "
        "'pods_per_node'"]


def test_one_replica_of_a_fault_target_is_singular() -> None:
    assert messages({"faults": [{"target": "api[1]", "at": "1s", "for": "1s",
                                 "crash": True}]}) == [
        "'api' has 1 replica, numbered from 0; there is no [1]"]


def test_one_follower_and_one_branch_are_singular() -> None:
    two = {"replicas": 2, "replication": {"mode": "sync", "writes": ["get"], "acks": 2}}
    assert messages({}, two) == ["acks is 2 but the leader has only 1 follower"]
    parallel = {"operations": {"get": {"calls": [{"parallel": {"wait_for": 2,
                                                               "calls": [{"to": "b.get"}]}}]}}}
    assert messages({}, parallel) == ["wait_for 2 is more than the 1 branch"]
