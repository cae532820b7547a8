"""Analysis runs follow Argo's assessment (§7): failureLimit, inconclusive results,
consecutive errors and count, measured on the version's own requests of each interval."""

from __future__ import annotations

import numpy as np

from scalesim.sim.control.analysis import (
    ERROR,
    FAILED,
    INCONCLUSIVE,
    RUNNING,
    SUCCESSFUL,
    AnalysisRun,
    History,
)
from scalesim.sim.mechanisms.balancer import RoundRobin
from scalesim.sim.plan import ERROR as ERROR_CAUSE
from scalesim.sim.plan import OK, Comp, Op
from scalesim.sim.random import uniforms
from scalesim.spec.control import Analysis


def analysis(**fields: object) -> Analysis:
    return Analysis.model_validate({"interval": "10s", **fields})


def op() -> Op:
    comp = Comp("api", "service", [], 1, -1, RoundRobin(0), None,
                uniforms(np.random.default_rng(0)))
    return Op(comp, "get", None, None, 0.0)


def start(spec: Analysis, kind: str, ops: list[Op], count: int | None,
          at: float = 0.0) -> AnalysisRun:
    """A run started at `at` on counters sampled from then on, as a rollout does."""
    history = History(ops, spec.interval)
    history.sample(at)
    return AnalysisRun.start(spec, kind, at, history, count)


def serve(target: Op, ok: int, failed: int, latency_s: float = 0.01) -> None:
    for cause, n in ((OK, ok), (ERROR_CAUSE, failed)):
        for _ in range(n):
            target.count(cause)
    for _ in range(ok):
        target.hist.add(latency_s)


def test_failed_once_failures_exceed_the_limit() -> None:
    """failureLimit 1: the first failure is tolerated, the second fails the run."""
    ops = [op()]
    run = start(analysis(failure_limit=1, error_rate={"max": "2%"}), "bg", ops, None)
    serve(ops[0], 90, 10)
    assert run.measure(10.0) == RUNNING
    serve(ops[0], 90, 10)
    assert run.measure(20.0) == FAILED
    assert [entry[3] for entry in run.log] == [FAILED, FAILED]
    assert run.log[0][2] == 0.1  # 10 failed of 100 in the interval


def test_each_measurement_is_over_its_own_interval() -> None:
    """A bad first interval does not leak into the second."""
    ops = [op()]
    run = start(analysis(failure_limit=5, error_rate={"max": "2%"}), "bg", ops, None)
    serve(ops[0], 50, 50)
    run.measure(10.0)
    serve(ops[0], 100, 0)
    run.measure(20.0)
    assert [entry[2] for entry in run.log] == [0.5, 0.0]
    assert [entry[3] for entry in run.log] == [FAILED, SUCCESSFUL]


def test_between_max_and_fail_above_is_inconclusive() -> None:
    """success `result <= max`, failure `result > fail_above`, neither: inconclusive; more
    than inconclusiveLimit (0) of them makes the run inconclusive (the rollout pauses)."""
    ops = [op()]
    run = start(analysis(p99={"max": "50ms", "fail_above": "100ms"}), "bg", ops, None)
    serve(ops[0], 100, 0, latency_s=0.075)
    assert run.measure(10.0) == INCONCLUSIVE


def test_no_data_is_an_error_and_too_many_in_a_row_end_the_run() -> None:
    """A query over no requests returns nothing: an error; consecutiveErrorLimit 4 means the
    fifth error in a row makes the metric Error (an abort)."""
    ops = [op()]
    run = start(analysis(error_rate={"max": "2%"}), "bg", ops, None)
    phases = [run.measure(10.0 * (i + 1)) for i in range(5)]
    assert phases == [RUNNING] * 4 + [ERROR]
    assert "no requests to measure in 5 measurements in a row" in run.verdict()


def test_no_data_errors_do_not_count_towards_count() -> None:
    """Argo counts only measurements with a result: a `count: 3` run over no traffic does
    not end after 3 (it used to fail with '0 failed measurement(s) > failure_limit 0'); it
    is Error after consecutive_error_limit + 1 = 5 errors in a row, and says why."""
    ops = [op()]
    run = start(analysis(count=3, error_rate={"max": "2%"}), "pre-promotion", ops, 3)
    phases = [run.measure(10.0 * (i + 1)) for i in range(5)]
    assert phases == [RUNNING] * 4 + [ERROR]
    state = run.metrics[0]
    assert (state.count, state.errors, state.failed) == (0, 5, 0)
    assert "failure_limit" not in run.verdict()
    assert "consecutive_error_limit 4" in run.verdict()
    assert "post_promotion_analysis" in run.verdict()


def test_errors_between_results_delay_the_count() -> None:
    """count 2 with an empty interval in between: three measurements, then successful."""
    ops = [op()]
    run = start(analysis(count=2, error_rate={"max": "2%"}), "step", ops, 2)
    serve(ops[0], 100, 0)
    assert run.measure(10.0) == RUNNING
    assert run.measure(20.0) == RUNNING  # no data: an error, not counted
    serve(ops[0], 100, 0)
    assert run.measure(30.0) == SUCCESSFUL
    assert [entry[3] for entry in run.log] == [SUCCESSFUL, ERROR, SUCCESSFUL]


def test_data_resets_the_error_streak() -> None:
    ops = [op()]
    run = start(analysis(error_rate={"max": "2%"}), "bg", ops, None)
    for i in range(4):
        run.measure(10.0 * (i + 1))
    serve(ops[0], 10, 0)
    assert run.measure(50.0) == RUNNING
    assert run.metrics[0].errors_in_a_row == 0


def test_a_counted_run_succeeds_when_its_measurements_are_done() -> None:
    ops = [op()]
    run = start(analysis(count=2, error_rate={"max": "2%"}, p99={"max": "50ms"}), "step", ops, 2)
    serve(ops[0], 100, 0)
    assert run.measure(10.0) == RUNNING
    serve(ops[0], 100, 1)
    assert run.measure(20.0) == SUCCESSFUL


def test_count_reached_within_the_failure_limit_is_successful() -> None:
    """Argo's assessMetricStatus: count 3, failureLimit 2, two failures and one success is
    Successful — the count is reached and failures (2) never exceeded the limit. A majority
    rule would have failed it."""
    ops = [op()]
    run = start(analysis(count=3, failure_limit=2, error_rate={"max": "2%"}), "step", ops, 3)
    serve(ops[0], 90, 10)
    assert run.measure(10.0) == RUNNING
    serve(ops[0], 90, 10)
    assert run.measure(20.0) == RUNNING
    serve(ops[0], 100, 0)
    assert run.measure(30.0) == SUCCESSFUL
    assert [entry[3] for entry in run.log] == [FAILED, FAILED, SUCCESSFUL]


def test_count_reached_with_only_failures_within_the_limit_is_successful() -> None:
    """Even no success at all: count 2, failureLimit 2, two failures → Successful in Argo
    (the limit, not the mix, decides); a third failure would have been needed to fail."""
    ops = [op()]
    run = start(analysis(count=2, failure_limit=2, error_rate={"max": "2%"}), "step", ops, 2)
    serve(ops[0], 50, 50)
    run.measure(10.0)
    serve(ops[0], 50, 50)
    assert run.measure(20.0) == SUCCESSFUL


def test_inconclusive_within_its_limit_does_not_stop_a_counted_run() -> None:
    """count 2, inconclusiveLimit 1: one inconclusive then one success → Successful."""
    ops = [op()]
    spec = analysis(count=2, inconclusive_limit=1, p99={"max": "50ms", "fail_above": "100ms"})
    run = start(spec, "step", ops, 2)
    serve(ops[0], 100, 0, latency_s=0.075)
    assert run.measure(10.0) == RUNNING
    serve(ops[0], 100, 0, latency_s=0.010)
    assert run.measure(20.0) == SUCCESSFUL


def test_latency_percentiles_come_from_the_intervals_histogram() -> None:
    ops = [op()]
    run = start(analysis(failure_limit=-1, p99={"max": "50ms"}), "bg", ops, None)
    serve(ops[0], 99, 0, latency_s=0.010)
    serve(ops[0], 1, 0, latency_s=1.0)
    run.measure(10.0)
    value = run.log[0][2]
    assert value is not None and abs(value - 0.010) <= 0.010 * 0.01  # p99 of 100: the 99th
    serve(ops[0], 2, 0, latency_s=1.0)
    run.measure(20.0)
    assert run.log[1][2] is not None and abs(run.log[1][2] - 1.0) <= 0.01
    assert run.phase == RUNNING  # failure_limit −1: never fails


def test_the_first_measurement_is_taken_when_the_run_starts() -> None:
    """Argo's generateMetricTasks: a metric with no measurement yet is measured at once, or
    once initialDelay has passed; the next one interval after it."""
    ops = [op()]
    run = start(analysis(interval="60s", error_rate={"max": "2%"}), "step", ops, 2, at=10.0)
    assert run.next_time() == 10.0
    serve(ops[0], 100, 0)
    assert run.measure(10.0) == RUNNING
    assert run.next_time() == 70.0
    delayed = analysis(interval="60s", initial_delay="30s", error_rate={"max": "2%"})
    assert start(delayed, "step", ops, 2, at=10.0).next_time() == 40.0


def test_the_first_measurement_covers_the_interval_before_it() -> None:
    """A measurement is the metric's current value, a range of one interval ending now, so
    the first one sees the version's requests served before its run started."""
    ops = [op()]
    history = History(ops, 60.0)
    history.sample(0.0)  # the rollout began
    serve(ops[0], 90, 10)
    run = AnalysisRun.start(analysis(interval="60s", failure_limit=1,
                                     error_rate={"max": "2%"}), "step", 30.0, history, 2)
    assert run.measure(30.0) == RUNNING
    serve(ops[0], 100, 0)
    assert run.measure(90.0) == SUCCESSFUL
    assert [(t, value, outcome) for t, _, value, outcome in run.log] == [
        (30.0, 0.1, FAILED), (90.0, 0.0, SUCCESSFUL)]


def test_a_measurement_error_is_retried_ten_seconds_later() -> None:
    """DefaultErrorRetryInterval: after an error the metric is measured again 10 s later,
    whatever its interval, over the interval before that retry; each metric on its own
    schedule (here p99 has no successful request to measure, the error rate has data)."""
    ops = [op()]
    run = start(analysis(interval="60s", failure_limit=-1, error_rate={"max": "2%"},
                         p99={"max": "50ms"}), "bg", ops, None)
    run.measure(0.0)
    assert run.next_time() == 10.0
    serve(ops[0], 0, 10)
    run.measure(10.0)
    assert [(name, outcome) for t, name, _, outcome in run.log if t == 10.0] == [
        ("error_rate", FAILED), ("p99", ERROR)]
    assert run.next_time() == 20.0
    serve(ops[0], 10, 0)
    run.measure(20.0)  # p99 alone is due: the error rate's next is at 70 s
    assert [name for t, name, _, _ in run.log if t == 20.0] == ["p99"]
    assert [m.due for m in run.metrics] == [70.0, 80.0]
