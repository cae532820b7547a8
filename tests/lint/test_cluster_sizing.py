"""SS501's smallest change and `advise --spec`'s agree when the `cluster` cannot start the
replicas it needs: both give them with the nodes that hold them, a change the spec
validates with (advise used to show none, '—', while SS501 proposed 7 replicas)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from tests.lint.helpers import LintYaml, only

from scalesim.lint import LintConfig, lint_file
from scalesim.lint.review import review
from scalesim.spec import SpecError, load_spec, load_spec_text

# busy: 2000/s × 10 ms = 20 busy workers on 4-worker replicas: ρ ≤ 0.8 needs
# ceil(20 / (0.8 × 4)) = 7 replicas; with web's 2 that is 9 pods, 3 nodes of 4.
CLUSTERED = """
components:
  web: {replicas: 2, workers: 4, operations: {x: {work: 10ms}}}
  busy: {replicas: 2, workers: 4, operations: {run: {work: 10ms}}}
cluster: {nodes: 1, pods_per_node: 4%s}
workloads:
  - {name: w, to: busy.run, rate: 2000/s}
  - {name: v, to: web.x, rate: 100/s}
"""
REPLICAS = math.ceil(20 / (0.8 * 4))
NODES = math.ceil((REPLICAS + 2) / 4)


@pytest.mark.parametrize(("autoscaler", "grown"), [
    ("", ("cluster.nodes",)), (", max_nodes: 2", ("cluster.nodes", "cluster.max_nodes"))])
def test_ss501_and_advise_give_the_replicas_with_the_nodes_that_hold_them(
        lint_yaml: LintYaml, tmp_path: Path, autoscaler: str, grown: tuple[str, ...]) -> None:
    """The cluster starts 4 pods, busy needs 7 replicas beside web's 2: the change is 7
    replicas with 3 nodes (and a max_nodes no lower), in SS501's message and in the
    review at both loads; the spec validates with it, and not with the replicas alone."""
    text = CLUSTERED % autoscaler
    change = (f"{REPLICAS} replicas with "
              f"{' and '.join(f'{path} {NODES}' for path in grown)} to hold them")
    assert f"the smallest change is {change} (ρ ≤ 0.8)" in \
        only(lint_yaml(text), "SS501").message
    spec = tmp_path / "clustered.yaml"
    spec.write_text("scalesim: 1\nname: t\n" + text, "utf-8")
    overrides = [f"components.busy.replicas={REPLICAS}", *(f"{path}={NODES}" for path in grown)]
    seen: list[list[str]] = []

    def valid(given: list[str]) -> bool:
        seen.append(list(given))
        try:
            load_spec_text(spec.read_text("utf-8"), str(spec), given)
        except SpecError:
            return False
        return True

    steady, peak = review(load_spec(spec), lint_file(spec, LintConfig()), valid).loads["busy"]
    assert steady.change == peak.change == change
    assert overrides in seen and valid(overrides)
    assert not valid([f"components.busy.replicas={REPLICAS}"])


AUTOSCALED = """
components:
  web: {replicas: 2, workers: 4, operations: {x: {work: 10ms}}}
  busy:
    replicas: 2
    workers: 4
    autoscale: {min: 2, max: 3, metrics: [{cpu: 60%}]}
    operations: {run: {work: 10ms}}
cluster: {nodes: 1, pods_per_node: 4, max_nodes: MAX_NODES}
workloads:
  - {name: w, to: busy.run, rate: 2000/s}
  - {name: v, to: web.x, rate: 100/s}
"""


@pytest.mark.parametrize(("max_nodes", "grown"), [
    (2, f" with cluster.max_nodes {NODES} to hold them"), (NODES, "")])
def test_an_autoscaled_fleet_is_sized_with_the_nodes_its_peak_needs(
        lint_yaml: LintYaml, tmp_path: Path, max_nodes: int, grown: str) -> None:
    """autoscale.max 7 beside web's 2 pods needs 3 nodes of 4 at the peak: a cluster
    autoscaler that stops at 2 leaves 2 of them Pending, adding nothing (SS501 and advise
    said 'autoscale.max 7' alone); one that reaches 3 needs no change."""
    text = AUTOSCALED.replace("MAX_NODES", str(max_nodes))
    change = f"autoscale.max {REPLICAS}{grown}"
    assert f"the smallest change is {change} (ρ ≤ 0.8)" in \
        only(lint_yaml(text), "SS501").message
    spec = tmp_path / "autoscaled.yaml"
    spec.write_text("scalesim: 1\nname: t\n" + text, "utf-8")
    steady, peak = review(load_spec(spec), lint_file(spec, LintConfig()),
                          lambda given: True).loads["busy"]
    assert steady.change == peak.change == change
