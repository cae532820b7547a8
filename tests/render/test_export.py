"""Exports: OTLP and Jaeger JSON are structurally valid and load back into the same spans;
Prometheus and OpenMetrics text parse back line by line; series round-trip through CSV and
Parquet."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from tests.importers.test_calibrate_queueing import QUEUED
from tests.render.helpers import app, run
from typer.testing import CliRunner

from scalesim.export.jaeger import load_jaeger, to_jaeger
from scalesim.export.otlp import load_otlp, to_otlp
from scalesim.export.prometheus import exposition
from scalesim.export.spans import EPOCH_UNIX_NANO, spans, unix_nano
from scalesim.sim import simulate
from scalesim.spec import load_spec_text

HEX = re.compile(r"^[0-9a-f]+$")
# Examples whose traces have retries, timeouts, hedges and async deliveries.
RUNS = [("retry-storm", "simulation.duration=10s"), ("hedging", "simulation.duration=30s"),
        ("shop", "simulation.duration=20s")]


def _sort(items: list) -> list:
    return sorted(items, key=lambda s: (s.trace_id, s.span_id))


def _abandoned(span: dict, siblings: list[dict], parent: dict) -> bool:
    """A caller may stop waiting for an attempt when it retries or hedges that call, or
    when it fails itself (e.g. its own deadline)."""
    return parent["scalesim.status"] != "ok" or any(
        s["name"] == span["name"] and s["scalesim.kind"] in ("retry", "hedge")
        for s in siblings)


@pytest.mark.parametrize(("example", "override"), RUNS)
def test_otlp_is_structurally_valid(example: str, override: str) -> None:
    _, result = run(example, override)
    document = to_otlp(spans(result), result["system"])
    by_trace: dict[str, dict[str, dict]] = {}
    for resource in document["resourceSpans"]:
        service = {a["key"]: a["value"]["stringValue"]
                   for a in resource["resource"]["attributes"]}["service.name"]
        for item in resource["scopeSpans"][0]["spans"]:
            assert len(item["traceId"]) == 32 and HEX.match(item["traceId"])
            assert len(item["spanId"]) == 16 and HEX.match(item["spanId"])
            assert item["kind"] in (2, 5) and item["status"]["code"] in (1, 2)
            start, end = int(item["startTimeUnixNano"]), int(item["endTimeUnixNano"])
            assert isinstance(item["startTimeUnixNano"], str) and EPOCH_UNIX_NANO <= start <= end
            attrs = {a["key"]: next(iter(a["value"].values())) for a in item["attributes"]}
            assert attrs["scalesim.component"] == service
            by_trace.setdefault(item["traceId"], {})[item["spanId"]] = {
                **item, **attrs, "start": start, "end": end}
    assert by_trace
    nested = 0
    for members in by_trace.values():
        roots = [s for s in members.values() if "parentSpanId" not in s]
        assert len(roots) == 1
        for span in members.values():
            if "parentSpanId" not in span:
                continue
            parent = members[span["parentSpanId"]]  # every parent is in the trace
            assert len(span["parentSpanId"]) == 16
            if span["kind"] == 5:
                continue  # async: the caller does not wait
            assert parent["start"] <= span["start"]  # sent while the caller was busy
            siblings = [s for s in members.values()
                        if s.get("parentSpanId") == span["parentSpanId"]]
            if span["scalesim.status"] == "unfinished" or _abandoned(span, siblings, parent):
                continue
            assert span["end"] <= parent["end"], span
            nested += 1
    assert nested > 10


@pytest.mark.parametrize(("example", "override"), RUNS)
def test_otlp_and_jaeger_load_back_into_the_same_spans(example: str, override: str) -> None:
    _, result = run(example, override)
    original = spans(result)
    otlp_doc = json.loads(json.dumps(to_otlp(original, result["system"])))
    jaeger_doc = json.loads(json.dumps(to_jaeger(original, result["system"])))
    assert _sort(load_otlp(otlp_doc)) == _sort(original)
    assert _sort(load_jaeger(jaeger_doc)) == _sort(original)


def test_jaeger_is_structurally_valid() -> None:
    _, result = run("retry-storm", "simulation.duration=10s")
    document = to_jaeger(spans(result), result["system"])
    assert len(document["data"]) == len(result["traces"])
    for trace in document["data"]:
        for process in trace["processes"].values():
            assert process["tags"] == [{"key": "scalesim.system", "type": "string",
                                        "value": "retry-storm"}]
        ids = {s["spanID"] for s in trace["spans"]}
        for span in trace["spans"]:
            assert span["processID"] in trace["processes"]
            assert span["operationName"].startswith(
                trace["processes"][span["processID"]]["serviceName"] + ".")
            assert span["duration"] >= 0 and span["startTime"] * 1000 >= EPOCH_UNIX_NANO
            for ref in span["references"]:
                assert ref["refType"] == "CHILD_OF" and ref["spanID"] in ids
        assert sum(1 for s in trace["spans"] if not s["references"]) == 1


def test_times_start_at_the_documented_epoch() -> None:
    assert unix_nano(0.0) == 1_704_067_200 * 10**9  # 2024-01-01T00:00:00Z
    assert unix_nano(1.5) - unix_nano(0.0) == 1_500_000_000


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse(text: str) -> tuple[dict[str, str], list[tuple[str, dict[str, str], float]]]:
    """A small exposition parser: TYPE per family, and every sample with its labels."""
    types: dict[str, str] = {}
    samples = []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
        elif line.startswith("#") or not line:
            continue
        else:
            match = SAMPLE.match(line)
            assert match, line
            labels = {k: v.encode().decode("unicode_escape")
                      for k, v, _ in LABEL.findall(match.group(3) or "")}
            samples.append((match.group(1), labels, float(match.group(4))))
    return types, samples


def test_prometheus_text_parses_back_to_the_result() -> None:
    _, result = run("contained", "simulation.duration=45s")
    text = exposition(result)
    types, samples = parse(text)
    assert types["scalesim_requests_total"] == "counter"
    assert types["scalesim_request_duration_seconds"] == "summary"
    for name, _, _ in samples:  # every sample belongs to a declared family
        assert any(name == family or name in (family + "_sum", family + "_count")
                   for family in types), name
    ok = {s[1]["workload"]: s[2] for s in samples
          if s[0] == "scalesim_requests_total" and s[1]["outcome"] == "ok"}
    assert ok == {name: w["requests"]["ok"] for name, w in result["workloads"].items()}
    p99 = next(s[2] for s in samples if s[0] == "scalesim_request_duration_seconds"
               and s[1] == {"system": "contained", "workload": "browsing", "quantile": "0.99"})
    assert p99 == pytest.approx(result["workloads"]["browsing"]["latency_ms"]["p99"] / 1e3)
    opened = next(s[2] for s in samples if s[0] == "scalesim_circuit_breaker_transitions_total"
                  and s[1]["from_state"] == "closed")
    assert opened == sum(1 for t in result["calls"][0]["circuit_breaker"]["transitions"]
                         if t["from"] == "closed")
    assert not text.rstrip().endswith("# EOF")


def test_openmetrics_names_counter_families_without_total_and_ends_with_eof() -> None:
    _, result = run("contained", "simulation.duration=45s")
    text = exposition(result, openmetrics=True)
    assert text.endswith("# EOF\n")
    types, samples = parse(text)
    assert types["scalesim_requests"] == "counter"
    assert all(name.endswith("_total") for name, _, _ in samples
               if types.get(name.removesuffix("_total")) == "counter")


def test_label_values_are_escaped() -> None:
    _, result = run("contained", "simulation.duration=45s")
    hostile = json.loads(json.dumps(result))
    hostile["workloads"] = {'a"b\\c\nd': hostile["workloads"]["browsing"]}
    _, samples = parse(exposition(hostile))
    assert {s[1].get("workload") for s in samples} >= {'a"b\\c\nd'}


def test_prometheus_client_accepts_both_formats() -> None:
    parser = pytest.importorskip("prometheus_client.parser")
    om_parser = pytest.importorskip("prometheus_client.openmetrics.parser")
    _, result = run("shop", "simulation.duration=20s")
    families = list(parser.text_string_to_metric_families(exposition(result)))
    assert {f.name for f in families} >= {"scalesim_requests", "scalesim_call_attempts"}
    om = list(om_parser.text_string_to_metric_families(exposition(result, openmetrics=True)))
    assert {f.type for f in om} == {"counter", "gauge", "summary"}


def test_cli_exports_traces_metrics_and_series(tmp_path: Path) -> None:
    _, result = run("contained", "simulation.duration=45s")
    path = tmp_path / "result.json"
    path.write_text(json.dumps(result))
    runner = CliRunner()
    for args, out in ((["--traces", "otlp"], "t.json"), (["--traces", "jaeger"], "j.json"),
                      (["--metrics", "prometheus"], "m.txt"),
                      (["--metrics", "openmetrics"], "m.om"),
                      (["--metrics", "csv"], "csv"), (["--metrics", "parquet"], "pq")):
        done = runner.invoke(app, ["export", str(path), *args, "-o", str(tmp_path / out)])
        assert done.exit_code == 0, done.output
    assert load_otlp(json.loads((tmp_path / "t.json").read_text()))
    rows = list(csv.DictReader((tmp_path / "csv" / "timeseries.csv").open()))
    assert len(rows) == len(result["timeseries"]["workloads"]["rows"])
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(tmp_path / "pq" / "components.parquet")
    assert table.column_names == result["timeseries"]["components"]["columns"]
    assert table.column("utilization").to_pylist() == [
        row[2] for row in result["timeseries"]["components"]["rows"]]
    assert table.schema.metadata[b"scalesim.system"] == b"contained"
    both = runner.invoke(app, ["export", str(path), "--traces", "otlp", "--metrics", "csv",
                               "-o", str(tmp_path / "x")])
    assert both.exit_code == 2
    path.write_text(json.dumps({k: v for k, v in result.items() if k != "timeseries"}))
    none = runner.invoke(app, ["export", str(path), "--metrics", "csv", "-o",
                               str(tmp_path / "y")])
    assert none.exit_code == 2 and "time series" in none.output


def test_a_queues_deliveries_are_consumer_spans_linked_to_their_publish() -> None:
    """Each delivery of a traced message is the consumer's CONSUMER span, in a trace of its
    own, linked (OTLP `links`, Jaeger FOLLOWS_FROM) to the traced publish of its message."""
    result = simulate(load_spec_text(QUEUED))
    found = spans(result)
    delivered = [s for s in found if s.kind == "delivery"]
    messages = result["queues"]["jobs->worker.handle"]["traces"]
    assert len(delivered) == sum(len(m["deliveries"]) for m in messages) > 900
    assert {(s.component, s.operation) for s in delivered} == {("worker", "handle")}
    by_id = {(s.trace_id, s.span_id): s for s in found}
    linked = [s for s in delivered if s.links]
    assert len(linked) > 0.9 * len(delivered)  # every request is traced: most messages match
    for span in linked:
        publish = by_id[span.links[0]]
        assert (publish.component, publish.kind) == ("jobs", "async")
        assert publish.start <= span.start and span.parent_span_id is None
    document = to_otlp(found, result["system"])
    items = [item for resource in document["resourceSpans"] for item in
             resource["scopeSpans"][0]["spans"] if item["name"] == "worker.handle"]
    assert len(items) == len(delivered) and all(item["kind"] == 5 for item in items)
    assert sum(1 for item in items if item.get("links")) == len(linked)
    jaeger = to_jaeger(found, result["system"])
    follows = [r for trace in jaeger["data"] for s in trace["spans"] for r in s["references"]
               if r["refType"] == "FOLLOWS_FROM"]
    assert len(follows) == len(linked)
    assert _sort(load_otlp(json.loads(json.dumps(document)))) == _sort(found)
    assert _sort(load_jaeger(json.loads(json.dumps(jaeger)))) == _sort(found)


def test_csv_cells_hold_the_results_values_to_six_decimals(tmp_path: Path) -> None:
    """docs/results.md: the time series' rows are rounded to 6 decimals, as result.json and
    Parquet hold them; the CSV wrote 6 significant digits (124.401 for 124.401023)."""
    from scalesim.export.tables import write_csv_files
    rows = [[12.0, "payments", None, 124.401023, 0.000001, 3],
            [13.0, "payments", 0.5, -0.0, 123456.789012, 0]]
    result = {"system": "s", "seed": 1, "timeseries": {"components": {
        "columns": ["t_s", "component", "utilization", "queue_mean", "throughput_rps",
                    "refused"], "rows": rows}}}
    (path,) = write_csv_files(result, tmp_path)
    with path.open() as handle:
        read = list(csv.reader(handle))[1:]
    assert read == [["12", "payments", "", "124.401023", "0.000001", "3"],
                    ["13", "payments", "0.5", "0", "123456.789012", "0"]]


def test_exporting_traces_of_an_untraced_run_warns(tmp_path: Path) -> None:
    """simulation.traces: 0 keeps no trace: the empty document came without a word."""
    spec = tmp_path / "s.yaml"
    spec.write_text("scalesim: 1\nname: s\ncomponents: {api: {operations: {get: {work: 1ms}}}}\n"
                    "workloads: [{name: w, to: api.get, rate: 10/s}]\n"
                    "simulation: {duration: 1s, traces: 0}\n")
    done = CliRunner().invoke(app, ["export", str(spec), "--traces", "otlp", "-o",
                                    str(tmp_path / "t.json")])
    assert done.exit_code == 0, done.output
    assert "warning: no request of the run was traced (simulation.traces is 0" in done.stderr
    assert json.loads((tmp_path / "t.json").read_text()) == {"resourceSpans": []}
