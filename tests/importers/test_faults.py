"""Istio fault injection reads back as spec faults: the chaos files of the generator."""

from __future__ import annotations

from pathlib import Path

from scalesim.generate import GenerateOptions, Target, render
from scalesim.importers import import_k8s
from scalesim.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]


def test_the_chaos_route_of_the_shop_reads_back_as_its_fault(tmp_path: Path) -> None:
    """shop.yaml fails 60% of payments calls; the chaos VirtualService aborts 60%."""
    system = load_spec(ROOT / "examples" / "shop.yaml")
    for file in render(system, Target.K8S, GenerateOptions()) + \
            render(system, Target.ISTIO, GenerateOptions()):
        target = tmp_path / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.content)
    # the chaos file replaces the normal VirtualService of payments
    istio = [str(p) for p in sorted((tmp_path / "istio").glob("*.yaml"))
             if p.name != "payments.yaml"]
    payments_rule = tmp_path / "istio" / "payments-rule.yaml"
    payments_rule.write_text((tmp_path / "istio" / "payments.yaml").read_text()
                             .split("---\n")[0])   # keep its DestinationRule
    back = import_k8s([str(tmp_path / "k8s"), *istio, str(payments_rule),
                       str(tmp_path / "istio" / "chaos" / "payments.yaml")]).system
    assert [(f.target, f.error_rate, f.latency) for f in back.faults] == \
        [("payments", 0.6, None)]
    # the windows (at 40s for 15s) are in an annotation, not in Istio: the fault lasts
    assert (back.faults[0].at, back.faults[0].for_) == (0.0, None)
