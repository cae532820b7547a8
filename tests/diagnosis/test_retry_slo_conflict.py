"""A retry proposed for a call whose requests' latency SLO is spent without it names that
SLO and what spends it (shop.yaml, QA): it used to send the reader to "its SLO finding",
which is about another call (payments.charge)."""

from __future__ import annotations

from pathlib import Path

from scalesim.analytic.estimate import latency_at
from scalesim.diagnosis import diagnose
from scalesim.diagnosis.context import Run
from scalesim.diagnosis.finding import duration
from scalesim.sim import simulate
from scalesim.spec import load_spec_text

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop.yaml"
CRASH = 'faults=[{target: "inventory[0]", at: 20s, for: 20s, crash: true}]'


def test_the_retry_names_the_slo_the_rest_of_the_path_spends() -> None:
    """inventory[0] crashed for 20 s: the failures fix retries gateway.checkout→
    inventory.reserve, but without that call the p99 of shoppers is estimated past its
    400 ms target (payments.charge's tail), so no timeout with the retry keeps it. The fix
    says so with that SLO and the estimate; the SLO finding it used to point at is about
    payments.charge and never mentions inventory."""
    system = load_spec_text(SHOP.read_text("utf-8"), str(SHOP), (CRASH,))
    result = simulate(system)
    found = diagnose(system, result)
    (failed,) = [f for f in found if f["kind"] == "failures" and f["subject"] == "shoppers"]
    (slo,) = [f for f in found if f["kind"] == "slo" and f["subject"] == "shoppers"]
    assert "inventory" not in slo["summary"] + slo["fix"]["summary"]
    summary = failed["fix"]["summary"]
    assert "SLO finding" not in summary
    run = Run(system, result)
    where = run.call_path("gateway.checkout", "inventory.reserve")
    assert where is not None
    rest_s = latency_at(run.estimate_without(where).workloads["shoppers"].latency, "p99")
    assert rest_s > 0.4
    assert (f"the p99 SLO of 400 ms of shoppers: without the call its requests take "
            f"{duration(rest_s)} at that percentile already") in summary
    assert summary.endswith("the retry trades that SLO for the error rate")
