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


def test_a_folder_given_for_the_diagram_is_named_as_one(tmp_path: Path) -> None:
    """It said 'write .svg, .png, .dot or .mmd' about a folder with no suffix."""
    done = CliRunner().invoke(app, ["diagram", str(EXAMPLES / "shop.yaml"), "-o",
                                    str(tmp_path)])
    assert done.exit_code == 2 and "is a folder; give a file name" in done.output


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
