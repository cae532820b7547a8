"""The generated services against the simulator's predictions (`make validate-real`).

For each scenario (a spec in specs/): generate its services, start each as a uvicorn process
on 127.0.0.1 (as its Dockerfile does) sending its traces over OTLP to a local sink, measure
the saturation throughput (a closed loop with 32 requests always outstanding), then drive it
open loop at 10, 30, 50, 70 and 90 % of that, several repetitions each, recording the
latencies, the throughput, each process's CPU (from /proc) and the load average.
Calibration uses the lowest level only: its traces (`scalesim calibrate --traces`) and its
CPU use (`--load-test`, the utilization law). The calibrated spec, simulated at each level's
measured rate, predicts the others; the spec as written is simulated too, for comparison.
The breaker scenario also runs a fault (every request to back fails for a while) and
compares when the breaker opens and closes, the retry amplification and the fallbacks.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from loadgen import Level, open_loop, saturation
from sink import otlp_json

from scalesim.analytic.load import offered_load
from scalesim.generate.base import GenerateOptions
from scalesim.generate.code import render
from scalesim.importers.calibrate.run import calibrate
from scalesim.sim import simulate
from scalesim.spec import System, load_spec, load_spec_text

HERE = Path(__file__).resolve().parent
LEVELS = (0.1, 0.3, 0.5, 0.7, 0.9)
ENTRY = {"chain": "order", "fanout": "search", "queue": "submit", "breaker": "order"}
TICK = os.sysconf("SC_CLK_TCK")
FAULT_AT, FAULT_FOR, FAULT_RUN = 6.0, 8.0, 24.0  # the breaker scenario's fault, seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@dataclass
class Service:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def running(system: System, code: Path, sink_port: int, logs: Path) -> Iterator[
        dict[str, Service]]:
    """Every component as its own process; stopped afterwards."""
    ports = {name: free_port() for name in system.components}
    env = {**os.environ,
           **{f"{name.upper().replace('-', '_')}_URL": f"http://127.0.0.1:{port}"
              for name, port in ports.items()},
           "OTEL_TRACES_EXPORTER": "otlp",
           "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink_port}",
           "OTEL_BSP_SCHEDULE_DELAY": "300", "OTEL_BSP_MAX_QUEUE_SIZE": "200000",
           "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "2048", "SCALESIM_CHAOS": "1"}
    services: dict[str, Service] = {}
    try:
        for name, port in ports.items():
            out = (logs / f"{name}.log").open("wb")
            process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port",
                 str(port), "--no-access-log"], cwd=code / name,
                env={**env, "SCALESIM_SEED": str(port)}, stdout=out, stderr=subprocess.STDOUT)
            services[name] = Service(name, port, process)
        deadline = time.monotonic() + 60.0
        for service in services.values():
            while True:
                try:
                    if httpx.get(f"{service.url}/ready", timeout=1.0).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or service.process.poll() is not None:
                    raise RuntimeError(f"{service.name} did not start: "
                                       f"{(logs / f'{service.name}.log').read_text()}")
                time.sleep(0.1)
        yield services
    finally:
        for service in services.values():
            service.process.terminate()
        for service in services.values():
            try:
                service.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                service.process.kill()


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{name}(\{{[^}}]*\}})? (\S+)$", line)
        if match and all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
            total += float(match.group(2))
    return total


SPIN = ("import time\nw = time.monotonic()\ne = time.thread_time() + 0.4\n"
        "while time.thread_time() < e: pass\nprint(0.4 / (time.monotonic() - w))")


def cpu_available() -> float:
    """The share of a core one more busy process gets now (other work on the machine)."""
    done = subprocess.run([sys.executable, "-c", SPIN], capture_output=True, text=True,
                          check=True, timeout=30)
    return float(done.stdout)


def idle_row(services: dict[str, Service], seconds: float = 4.0) -> dict[str, Any]:
    """Each process's CPU with no load (exporters, timers): the utilization law's U₀."""
    before = {n: cpu_seconds(s.process.pid) for n, s in services.items()}
    time.sleep(seconds)
    return {"rate_rps": 0.0, "throughput_rps": 0.0, "mean_ms": 0.0, "p50_ms": 0.0,
            "p99_ms": 0.0, "level": 0.0,
            "cpu": {n: (cpu_seconds(s.process.pid) - before[n]) / seconds
                    for n, s in services.items()}}


def level_run(services: dict[str, Service], url: str, rate: float, seconds: float,
              seed: int) -> dict[str, Any]:
    available = cpu_available()
    before = {n: cpu_seconds(s.process.pid) for n, s in services.items()}
    processed = _processed(services)
    start_unix, start = time.time(), time.monotonic()
    level: Level = open_loop(url, rate, seconds, seed)
    span = time.monotonic() - start
    row = level.summary()
    row["cpu"] = {n: (cpu_seconds(s.process.pid) - before[n]) / span
                  for n, s in services.items()}
    row["load_average"] = os.getloadavg()[0]
    row["cpu_available"] = available
    row["window_unix"] = (start_unix, start_unix + span)
    if processed is not None:
        row["processed_rps"] = (_processed(services) - processed) / span  # type: ignore[operator]
    return row


def _processed(services: dict[str, Service]) -> float | None:
    """Messages the queue scenario's worker has processed so far."""
    worker = services.get("worker")
    if worker is None:
        return None
    text = httpx.get(f"{worker.url}/metrics", timeout=5.0).text
    return metric(text, "scalesim_requests_total", operation="process")


def predict(system: System, rate: float, seed: int = 1) -> dict[str, float]:
    """The simulated mean, p50 and p99 (ms) at `rate`, 3 replications of 60 s."""
    result = simulate(system.model_copy(update={
        "workloads": [system.workloads[0].model_copy(update={"rate": rate})],
        "simulation": system.simulation.model_copy(update={
            "duration": 60.0, "warmup": 2.0, "replications": 3, "traces": 0})}), seed)
    latency = result["latency_ms"]
    out = {"mean_ms": latency["mean"], "p50_ms": latency["p50"], "p99_ms": latency["p99"],
           "throughput_rps": result["throughput_rps"]}
    if "worker" in result["components"]:
        out["processed_rps"] = result["components"]["worker"]["throughput_rps"]
    return out


def predicted_saturation(system: System) -> float:
    """The entry rate at which the busiest component reaches ρ = 1 (ρ grows with the rate)."""
    probe = system.model_copy(update={"workloads": [system.workloads[0].model_copy(
        update={"rate": 1.0})]})
    rho = max(load.rho for load in offered_load(probe).values())
    return 1.0 / rho if rho > 0 else float("inf")


def breaker_states(url: str, stop: float, every: float = 0.05) -> list[tuple[float, float]]:
    """(monotonic time, state) of front's breaker, polled every 50 ms until `stop`."""
    seen: list[tuple[float, float]] = []
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < stop:
            text = client.get(f"{url}/metrics").text
            seen.append((time.monotonic(), metric(text, "scalesim_circuit_breaker_state")))
            time.sleep(every)
    return seen


def fault_run(services: dict[str, Service], url: str, rate: float) -> dict[str, Any]:
    """The breaker scenario's fault: back fails every request from FAULT_AT for FAULT_FOR."""
    import threading

    front, back = services["front"].url, services["back"].url
    before = httpx.get(f"{front}/metrics").text
    start = time.monotonic()
    polled: list[tuple[float, float]] = []
    poller = threading.Thread(target=lambda: polled.extend(
        breaker_states(front, start + FAULT_RUN)))
    poller.start()

    def chaos() -> None:
        time.sleep(FAULT_AT)
        httpx.post(f"{back}/chaos", json={"error_rate": 1.0})
        time.sleep(FAULT_FOR)
        httpx.post(f"{back}/chaos", json={"error_rate": 0.0})

    switcher = threading.Thread(target=chaos)
    switcher.start()
    level = open_loop(url, rate, FAULT_RUN, seed=99)
    switcher.join()
    poller.join()
    after = httpx.get(f"{front}/metrics").text
    transitions = []
    previous = 0.0
    for t, state in polled:
        if state != previous:
            transitions.append((round(t - start, 3), {0.0: "closed", 1.0: "open",
                                                      2.0: "half_open"}[state]))
            previous = state
    attempts = metric(after, "scalesim_dependency_attempts_total") - metric(
        before, "scalesim_dependency_attempts_total")
    failures = metric(after, "scalesim_dependency_failures_total") - metric(
        before, "scalesim_dependency_failures_total")
    return {"rate_rps": rate, "sent": level.sent, "ok": level.ok,
            "transitions": transitions, "attempts": attempts,
            "amplification": attempts / level.sent if level.sent else None,
            "fallbacks": failures, "load_average": os.getloadavg()[0]}


def simulated_fault(text: str, rate: float) -> dict[str, Any]:
    """The same fault in the calibrated spec (its text: the spec's own units)."""
    fault = f"{{target: back, at: {FAULT_AT}s, for: {FAULT_FOR}s, error_rate: 1.0}}"
    result = simulate(load_spec_text(text, overrides=(
        f"workloads.0.rate={rate}/s", f"faults=[{fault}]",
        f"simulation={{duration: {FAULT_RUN}s, traces: 0}}")))
    call = result["calls"][0]
    transitions = [(t["t_s"], t["to"]) for t in call["circuit_breaker"]["transitions"]]
    return {"transitions": transitions, "attempts": call["attempts"],
            "amplification": call["attempts"] / result["requests"]["total"],
            "fallbacks": call["fallbacks"]}


def generate_code(system: System, dest: Path) -> Path:
    for file in render(system, GenerateOptions()):
        path = dest / file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file.content, encoding="utf-8")
    return dest / "code"


def run_scenario(name: str, repetitions: int, seconds: float, out: Path) -> dict[str, Any]:
    spec_path = HERE / "specs" / f"{name}.yaml"
    system = load_spec(spec_path)
    work = Path(tempfile.mkdtemp(prefix=f"validate-{name}-"))
    code = generate_code(system, work)
    sink_port, traces_bin = free_port(), work / "traces.bin"
    sink = subprocess.Popen([sys.executable, str(HERE / "sink.py"), str(sink_port),
                             str(traces_bin)])
    rows: list[dict[str, Any]] = []
    fault: dict[str, Any] | None = None
    try:
        with running(system, code, sink_port, work) as services:
            url = f"{services['front'].url}/{ENTRY[name]}"
            open_loop(url, 20.0, 3.0, seed=1)  # warm the processes up
            idle = idle_row(services)
            measured = [saturation(url) for _ in range(2)]
            sat = float(np.mean(measured))
            print(f"{name}: saturation {measured} rps", flush=True)
            for index, share in enumerate(LEVELS):
                for rep in range(repetitions):
                    row = level_run(services, url, share * sat, seconds, 1000 * index + rep)
                    row.update(level=share, repetition=rep)
                    rows.append(row)
                    print(f"  {share:.0%} #{rep}: {row['throughput_rps']:.1f} rps, mean "
                          f"{row['mean_ms']:.2f} ms, p99 {row['p99_ms']:.2f} ms, load "
                          f"{row['load_average']:.2f}", flush=True)
            if name == "breaker":
                fault = fault_run(services, url, 0.3 * sat)
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    calibration = _calibrate(spec_path, [idle, *rows], traces_bin, work)
    calibrated = calibration["system"]
    predictions = []
    for share in LEVELS:
        rate = float(np.mean([r["rate_rps"] for r in rows if r["level"] == share]))
        predictions.append({"level": share, "rate_rps": rate,
                            "calibrated": predict(calibrated, rate),
                            "as_written": predict(system, rate)})
    result = {"scenario": name, "saturation_rps": measured, "rows": rows, "idle": idle,
              "predictions": predictions,
              "predicted_saturation_rps": {"calibrated": predicted_saturation(calibrated),
                                           "as_written": predicted_saturation(system)},
              "calibrated_spec": calibration["text"], "calibration": calibration["report"]}
    if fault is not None:
        result["fault"] = {"real": fault, "calibrated": simulated_fault(
            calibration["text"], fault["rate_rps"])}
    (out / f"{name}.json").write_text(json.dumps(result, indent=1, default=str))
    return result


def _calibrate(spec_path: Path, rows: list[dict[str, Any]], traces_bin: Path,
               work: Path) -> dict[str, Any]:
    """The lowest level only: its traces and its CPU use (with the idle baseline)."""
    lowest = [r for r in rows if r["level"] in (0.0, LEVELS[0])]
    windows = [r["window_unix"] for r in lowest if "window_unix" in r]
    documents = otlp_json(traces_bin)
    kept = [_within(document, windows) for document in documents]
    traces = work / "lowest.otlp.json"
    traces.write_text("\n".join(json.dumps(d) for d in kept if d["resourceSpans"]) + "\n")
    names = sorted(lowest[0]["cpu"])
    csv = work / "lowest.csv"
    csv.write_text("rate_rps,throughput_rps,mean_ms,p50_ms,p99_ms,cores_available,"
                   + ",".join(f"cpu_{n}" for n in names) + "\n"
                   + "".join(f"{r['rate_rps']},{r['throughput_rps']},{r['mean_ms']},"
                             f"{r['p50_ms']},{r['p99_ms']},{r.get('cpu_available', '')},"
                             + ",".join(str(r["cpu"][n]) for n in names) + "\n"
                             for r in lowest))
    system = load_spec(spec_path)
    done = calibrate(spec_path, spec_path.read_text(), system, [traces], csv)
    return {"system": done.system, "text": done.text, "report": done.report}


def _within(document: dict[str, Any], windows: list[tuple[float, float]]) -> dict[str, Any]:
    """The document's spans that started inside one of the windows (Unix seconds)."""
    resources = []
    for resource in document.get("resourceSpans", []):
        scopes = []
        for scope in resource.get("scopeSpans", []):
            spans = [s for s in scope.get("spans", []) if any(
                a <= int(s["startTimeUnixNano"]) / 1e9 <= b for a, b in windows)]
            if spans:
                scopes.append({**scope, "spans": spans})
        if scopes:
            resources.append({**resource, "scopeSpans": scopes})
    return {"resourceSpans": resources}
