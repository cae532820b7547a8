"""Banking transfer as a saga: fail closed on fraud, refund on a rejected credit, outbox."""

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
    reject_rate: float = param(0.01, "credits the partner bank rejects (closed accounts)",
                               ge=0, le=0.5)


def scenario(p: Params) -> Scenario:
    incident = INCIDENT_S / WINDOW_S
    saga = "sagas[transfer.execute]"
    return Scenario(
        story=f"{p.rps:g} transfers/s; the partner bank rejects {p.reject_rate:.0%} of the "
              f"credits; the fraud service hangs (+2 s) for {INCIDENT_S:g} s of the "
              f"{WINDOW_S:g} s window.",
        expect=(
            Expect("workloads.transfers.failed_share", "~",
                   incident + (1 - incident) * p.reject_rate,
                   "fail closed: no transfer goes through unscored; and a rejected credit "
                   "fails its transfer", tolerance=0.15),
            Expect(f"{saga}.compensated_rate", "~", p.reject_rate,
                   "a rejected credit refunds the debit", tolerance=0.5),
            Expect(f"{saga}.stuck_rate", "<=", 0, "settlement retries until it is done"),
            Expect("latency_ms.p99", "<", p.deadline_ms,
                   "a transfer never hangs: the fraud timeout and the deadline bound it"),
            Expect("calls[transfer.execute->ledger.debit].amplification", "<=", 1.0,
                   "the debit is never retried (no double debit)"),
            Expect("queues[transfer-events->notifications.send].duplicates", "<=", 0,
                   "every settled transfer's event is sent once"),
        ),
        quick=("simulation.duration=10s", "simulation.warmup=1s", "faults.0.at=3s",
               "faults.0.for=3s"))


TEMPLATE = Template(
    id="banking-transfer", version=2, title="Banking transfer path (composite)",
    summary="A transfer is a saga: scored for fraud under a tight timeout (failing closed), "
            "debited, credited at the partner bank — refunded when it rejects — and settled, "
            "then announced through an outbox: a fraud-service incident refuses transfers "
            "fast instead of hanging them, and a rejection undoes the debit.",
    patterns=("saga", "compensating-transaction", "transactional-outbox", "double-entry-ledger",
              "fail-fast", "timeout", "deadline-propagation"),
    params=Params, scenario=scenario,
    assumptions=(
        "Failing closed is the bank's policy: without a fraud score the transfer is "
        "refused, never let through.",
        "The fraud score comes first and is read-only, so the saga starts only for scored "
        "transfers; the transfer service orchestrates it: the debit is a hold undone by a "
        "refund, the partner bank's credit is the pivot and the settlement after it is "
        "idempotent by transfer id, so it is retried.",
        "The debit is not idempotent here, so it has no retry; with an idempotency key it "
        "could be retried safely.",
        "The transfer event goes through an outbox read by a CDC connector (Debezium).",
    ))
