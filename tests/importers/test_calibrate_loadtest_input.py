"""`scalesim calibrate --load-test` on CSV files that cannot be what a load test measured:
CPU beyond the cores the spec gives a component, and headers or rows that do not line up.
Each bad file exits 2 naming the file, the row and the column, and writes nothing."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from scalesim.cli import app


def spec(api: str) -> str:
    """api.get (1 ms of CPU) calling db.q (2 ms); `api` holds api's own settings."""
    return f"""\
scalesim: 1
name: t
components:
  api:
    workers: 4
{api}
    operations:
      get: {{cpu: 1ms, calls: [{{to: db.q}}]}}
  db:
    workers: 4
    cores: 1
    operations:
      q: {{cpu: 2ms}}
workloads: [{{name: w, to: api.get, rate: 100/s}}]
"""


ONE_CORE = spec("    cores: 1")


def calibrate(tmp_path: Path, text: str, content: str | bytes) -> Any:
    """Run `calibrate --json --load-test` on a CSV holding `content`."""
    (tmp_path / "spec.yaml").write_text(text)
    csv = tmp_path / "load.csv"
    if isinstance(content, bytes):
        csv.write_bytes(content)
    else:
        csv.write_text(content)
    return CliRunner().invoke(app, ["calibrate", str(tmp_path / "spec.yaml"), "-o",
                                    str(tmp_path / "out.yaml"), "--json", "--load-test",
                                    str(csv)])


def refused(tmp_path: Path, result: Any, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'load.csv'}{message}" in result.stderr
    assert not (tmp_path / "out.yaml").exists()


def test_a_percentage_for_cores_is_refused_at_its_row(tmp_path: Path) -> None:
    """cpu_api 5 and 10 on one replica of one core (percent where cores are meant) was fitted
    as 500 ms of CPU per request, a saturation of 2 requests/s against the rows' 20, and
    499 ms of overhead written; now the first row is refused, saying what the column holds."""
    result = calibrate(tmp_path, ONE_CORE,
                       "rate_rps,throughput_rps,mean_ms,cpu_api\n10,10,3,5\n20,20,3.1,10\n")
    refused(tmp_path, result, ":2: cpu_api: 5 cores used, more than api's 1 replica × 1 core "
            "can use (1); the column holds the cores its processes used, summed over its "
            "replicas (CPU seconds per second), not a percentage: 5 % of one core is 0.05")


@pytest.mark.parametrize(("api", "most", "which"), [
    ("    cores: 0.5\n    replicas: 2", 1.0, "2 replicas × 0.5 cores"),
    ("    cores: 2\n    autoscale: {max: 4}", 8.0, "autoscale.max 4 replicas × 2 cores"),
    ("    event_loop: true\n    replicas: 3", 3.0, "3 replicas × 1 core"),
], ids=["fractional cores", "autoscaled", "event loop"])
def test_cores_used_are_bounded_by_all_replicas_cores(tmp_path: Path, api: str, most: float,
                                                      which: str) -> None:
    """The bound is the cores of every replica the component can have (an autoscaler's
    maximum; an event loop computes on one): all of them busy is read, a little more is
    refused."""
    rows = "rate_rps,throughput_rps,mean_ms,cpu_api\n10,10,3,{}\n20,20,3.1,{}\n"
    result = calibrate(tmp_path, spec(api), rows.format(most / 2, most))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["load_test"]["method"] == "utilization law"
    (tmp_path / "out.yaml").unlink()
    result = calibrate(tmp_path, spec(api), rows.format(most / 2, most * 1.01))
    refused(tmp_path, result, f":3: cpu_api: {most * 1.01:g} cores used, more than api's "
            f"{which} can use ({most:g}); ")


@pytest.mark.filterwarnings("error")  # numpy's overflow warning fails the test
@pytest.mark.parametrize(("api", "which"), [
    ("    cores: 1", "1 replica × 1 core can use (1)"),
    ("    replicas: 3", "3 replicas × 10,000 cores (the most a spec may give one; it gives "
     "none) can use (30,000)"),
], ids=["cores", "no cores"])
def test_a_huge_cpu_value_is_refused_at_its_row_not_blamed_on_the_spec(
        tmp_path: Path, api: str, which: str) -> None:
    """cpu_api 1e308 overflowed numpy (its warning printed with a source path) into an
    overhead of 'infs', reported as an error of the spec; now its row is refused, with or
    without `cores` (then the most a spec may give a replica bounds it)."""
    result = calibrate(tmp_path, spec(api),
                       "rate_rps,throughput_rps,mean_ms,cpu_api\n10,10,3,0.03\n20,20,3.1,1e308\n")
    refused(tmp_path, result, f":3: cpu_api: 1e+308 cores used, more than api's {which}; ")
    assert "Warning" not in result.stderr and "spec.yaml" not in result.stderr


@pytest.mark.parametrize(("content", "message"), [
    ("rate_rps,throughput_rps,mean_ms\n10,10,3\n20,1e308,3.1\n",
     ":3: throughput_rps: 1e308 is more than the most requests/s a spec's rate may be "
     "(1,000,000,000); no load test measured it"),
    ("rate_rps,throughput_rps,mean_ms,cpu_api\n10,10,3,0.01\n20,1e160,3.1,0.02\n",
     ":3: throughput_rps: 1e160 is more than the most requests/s a spec's rate may be "),
    ("rate_rps,throughput_rps,mean_ms\n10,10,3\n20,20,1e300\n",
     ":3: mean_ms: 1e300 is more than the most milliseconds a spec's duration may be "
     "(1,000,000,000,000)"),
    ("rate_rps,throughput_rps,mean_ms,cores_available\n10,10,3,1e308\n20,20,3.1,1\n",
     ":2: cores_available: 1e308 is more than the most cores a spec may give a replica "
     "(10,000)"),
], ids=["throughput", "throughput with cpu", "mean", "cores available"])
def test_a_value_past_a_specs_bounds_is_refused_at_its_row(tmp_path: Path, content: str,
                                                           message: str) -> None:
    """throughput_rps 1e308 overflowed numpy's fits (RuntimeWarning: overflow, printed with
    numpy's source path) and was fitted; a value past what a spec may hold is now refused
    at its row, and no warning is raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = calibrate(tmp_path, ONE_CORE, content)
    refused(tmp_path, result, message)


@pytest.mark.parametrize("content", [
    "rate_rps,throughput_rps,mean_ms,cpu_api\n10,10,3,0.1\n1e9,1e9,1e12,1\n",
    "rate_rps,throughput_rps,mean_ms,p99_ms\n1,1e-300,1e-300,1e12\n1e9,1e9,1e12,1e12\n",
], ids=["utilization law", "response time"])
def test_values_at_the_bounds_are_fitted_without_a_warning(tmp_path: Path,
                                                           content: str) -> None:
    """The bounds keep both fits' sums of squares finite: the largest values they let
    through raise no numpy warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = calibrate(tmp_path, ONE_CORE, content)
    assert result.exit_code == 0, result.output


ROWS = "10,10,3,0.05\n20,20,3.1,0.1\n"


def fitted(result: Any) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    load: dict[str, Any] = json.loads(result.stdout)["load_test"]
    return load


@pytest.mark.parametrize("header", [
    "\ufeffrate_rps,throughput_rps,mean_ms,cpu_api",  # Excel's "CSV UTF-8"
    "rate_rps, throughput_rps, mean_ms, cpu_api",
    " rate_rps ,throughput_rps\t,mean_ms,cpu_api ",
], ids=["byte order mark", "spaces after commas", "spaces around"])
def test_a_header_is_read_less_a_byte_order_mark_and_spaces(tmp_path: Path,
                                                            header: str) -> None:
    """A byte order mark glued to the first name gave 'missing column(s) rate_rps', spaces
    after the commas 'missing column(s) throughput_rps, mean_ms'; now both read as the
    plain header does."""
    plain = fitted(calibrate(tmp_path, ONE_CORE,
                             "rate_rps,throughput_rps,mean_ms,cpu_api\n" + ROWS))
    (tmp_path / "out.yaml").unlink()
    found = fitted(calibrate(tmp_path, ONE_CORE, (header + "\n" + ROWS).encode()))
    assert found == plain
    assert found["cpu_per_request_ms"]["api"] == pytest.approx(5.0)


@pytest.mark.parametrize(("content", "message"), [
    ("rate_rps,throughput_rps,mean_ms,mean_ms\n10,10,3,4\n20,20,3.1,5\n",
     ":1: mean_ms: a repeated column (columns 3 and 4): give each once"),
    ("rate_rps,throughput_rps,mean_ms\n10,10,3\n20,20,3.1,9\n",
     ":3: 4 fields where the header has 3 columns: field 4, '9', is under no column"),
    ("rate_rps,throughput_rps,mean_ms,p99_ms\n10,10,3,4\n\n20,20,3.1\n",
     ":4: p99_ms: missing (3 fields where the header has 4 columns)"),
], ids=["repeated column", "extra field", "short row"])
def test_columns_and_rows_that_do_not_line_up_are_refused(tmp_path: Path, content: str,
                                                          message: str) -> None:
    """A repeated column was read as its last, a row's extra fields dropped and a short
    row's last columns taken as not given, all silently; now each is refused at its line
    (a blank line counted, not read)."""
    refused(tmp_path, calibrate(tmp_path, ONE_CORE, content), message)
