"""What `diagram`, `report` and `export` refuse: inputs that were ignored in silence or
misnamed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.render.helpers import EXAMPLES, app, run
from typer.testing import CliRunner


def result_file(tmp_path: Path, example: str) -> Path:
    path = tmp_path / f"{example}.json"
    path.write_text(json.dumps(run(example, "simulation.duration=5s")[1]), encoding="utf-8")
    return path


def test_a_result_of_another_system_is_refused_not_drawn_blank(tmp_path: Path) -> None:
    """contained's result over shop's spec coloured nothing and said nothing (exit 0)."""
    other = result_file(tmp_path, "contained")
    out = tmp_path / "shop.svg"
    done = CliRunner().invoke(app, ["diagram", str(EXAMPLES / "shop.yaml"), "--result",
                                    str(other), "-o", str(out)])
    assert done.exit_code == 2
    assert "a result of system 'contained', not of 'shop'" in done.output
    assert not out.exists()
    report = CliRunner().invoke(app, ["report", str(other), "--spec",
                                      str(EXAMPLES / "shop.yaml"), "-o", str(tmp_path / "r.html")])
    assert report.exit_code == 2 and "not of 'shop'" in report.output
    assert not (tmp_path / "r.html").exists()


def test_a_run_of_an_edited_spec_is_drawn_where_it_matches_with_a_warning(
        tmp_path: Path) -> None:
    result = result_file(tmp_path, "shop")
    edited = tmp_path / "shop.yaml"
    text = (EXAMPLES / "shop.yaml").read_text(encoding="utf-8")
    edited.write_text(text.replace("payments", "billing"), encoding="utf-8")
    out = tmp_path / "shop.dot"
    done = CliRunner().invoke(app, ["diagram", str(edited), "--result", str(result), "-o",
                                    str(out)])
    assert done.exit_code == 0, done.output
    assert "components not in the result: billing; not in the spec: payments" in done.output
    assert "rps" in out.read_text(encoding="utf-8")


def test_a_result_file_with_another_result_is_refused(tmp_path: Path) -> None:
    """`diagram a.json --result b.json` drew b alone: a was ignored."""
    result = result_file(tmp_path, "shop")
    done = CliRunner().invoke(app, ["diagram", str(result), "--result", str(result), "-o",
                                    str(tmp_path / "x.dot")])
    assert done.exit_code == 2 and "is a result already" in done.output



@pytest.mark.parametrize(("command", "out", "option"), [
    ("export", ["--metrics", "prometheus", "-o", "p.txt"],
     ["--set", "components.orders.replicas=9"]),
    ("report", ["-o", "r.html"], ["--seed", "5"]),
    ("diagram", ["-o", "d.dot"], ["--set", "simulation.duration=1s"]),
    ("diagram", ["-o", "d.dot"], ["--seed", "0"])])
def test_spec_options_with_a_result_are_refused(tmp_path: Path, command: str, out: list[str],
                                                option: list[str]) -> None:
    """`--seed` and `--set` apply to a spec, which is simulated: given a result they were
    ignored (exit 0, the output as without them)."""
    result = result_file(tmp_path, "contained")
    written = tmp_path / out[-1]
    done = CliRunner().invoke(app, [command, str(result), *out[:-1], str(written), *option])
    assert done.exit_code == 2
    assert f"is a result, not a spec: {option[0]} applies to a spec" in done.output
    assert not written.exists()



def test_a_seed_for_a_diagram_that_simulates_nothing_is_refused(tmp_path: Path) -> None:
    """The architecture of a spec alone, or coloured by --result, runs nothing: --seed was
    ignored."""
    result = result_file(tmp_path, "contained")
    spec = str(EXAMPLES / "contained.yaml")
    out = tmp_path / "d.dot"
    for extra in ([], ["--result", str(result)]):
        done = CliRunner().invoke(app, ["diagram", spec, "-o", str(out), "--seed", "5", *extra])
        assert done.exit_code == 2 and "this diagram simulates nothing" in done.output
        assert not out.exists()


def test_compare_refuses_spec_options_when_both_are_results(tmp_path: Path) -> None:
    """Two results are only read: a seed or replications for them were ignored."""
    result = result_file(tmp_path, "contained")
    done = CliRunner().invoke(app, ["compare", str(result), str(result), "--seed", "3",
                                    "-r", "3"])
    assert done.exit_code == 2
    assert "are results, not specs: --seed and --replications apply to a spec" in done.output


def test_report_set_applies_to_the_spec_of_a_result(tmp_path: Path) -> None:
    """With --spec, `--set` edits that spec (the one the run was made from), so it is used."""
    result = result_file(tmp_path, "contained")
    out = tmp_path / "r.html"
    done = CliRunner().invoke(app, ["report", str(result), "--spec",
                                    str(EXAMPLES / "contained.yaml"), "-o", str(out), "--set",
                                    "simulation.duration=5s"])
    assert done.exit_code == 0, done.output
    assert out.exists()


def test_a_failed_request_that_was_not_sampled_is_explained(tmp_path: Path) -> None:
    """shop's run has 1 failed request, not among the sampled ones: the message said only
    "no trace 'failed' in the result", as if there were none to find."""
    result = tmp_path / "shop.json"
    run_of_shop = run("shop")[1]
    assert run_of_shop["requests"]["failed"] == 1
    assert not any(trace["kind"] == "failed" for trace in run_of_shop["traces"])
    result.write_text(json.dumps(run_of_shop), encoding="utf-8")
    done = CliRunner().invoke(app, ["diagram", str(result), "--trace", "failed", "-o",
                                    str(tmp_path / "f.mmd")])
    assert done.exit_code == 2
    message = " ".join(done.output.split())
    assert "the run had 1 failed request, but only sampled requests have traces" in message
    assert "--set simulation.traces=100" in message


def test_a_folder_given_for_the_diagram_is_named_as_one(tmp_path: Path) -> None:
    """It said 'write .svg, .png, .dot or .mmd' about a folder with no suffix."""
    done = CliRunner().invoke(app, ["diagram", str(EXAMPLES / "shop.yaml"), "-o",
                                    str(tmp_path)])
    assert done.exit_code == 2 and "is a folder; give a file name" in done.output



def test_an_unknown_diagram_suffix_names_every_one_written(tmp_path: Path) -> None:
    """`-o x.gv` writes DOT (docs/diagrams.md), but the refusal of x.pdf left .gv out."""
    done = CliRunner().invoke(app, ["diagram", str(EXAMPLES / "shop.yaml"), "-o",
                                    str(tmp_path / "x.pdf")])
    assert done.exit_code == 2 and "write .svg, .png, .dot (or .gv) or .mmd" in done.output
    drawn = CliRunner().invoke(app, ["diagram", str(EXAMPLES / "shop.yaml"), "-o",
                                     str(tmp_path / "x.gv")])
    assert drawn.exit_code == 0 and (tmp_path / "x.gv").read_text().startswith("digraph")


def test_trace_and_breakers_together_are_refused(tmp_path: Path) -> None:
    """The trace was written and --breakers ignored."""
    out = tmp_path / "x.mmd"
    done = CliRunner().invoke(app, ["diagram", str(result_file(tmp_path, "contained")),
                                    "--trace", "slowest", "--breakers", "-o", str(out)])
    assert done.exit_code == 2 and "give one of them" in done.output
    assert not out.exists()


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_table_export_into_a_folder_named_like_one_file_is_refused(tmp_path: Path,
                                                                    fmt: str) -> None:
    """`-o m.parquet` made a folder m.parquet of one file per table."""
    out = tmp_path / f"m.{fmt}"
    done = CliRunner().invoke(app, ["export", str(EXAMPLES / "shop.yaml"), "--metrics", fmt,
                                    "-o", str(out)])
    assert done.exit_code == 2
    assert f"--metrics {fmt} writes a folder, one .{fmt} file per table" in done.output
    assert not out.exists()
