"""Safety limits count everything that holds memory, stop runaway runs promptly, and no
spec makes the kernel recurse without bound (issue 19, defects 2 and 10)."""

from __future__ import annotations

import gc
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from scalesim.sim import SafetyStop, simulate
from scalesim.sim.compile import compile_system
from scalesim.sim.kernel import MAX_INTERVAL_SAMPLES, MAX_SPANS, PROGRESS_EVERY, Kernel
from scalesim.sim.plan import Frame
from scalesim.sim.run import RUN_YOUNG_GENERATION
from scalesim.spec import SpecError, System, load_spec, load_spec_text


def system(components: dict[str, Any], workloads: list[dict[str, Any]],
           **simulation: Any) -> System:
    spec = {"scalesim": 1, "name": "t", "components": components, "workloads": workloads,
            "simulation": {"duration": "10s", **simulation}}
    return load_spec_text(yaml.safe_dump(spec, sort_keys=False))


def stop_message(spec: System) -> str:
    with pytest.raises(SafetyStop) as stop:
        simulate(spec)
    return str(stop.value)


def kernel_for(spec: System) -> Kernel:
    sim = spec.simulation
    return Kernel(compile_system(spec, 1), sim.warmup, sim.duration, sim.interval, sim.limits)


EXAMPLES = Path(__file__).parents[2] / "examples"
UNLIMITED_SLOW = {"workers": "unlimited", "operations": {"y": {"work": "1h"}}}


def test_callees_still_working_after_their_caller_timed_out_count_as_in_flight() -> None:
    spec = system({"a": {"workers": "unlimited",
                         "operations": {"x": {"calls": [{"to": "b.y", "timeout": "1ms"}]}}},
                   "b": UNLIMITED_SLOW},
                  [{"name": "w", "to": "a.x", "rate": "2k/s"}],
                  limits={"max_in_flight": 5000})
    message = stop_message(spec)
    assert "visits in flight" in message and "max_in_flight (5,000)" in message
    assert "after their callers gave up" in message


def test_parallel_branches_count_as_in_flight() -> None:
    branches = [{"to": "b.y"} for _ in range(100)]
    spec = system({"a": {"workers": "unlimited",
                         "operations": {"x": {"calls": [{"parallel": {"calls": branches}}]}}},
                   "b": UNLIMITED_SLOW},
                  [{"name": "w", "to": "a.x", "rate": "200/s"}],
                  limits={"max_in_flight": 20_000})
    assert "max_in_flight (20,000)" in stop_message(spec)


def test_async_calls_count_as_in_flight() -> None:
    spec = system({"a": {"operations": {"x": {"calls": [{"to": "b.y", "async": True}]}}},
                   "b": UNLIMITED_SLOW},
                  [{"name": "w", "to": "a.x", "rate": "2k/s"}],
                  limits={"max_in_flight": 5000})
    assert "max_in_flight (5,000)" in stop_message(spec)


def test_visits_in_flight_are_exactly_the_live_visits_in_memory() -> None:
    """Timeouts, retries, hedges, fan-outs, refusals, shedding and async calls all end their
    visits: at every progress report the count equals the frames still alive."""
    spec = system({
        "a": {"workers": 8, "queue": 20, "operations": {"x": {"work": "1ms", "calls": [
            {"to": "b.y", "timeout": "20ms", "retry": {"attempts": 3},
             "hedge": {"after": "5ms"}, "bulkhead": {"max_concurrent": 6, "max_wait": "2ms"}},
            {"parallel": {"wait_for": "any", "calls": [{"to": "b.y"}, {"to": "c.z"}]}},
            {"to": "c.z", "async": True}]}}},
        "b": {"workers": 4, "queue": 10, "load_shedding": {"max_queue_wait": "15ms"},
              "connection_pool": {"max_connections": 6, "max_pending_requests": 3},
              "operations": {"y": {"work": {"dist": "exponential", "mean": "10ms"}}}},
        "c": {"workers": 2, "operations": {"z": {"work": "2ms"}}}},
        [{"name": "w", "to": "a.x", "rate": "500/s"}], duration="90s")
    plan = compile_system(spec, 1)
    checks: list[tuple[int, int]] = []

    def count(_: float) -> None:
        gc.collect()
        live = sum(1 for o in gc.get_objects() if isinstance(o, Frame) and o.live)
        checks.append((kernel.inflight, live))

    kernel = Kernel(plan, 0.0, 90.0, 1.0, spec.simulation.limits, count)
    kernel.run()
    assert len(checks) >= 3 and all(counted == live for counted, live in checks), checks
    assert max(counted for counted, _ in checks) > 10


def test_messages_buffered_in_a_queue_count_against_max_queued() -> None:
    spec = system({"q": {"kind": "queue", "consumers": ["slow.y"]},
                   "slow": {"operations": {"y": {"work": "1s"}}}},
                  [{"name": "w", "to": "q", "rate": "1k/s"}],
                  limits={"max_queued": 3000})
    message = stop_message(spec)
    assert "max_queued (3,000)" in message and "waiting in 'q'" in message


def test_a_queue_of_zero_time_requests_drains_without_deep_recursion() -> None:
    """A worker freed after a slow request hands itself to the next waiting request inline;
    thousands of waiting requests that take no time used to overflow the stack."""
    spec = system({"a": {"operations": {"slow": {"work": "2s"}, "fast": {"work": "0s"}}}},
                  [{"name": "s", "to": "a.slow", "rate": "1/s", "arrivals": "constant"},
                   {"name": "f", "to": "a.fast", "rate": "5k/s"}], duration="6s")
    result = simulate(spec)
    fast = result["workloads"]["f"]["requests"]
    assert fast["total"] > 10_000 and fast["ok"] == fast["total"]
    assert result["components"]["a"]["queue_max"] > 5000


def test_a_long_zero_time_call_chain_runs_without_deep_recursion() -> None:
    hops = 300
    components = {f"c{i}": {"operations": {"op": (
        {"calls": [{"to": f"c{i + 1}.op"}]} if i < hops - 1 else {"work": "1ms"})}}
        for i in range(hops)}
    result = simulate(system(components, [{"name": "w", "to": "c0.op", "rate": "20/s",
                                           "arrivals": "constant"}]))
    assert result["requests"]["failed"] == 0
    assert result["latency_ms"]["max"] == pytest.approx(1.0, rel=0.01)


def test_users_who_never_wait_stop_when_the_clock_stands_still(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No think time and no work: every answer comes at once and the user sends again."""
    import scalesim.sim.kernel as kernel

    monkeypatch.setattr(kernel, "STILL_EVENTS", PROGRESS_EVERY)  # the default takes longer
    spec = system({"a": {"workers": "unlimited", "operations": {"x": {}}}},
                  [{"name": "w", "to": "a.x", "users": 3}], duration="1s")
    assert "without the clock moving" in stop_message(spec)


def test_a_loop_of_async_calls_that_takes_no_time_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match=r"a loop that takes no time: a.x -> b.y -> a.x"):
        system({"a": {"operations": {"x": {"calls": [{"to": "b.y", "async": True}]}}},
                "b": {"operations": {"y": {"calls": [{"to": "a.x"}]}}}},
               [{"name": "w", "to": "a.x", "rate": "10/s"}])
    slow = system({"a": {"operations": {"x": {"calls": [{"to": "a.x", "async": True,
                                                        "probability": 0.5}]}}}},
                  [{"name": "w", "to": "a.x", "rate": "10/s"}])
    assert simulate(slow)["requests"]["failed"] == 0


def test_a_run_whose_arrivals_alone_pass_the_event_limit_stops_before_starting() -> None:
    spec = system({"a": {"operations": {"x": {"work": "1ms"}}}},
                  [{"name": "w", "to": "a.x", "rate": "100/s"}], duration="1000s",
                  warmup="1000s", interval="10s", limits={"max_events": 100_000})
    kernel = kernel_for(spec)
    with pytest.raises(SafetyStop, match="stopped before starting: the workloads send about "
                       "200,000 requests in 2,000s"):
        kernel.run()
    assert kernel.events == 0


def test_arrivals_just_under_the_event_limit_start_and_stop_at_the_limit() -> None:
    """About 900 arrivals are under 1.1 × a limit of 1,000, so the run starts; their other
    events take it to the limit, where it stops at exactly 1,000 events (it used to look at
    the limit every 65,536 events only, and finished these 10 s)."""
    spec = system({"a": {"operations": {"x": {"work": "1ms"}}}},
                  [{"name": "w", "to": "a.x", "rate": "90/s"}], duration="10s",
                  limits={"max_events": 1000})
    kernel = kernel_for(spec)
    with pytest.raises(SafetyStop, match=r"after 1,000 events: the limit "
                       r"simulation.limits.max_events \(1,000\) was reached"):
        kernel.run()
    assert kernel.events == 1000


def test_a_run_with_exactly_max_events_ends_and_one_more_stops_it() -> None:
    """The limit is the events a run may handle: a run of N events (past a progress report
    at 65,536) ends with a limit of N, and stops after N - 1 with a limit of N - 1."""
    def run(max_events: int) -> Kernel:
        spec = system({"a": {"operations": {"x": {"work": "1ms"}}}},
                      [{"name": "w", "to": "a.x", "rate": "4000/s"}], duration="10s",
                      limits={"max_events": max_events})
        kernel = kernel_for(spec)
        kernel.run()
        return kernel

    needed = run(10**9).events
    assert needed > PROGRESS_EVERY
    assert run(needed).events == needed
    with pytest.raises(SafetyStop, match=f"after {needed - 1:,} events"):
        run(needed - 1)


def _largest_buffers(spec: System, warmup: float, duration: float, interval: float
                     ) -> tuple[Kernel, list[int]]:
    """Run, recording at each progress report the largest latency buffer held."""
    plan = compile_system(spec, 1)
    seen: list[int] = []

    def look(_: float) -> None:
        seen.append(max([len(op.hist.buffer) for op in plan.ops.values()]
                        + [len(wl.interval_lat) for wl in plan.workloads]))

    kernel = Kernel(plan, warmup, duration, interval, spec.simulation.limits, look)
    kernel.run()
    return kernel, seen


def test_warm_up_memory_is_bounded_like_the_window() -> None:
    spec = system({"a": {"workers": 4, "operations": {"x": {"work": "1ms"}}}},
                  [{"name": "w", "to": "a.x", "rate": "2k/s"}], duration="1s", warmup="300s")
    _, seen = _largest_buffers(spec, 300.0, 1.0, 1.0)
    assert len(seen) > 5 and max(seen) <= (1 << 15) + PROGRESS_EVERY


def test_a_long_interval_keeps_a_bounded_buffer_and_close_percentiles() -> None:
    spec = system({"a": {"workers": "unlimited", "operations": {"x": {"work": "4ms"}}}},
                  [{"name": "w", "to": "a.x", "rate": "2k/s", "arrivals": "constant"}],
                  duration="200s", interval="200s")
    kernel, seen = _largest_buffers(spec, 0.0, 200.0, 200.0)
    assert max(seen) <= MAX_INTERVAL_SAMPLES + PROGRESS_EVERY
    (_, ok_rps, _, p50, p95, p99, _, _), = kernel.plan.workloads[0].series
    assert ok_rps == pytest.approx(2000.0, rel=1e-3)
    for value in (p50, p95, p99):
        assert value == pytest.approx(4.0, rel=0.005)  # the histogram's accuracy


def test_a_sampled_trace_keeps_at_most_max_spans() -> None:
    branches = {"parallel": {"calls": [{"to": "b.y"} for _ in range(MAX_SPANS // 2 + 100)]}}
    spec = system({"a": {"workers": "unlimited",
                         "operations": {"x": {"calls": [branches, branches]}}},
                   "b": {"workers": "unlimited", "operations": {"y": {"work": "1ms"}}}},
                  [{"name": "w", "to": "a.x", "rate": "5/s"}], duration="4s", traces=1)
    traces = simulate(spec)["traces"]
    assert traces and all(len(t["spans"]) == MAX_SPANS for t in traces)


def test_a_run_leaves_the_garbage_collector_as_it_found_it() -> None:
    """run_kernel freezes the objects that exist before the run (the collector then skips
    them) and widens the young generation, and puts both back after, when the run ends and
    when it stops at a limit."""
    before, threshold = gc.get_freeze_count(), gc.get_threshold()
    fine = system({"a": {"workers": "unlimited", "operations": {"x": {"work": "1ms"}}}},
                  [{"name": "w", "to": "a.x", "rate": "20k/s"}], duration="5s")
    during: list[int] = []  # seen at every progress report (one per PROGRESS_EVERY events)
    simulate(fine, progress=lambda _: during.append(gc.get_threshold()[0]))
    assert during and set(during) == {RUN_YOUNG_GENERATION}
    assert gc.get_freeze_count() == before and gc.get_threshold() == threshold
    runaway = system({"a": {"workers": "unlimited",
                            "operations": {"x": {"calls": [{"to": "b.y", "async": True}]}}},
                      "b": UNLIMITED_SLOW},
                     [{"name": "w", "to": "a.x", "rate": "2k/s"}],
                     limits={"max_in_flight": 1000})
    stop_message(runaway)
    assert gc.get_freeze_count() == before and gc.get_threshold() == threshold


def test_hedged_calls_leave_no_garbage_cycles() -> None:
    """A decided hedged call lets go of its attempts (each attempt points back at it), so
    its objects are freed as it ends: what a hedged run leaves for the collector (the
    compiled plan, the visits still in flight) does not grow with the run's length. With
    the cycle it grew by 34 objects per request of examples/hedging.yaml."""
    def garbage(duration: int) -> tuple[int, int]:
        # (no sampled traces: those kept grow with the run until their cap)
        spec = load_spec(EXAMPLES / "hedging.yaml",
                         [f"simulation.duration={duration}s", "simulation.traces=0"])
        gc.collect()
        gc.disable()
        try:
            requests = simulate(spec)["requests"]["total"]
            return gc.collect(), requests
        finally:
            gc.enable()

    short, few = garbage(20)
    long, many = garbage(80)
    assert many > 3 * few
    assert long - short < (many - few) / 2, (short, long)


def test_a_run_keeps_what_the_caller_froze_frozen() -> None:
    """A process that froze its own objects before a run finds them still frozen after it
    (unfreezing would hand them back to the collector's oldest generation)."""
    assert gc.get_freeze_count() == 0  # pytest itself freezes nothing
    kept = [[index] for index in range(100)]  # tracked objects for the caller to freeze
    gc.freeze()
    frozen = gc.get_freeze_count()
    try:
        spec = system({"a": {"workers": "unlimited", "operations": {"x": {"work": "1ms"}}}},
                      [{"name": "w", "to": "a.x", "rate": "1k/s"}], duration="2s")
        simulate(spec)
        assert gc.get_freeze_count() >= frozen > len(kept)
    finally:
        gc.unfreeze()


def test_runs_in_threads_keep_the_collector_settings_until_the_last_ends() -> None:
    """A run that ends while another is going leaves the other's settings in place."""
    threshold = gc.get_threshold()
    spec = system({"a": {"workers": "unlimited", "operations": {"x": {"work": "1ms"}}}},
                  [{"name": "w", "to": "a.x", "rate": "20k/s"}], duration="5s")
    first_started, second_done = threading.Event(), threading.Event()
    seen_by_first: list[int] = []

    def first_progress(_: float) -> None:
        first_started.set()
        assert second_done.wait(timeout=30)
        seen_by_first.append(gc.get_threshold()[0])

    def second() -> None:
        assert first_started.wait(timeout=30)
        simulate(spec)
        second_done.set()

    other = threading.Thread(target=second)
    other.start()
    simulate(spec, progress=first_progress)
    other.join(timeout=30)
    assert second_done.is_set() and seen_by_first
    assert set(seen_by_first) == {RUN_YOUNG_GENERATION}  # still widened after the second
    assert gc.get_threshold() == threshold
