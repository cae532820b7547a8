"""Banking transfer path: fail closed on fraud checks, one ledger posting, outbox events."""

from __future__ import annotations

from scalesim.templates.base import Scenario, Template
from scalesim.templates.expect import Expect
from scalesim.templates.params import TemplateParams, param

WINDOW_S, INCIDENT_S = 20.0, 6.0


class Params(TemplateParams):
    rps: float = param(200, "transfers per second", unit="req/s", ge=1, le=10_000)
    fraud_timeout_ms: float = param(200, "how long a transfer waits for the fraud score",
                                    unit="ms", ge=10, le=10_000)
    deadline_ms: float = param(1000, "the whole transfer's deadline, propagated", unit="ms",
                               ge=100, le=60_000)


def scenario(p: Params) -> Scenario:
    overhead = 10 + 20  # own work, ledger transaction and hops, with room for its tail
    return Scenario(
        story=f"{p.rps:g} transfers/s; the fraud service hangs (+2 s) for {INCIDENT_S:g} s "
              f"of the {WINDOW_S:g} s window.",
        expect=(
            Expect("workloads.transfers.failed_share", "~", INCIDENT_S / WINDOW_S,
                   "fail closed: no transfer goes through unscored, so the incident's "
                   "transfers are refused", tolerance=0.15),
            Expect("latency_ms.max", "<", p.fraud_timeout_ms + overhead + 100,
                   "a transfer never hangs: the fraud timeout bounds it"),
            Expect("calls[transfer.execute->ledger.post].amplification", "<=", 1.0,
                   "the ledger posting is never retried (no double debit)"),
            Expect("queues[transfer-events->notifications.send].failed", "<=", 0,
                   "every committed transfer's event is delivered"),
        ),
        quick=("simulation.duration=10s", "simulation.warmup=1s", "faults.0.at=3s",
               "faults.0.for=3s"))


TEMPLATE = Template(
    id="banking-transfer", version=1, title="Banking transfer path (composite)",
    summary="A transfer is scored for fraud under a tight timeout (failing closed), posted "
            "to the ledger once (debit and credit in one transaction, never retried) and "
            "announced through an outbox: a fraud-service incident refuses transfers fast "
            "instead of hanging them.",
    patterns=("transactional-outbox", "double-entry-ledger", "fail-fast", "timeout",
              "deadline-propagation"),
    params=Params, scenario=scenario,
    assumptions=(
        "Failing closed is the bank's policy: without a fraud score the transfer is "
        "refused, never let through.",
        "The ledger posts debit, credit and the outbox row in one database transaction; "
        "the outbox relay is modelled as a publish after commit.",
        "The ledger call is not idempotent here, so it has no retry; with an idempotency "
        "key it could be retried safely.",
    ))
