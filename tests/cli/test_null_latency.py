"""A run where nothing succeeds: the latency summaries have every key, each null, as
docs/results.md says of a value that does not exist (the QA pass got `{}`, and
`r["latency_ms"]["p99"]` raised KeyError); the result stays one the readers accept."""

from __future__ import annotations

import json
from pathlib import Path

from scalesim.sim.result_schema import Latency, check_result

# every call times out (50 ms of work, a 10 ms timeout): no request succeeds
NOTHING_SUCCEEDS = """\
scalesim: 1
name: all-fail
components:
  client:
    kind: service
    operations:
      fetch:
        work: 1ms
        calls:
          - to: backend.get
            timeout: 10ms
  backend:
    kind: service
    operations:
      get:
        work: 50ms
workloads:
  - name: calls
    to: client.fetch
    rate: 50/s
simulation:
  duration: 2s
"""

NULLS = dict.fromkeys(Latency.model_fields)


def test_latency_of_no_successful_request_is_null_at_every_level(run_cli, spec_file,
                                                                 tmp_path: Path):
    spec = spec_file(NOTHING_SUCCEEDS)
    printed = run_cli("simulate", str(spec), "--json")
    assert printed.exit_code == 0, printed.output
    result = json.loads(printed.stdout)
    assert result["requests"]["ok"] == 0
    client = result["components"]["client"]
    assert result["latency_ms"] == NULLS and result["latency_ms"]["p99"] is None
    assert result["workloads"]["calls"]["latency_ms"] == NULLS
    assert client["latency_ms"] == NULLS
    assert client["operations"]["fetch"]["latency_ms"] == NULLS
    assert check_result(result) == []
    written = run_cli("simulate", str(spec), "--out", str(tmp_path / "run"))
    assert written.exit_code == 0, written.output
    saved = json.loads((tmp_path / "run" / "result.json").read_text(encoding="utf-8"))
    assert saved["latency_ms"] == NULLS
    report = run_cli("report", str(tmp_path / "run" / "result.json"), "-o",
                     str(tmp_path / "r.html"))
    assert report.exit_code == 0, report.output


def test_the_engine_itself_gives_the_nulls_the_studio_and_sweeps_read() -> None:
    from scalesim.sim import simulate
    from scalesim.spec import load_spec_text

    result = simulate(load_spec_text(NOTHING_SUCCEEDS))
    assert result["latency_ms"] == NULLS
    assert result["components"]["client"]["operations"]["fetch"]["latency_ms"] == NULLS


def test_no_interval_of_nothing_measured() -> None:
    # max(0.0, nan) is 0.0: the interval of no latency read [0.0, null]
    from scalesim.sim import simulate
    from scalesim.spec import load_spec_text

    result = simulate(load_spec_text(NOTHING_SUCCEEDS + "  replications: 3\n"))
    assert result["replications"] == 3
    assert result["ci95"]["latency_ms"]["mean"] == [None, None]
    assert all(bounds == [None, None] for bounds in result["ci95"]["latency_ms"].values())
