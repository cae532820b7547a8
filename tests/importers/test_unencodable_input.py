"""Import and calibrate against text UTF-8 cannot carry: a file name that is not UTF-8 (read
as lone surrogates) or holds a newline, and a lone surrogate spelled as an escape
("\\ud800") in YAML or JSON. Each is imported with the name shown escaped, or refused as bad
input naming the file; none is a crash or an imported spec "that does not validate"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from tests.importers.test_calibrate_inputs import SPEC, otlp, pair
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.importers import ImportFailed, import_compose, sources
from scalesim.spec import load_spec_text

COMPOSE = "services:\n  web:\n    image: nginx\n  db:\n    image: postgres\n"


@pytest.mark.parametrize(("name", "described", "commented"), [
    # the byte 0xff, as Python decodes a file name: UTF-8 holds its escape only
    ("x\udcff.yaml", "x\\udcff.yaml", "x\\udcff.yaml"),
    # a value holds a newline; a comment must stay on its line
    ("two\nlines.yaml", "two\nlines.yaml", "two\\nlines.yaml"),
])
def test_a_file_name_utf8_or_a_comment_cannot_hold_is_written_escaped(
        tmp_path: Path, name: str, described: str, commented: str) -> None:
    """The name went into the spec's description and comments as it was: a lone surrogate
    made UnicodeEncodeError, a newline broke a comment onto a line of its own."""
    path = tmp_path / name
    path.write_text(COMPOSE)
    imported = import_compose([str(path)])
    system = load_spec_text(imported.text)
    assert system.description == f"Imported from {tmp_path}/{described}"
    comments = [line for line in imported.text.splitlines() if "# the folder of" in line]
    assert comments and all(f"{tmp_path}/{commented} " in line for line in comments)


@pytest.mark.parametrize("loader", ["libyaml", "python"])
def test_a_lone_surrogate_escape_is_refused_at_its_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loader: str) -> None:
    """libyaml refuses the escape; PyYAML's Python parser (used without libyaml) took it."""
    if loader == "python":
        monkeypatch.setattr(sources, "_LOADER", yaml.SafeLoader)
    elif not getattr(yaml, "__with_libyaml__", False):
        pytest.skip("PyYAML was built without libyaml")
    path = tmp_path / "compose.yaml"
    path.write_text(COMPOSE.replace("image: postgres", 'image: "post\\ud800gres"'))
    with pytest.raises(ImportFailed) as caught:
        import_compose([str(path)])
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == (str(path), 5)
    assert "not valid YAML" in problem.message


def test_a_trace_with_a_lone_surrogate_is_bad_input_naming_the_field(tmp_path: Path) -> None:
    """JSON's "\\ud800" in a service name crashed printing the report (exit 1)."""
    spans = [span for index in range(40) for span in pair(index)]
    for span in spans:
        if span["service"] == "back":
            span["service"] = "ba\ud800ck"
    (tmp_path / "spec.yaml").write_text(SPEC)
    traces = tmp_path / "t.json"
    traces.write_text(json.dumps(otlp(spans)))  # ensure_ascii: written as \ud800
    out = tmp_path / "out.yaml"
    result = CliRunner().invoke(app, ["calibrate", str(tmp_path / "spec.yaml"), "-o", str(out),
                                      "--traces", str(traces)])
    assert result.exit_code == 2, result.output
    assert (f"{traces}: resourceSpans[1].resource.attributes[0].value.stringValue: not valid "
            "Unicode text: a lone UTF-16 surrogate (\\ud800) at character 2") in result.output
    assert not out.exists()
