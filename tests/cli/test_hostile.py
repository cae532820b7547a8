"""Hostile command lines end in exit 2 with a message, nothing half-written (issue 19):
output paths, --out replacement, --seed, hand-edited results, escape sequences, generate
with nothing to write and stale generated files."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.cli.specs import GOOD

from scalesim.cli import outputs
from scalesim.generate import MANIFEST

# 20 M requests: tens of seconds even on a fast machine, inside the run budget (10 minutes,
# 200,000 intervals)
SLOW = GOOD.replace("duration: 5s", "duration: 100000s")
SCALESIM = str(Path(sys.executable).with_name("scalesim"))


@pytest.mark.parametrize(("command", "suffix"), [
    (["report", "{spec}", "-o", "{at}"], ".html"),
    (["simulate", "{spec}", "-q", "--report", "{at}"], ".html"),
    (["diagram", "{spec}", "-o", "{at}"], ".dot"),  # diagram takes its format from the name
    (["new", "timeout", "-o", "{at}", "--force"], ".yaml"),
])
def test_a_pipe_is_not_replaced_and_a_link_is_written_through(
        run_cli, spec_file, tmp_path: Path, command: list[str], suffix: str) -> None:
    """Writing renames a temporary file over the target: over a pipe or a device that
    replaced it with a regular file (`report -o /dev/null` as root broke /dev/null), and over
    a symbolic link it replaced the link. A pipe is refused up front; a link is written
    through, to the file it names, and stays a link."""
    pipe = tmp_path / f"pipe{suffix}"
    os.mkfifo(pipe)
    values = {"spec": str(spec_file())}
    result = run_cli(*[part.format(**values, at=str(pipe)) for part in command])
    assert result.exit_code == 2, result.output
    assert "is not a regular file" in result.output and pipe.is_fifo()
    target, link = tmp_path / f"target{suffix}", tmp_path / f"link{suffix}"
    target.write_text("old\n")
    link.symlink_to(target)
    result = run_cli(*[part.format(**values, at=str(link)) for part in command])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and target.read_text() != "old\n"


@pytest.fixture
def no_hang():
    """Fail the test after 10 s instead of waiting forever on a pipe's open."""
    def expired(*_: Any) -> None:
        raise TimeoutError("still waiting after 10 s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("command", [
    ["validate", "{pipe}"],
    ["lint", "{pipe}"],
    ["import", "k8s", "{pipe}", "-o", "{out}.yaml"],
    ["calibrate", "{spec}", "-o", "{out}.yaml", "--traces", "{pipe}"],
    ["calibrate", "{spec}", "-o", "{out}.yaml", "--load-test", "{pipe}"],
    ["diagram", "{pipe}", "-o", "{out}.svg"],
])
def test_a_named_pipe_given_as_input_is_refused_not_waited_on(
        run_cli, spec_file, tmp_path: Path, no_hang: None, command: list[str]) -> None:
    """Opening a named pipe waits for a writer; `validate FIFO` hung until killed."""
    pipe = tmp_path / "pipe.json"  # a result, for diagram
    os.mkfifo(pipe)
    values = {"spec": str(spec_file()), "pipe": str(pipe), "out": str(tmp_path / "out")}
    result = run_cli(*[part.format(**values) for part in command])
    assert result.exit_code == 2, result.output
    assert f"{pipe}: cannot read" in result.output
    assert "a named pipe (FIFO), not a regular file" in result.output


@pytest.mark.parametrize("command", [
    ["report", "{spec}", "-o", "{out}"],
    ["simulate", "{spec}", "-q", "--report", "{out}"],
    ["compare", "{spec}", "{spec}", "-o", "{out}"],
    ["sweep", "{spec}", "--vary", "workloads.0.rate=10/s,20/s", "-q", "--report", "{out}"],
])
def test_a_report_is_written_only_to_an_html_name(run_cli, spec_file, tmp_path: Path,
                                                   command: list[str]) -> None:
    """`report -o x.pdf` wrote HTML into a .pdf, exit 0 (diagram checks its name)."""
    out = tmp_path / "report.pdf"
    result = run_cli(*[part.format(spec=str(spec_file()), out=str(out)) for part in command])
    assert result.exit_code == 2, result.output
    assert f"error: {out}: a report is an HTML page; give a name ending in .html" \
        in result.output
    assert not out.exists()


def test_out_that_is_a_file_is_bad_input(run_cli, spec_file, tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("mine\n")
    result = run_cli("simulate", str(spec_file()), "--out", str(taken), "--quiet")
    assert result.exit_code == 2
    assert f"--out {taken}: exists and is not a folder" in result.output
    assert taken.read_text() == "mine\n"


def test_out_with_foreign_files_is_bad_input(run_cli, spec_file, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    result = run_cli("simulate", str(spec_file()), "--out", str(out), "--quiet")
    assert result.exit_code == 2
    assert "holds files a run does not write (notes.txt)" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("command", [
    ["simulate", "{spec}", "--report", "{missing}/r.html"],
    ["report", "{spec}", "-o", "{missing}/r.html"],
    ["diagram", "{spec}", "-o", "{missing}/d.dot"],
    ["compare", "{spec}", "{spec}", "-o", "{missing}/c.html"],
    ["export", "{spec}", "--metrics", "prometheus", "-o", "{missing}/m.txt"],
    ["report", "{spec}", "-o", "{tmp}"],
    ["new", "timeout", "-o", "{missing}/t.yaml"],
    ["new", "timeout", "-o", "{tmp}", "--force"],
    ["patterns", "graph", "-o", "{missing}/g.dot"],
    ["simulate", "{spec}", "--out", "{missing}/run", "-q"],
    ["sweep", "{spec}", "--vary", "workloads.0.rate=10/s,20/s", "--out", "{missing}/s", "-q"],
])
def test_output_files_in_missing_folders_are_bad_input(run_cli, spec_file, tmp_path: Path,
                                                       command: list[str]) -> None:
    values = {"spec": str(spec_file()), "missing": str(tmp_path / "missing"),
              "tmp": str(tmp_path)}
    result = run_cli(*[part.format(**values) for part in command])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "missing").exists()


def test_out_replaces_a_previous_run_as_a_whole(run_cli, spec_file, tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = run_cli("simulate", str(spec_file()), "--out", str(out), "--quiet", "--seed", "1")
    second = run_cli("simulate", str(spec_file()), "--out", str(out), "--quiet", "--seed", "2")
    assert first.exit_code == second.exit_code == 0
    assert json.loads((out / "result.json").read_text())["seed"] == 2
    written = {p.name for p in out.iterdir()}  # result.json and the tables this run has
    assert {"result.json", "timeseries.csv"} <= written <= set(outputs.run_files())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_failure_while_swapping_keeps_the_previous_run(run_cli, spec_file, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    out = tmp_path / "run"
    assert run_cli("simulate", str(spec_file()), "--out", str(out), "-q").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_rename = os.rename

    def rename(source: Any, target: Any) -> None:
        if ".scalesim-new-" in str(source):  # the new run cannot be moved in
            raise OSError("disk full")
        real_rename(source, target)

    monkeypatch.setattr(outputs.os, "rename", rename)
    result = run_cli("simulate", str(spec_file()), "--out", str(out), "-q", "--seed", "9")
    assert result.exit_code == 2 and "disk full" in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_full_disk_names_the_output_not_a_temporary_file(run_cli, spec_file, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """ENOSPC while writing the run's tables or a report was 'error: [Errno 28] No space
    left on device', naming nothing; an export's named its hidden staging file."""
    from scalesim.export import tables

    def full(*_: Any, **__: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tables, "write_csv", full)
    out = tmp_path / "run"
    result = run_cli("simulate", str(spec_file()), "--out", str(out), "-q")
    assert result.exit_code == 2
    assert f"{out}: cannot write the run: No space left on device" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["system.yaml"]
    monkeypatch.setattr(outputs.os, "fdopen", full)
    report = tmp_path / "r.html"
    result = run_cli("simulate", str(spec_file()), "--report", str(report), "-q")
    assert result.exit_code == 2
    assert f"{report}: cannot write it: No space left on device" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["system.yaml"]


def test_a_killed_run_leaves_no_partial_output_and_the_next_run_cleans_up(
        spec_file, tmp_path: Path) -> None:
    out = tmp_path / "run"
    leftover = tmp_path / ".run.scalesim-new-999999999-abc"  # a killed run's staging folder
    leftover.mkdir()
    (leftover / "result.json").write_text("{}")
    spec = spec_file(SLOW)
    process = subprocess.Popen([SCALESIM, "simulate", str(spec),
                                "--out", str(out), "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=3)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL  # killed mid-run, not finished or refused
    assert not out.exists()
    quick = subprocess.run([SCALESIM, "simulate", str(spec_file()),
                            "--out", str(out), "--quiet"], capture_output=True, check=False)
    assert quick.returncode == 0, quick.stderr
    assert not leftover.exists() and (out / "result.json").exists()


@pytest.mark.parametrize(("sent", "code", "command"), [
    (signal.SIGTERM, 143, ["simulate", "{spec}", "-r", "10000"]),
    (signal.SIGINT, 130, ["simulate", "{spec}", "-r", "10000"]),  # Ctrl-C: the whole group
    (signal.SIGTERM, 143, ["sweep", "{spec}", "--vary", "workloads.0.rate=100/s,200/s",
                           "-r", "5000"]),
])
def test_an_interrupted_run_stops_its_workers_and_says_so(
        spec_file, sent: signal.Signals, code: int, command: list[str]) -> None:
    """SIGTERM killed the command and the worker pool's semaphores were reported leaked
    (a resource_tracker UserWarning); Ctrl-C ended it with 130 and no word, or hung while
    waiting on the pool. Now: the pool is shut down, one line, exit 128 + the signal."""
    spec = spec_file(GOOD.replace("duration: 5s", "duration: 1s"))
    process = subprocess.Popen(
        [SCALESIM, *[part.format(spec=spec) for part in command], "--jobs", "2", "-q",
         "--force"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    try:
        process.wait(timeout=4)
    except subprocess.TimeoutExpired:  # under way, workers started
        os.killpg(process.pid, sent) if sent == signal.SIGINT else process.send_signal(sent)
    try:
        _, errors = process.communicate(timeout=60)
    finally:
        if process.poll() is None:  # hung: leave no process behind
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == code, errors
    assert errors == f"scalesim: interrupted ({sent.name}): nothing written\n"


@pytest.mark.parametrize("seed", ["-1", str(2**63)])
def test_seed_out_of_range_is_bad_input(run_cli, spec_file, seed: str) -> None:
    for command in (["simulate"], ["report", "-o", "x.html"], ["diagram", "-o", "x.svg"]):
        result = run_cli(command[0], str(spec_file()), *command[1:], "--seed", seed)
        assert result.exit_code == 2, result.output
        assert "Invalid value for '--seed'" in result.output


def _commands() -> list[tuple[str, Any]]:
    """Every command and subcommand, as ('templates check', its click command)."""
    from scalesim.cli import COMMANDS, click_command

    def walk(command: Any, path: str) -> list[tuple[str, Any]]:
        if hasattr(command, "commands"):  # a group: its subcommands
            return [found for name, sub in command.commands.items()
                    for found in walk(sub, f"{path} {name}")]
        return [(path, command)]

    return [found for name in COMMANDS for found in walk(click_command(name), name)]


def test_every_command_that_writes_a_file_takes_o_and_out() -> None:
    """docs/cli.md: commands that write a file take -o/--out (simulate and sweep took only
    --out, the importers only -o/--output)."""
    writing = {path: param.opts for path, command in _commands() for param in command.params
               if {"-o", "--out", "--output"} & set(param.opts)}
    assert {"simulate", "sweep", "generate", "import k8s", "report", "export"} <= set(writing)
    for path, opts in writing.items():
        assert {"-o", "--out"} <= set(opts), path


def test_replications_past_the_spec_bound_are_named_as_the_option(run_cli, spec_file) -> None:
    """-r 100000 was reported as '--set #1: simulation.replications', an option the user
    did not give."""
    result = run_cli("simulate", str(spec_file()), "-q", "-r", "100000")
    assert result.exit_code == 2 and "'--replications' / '-r'" in result.output


def test_every_seed_option_has_the_seed_range() -> None:
    """Every command's --seed is range-checked like simulation.seed (0 to 2⁶³ − 1): `templates
    check --seed -5` ended in a numpy traceback."""
    seeds = {path: param for path, command in _commands()
             for param in command.params if "--seed" in param.opts}
    assert {"simulate", "sweep", "plan", "templates check", "report", "compare"} <= set(seeds)
    for path, param in seeds.items():
        assert (param.min, param.max) == (0, 2**63 - 1), path


def _result(run_cli, spec_file, tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / "good"
    assert run_cli("simulate", str(spec_file()), "--out", str(out), "-q").exit_code == 0
    return dict(json.loads((out / "result.json").read_text()))


def _readers(path: Path, tmp_path: Path) -> list[list[str]]:
    """Every command that reads a result.json, reading `path`."""
    return [["report", str(path), "-o", str(tmp_path / "r.html")],
            ["diagram", str(path), "-o", str(tmp_path / "d.dot")],
            ["compare", str(path), str(path), "--json"],
            ["export", str(path), "--metrics", "prometheus", "-o", "-"]]


@pytest.mark.parametrize("edit", [
    lambda r: r["requests"].pop("total"),
    lambda r: r.pop("simulated_s"),
    lambda r: r["components"]["api"].pop("throughput_rps"),
    lambda r: r["workloads"].update(users=1),
    lambda r: r["calls"][0].update(to="ghost.op"),
    lambda r: r["traces"][0].update(workload="ghost"),
    lambda r: r["traces"][0]["spans"][-1].update(parent_span_id="nope"),
    lambda r: r["timeseries"]["workloads"]["rows"][0].pop(),
    lambda r: r["components"]["api"]["latency_ms"].update(p99="fast"),
    lambda r: r["requests"].update(ok=True),
])
def test_a_hand_edited_result_is_bad_input_for_every_reader(run_cli, spec_file, tmp_path: Path,
                                                            edit: Any) -> None:
    edited = copy.deepcopy(_result(run_cli, spec_file, tmp_path))
    edit(edited)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(edited))
    for command in _readers(path, tmp_path):
        result = run_cli(*command)
        assert result.exit_code == 2, (command, result.output)
        assert "not a valid ScaleSim result" in result.output and "Traceback" not in result.output


def test_a_result_with_an_integer_of_100000_digits_is_bad_input(run_cli, tmp_path: Path
                                                                 ) -> None:
    """Python refuses to read an integer of over 4,300 digits (a ValueError that is not a
    JSONDecodeError): every reader says the file cannot be read, as for malformed JSON."""
    path = tmp_path / "big.json"
    path.write_text('{"x": ' + "9" * 100_000 + "}")
    for command in _readers(path, tmp_path):
        result = run_cli(*command)
        assert result.exit_code == 2, (command, result.output)
        assert "cannot read a result" in result.output and "Traceback" not in result.output


def test_a_result_with_a_lone_surrogate_is_bad_input_naming_the_field(
        run_cli, spec_file, tmp_path: Path) -> None:
    """JSON spells a lone surrogate "\\ud800" and Python reads it; writing the report (or
    the diagram) of it crashed with UnicodeEncodeError."""
    edited = _result(run_cli, spec_file, tmp_path)
    edited["scalesim"] += "\ud800"
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(edited))
    for command in _readers(path, tmp_path):
        result = run_cli(*command)
        assert result.exit_code == 2, (command, result.output)
        assert f"{path}: scalesim: not valid Unicode text: a lone UTF-16 surrogate (\\ud800)" \
            in result.output, result.output
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "d.dot").exists()


def test_a_valid_result_with_extra_keys_is_read(run_cli, spec_file, tmp_path: Path) -> None:
    result = _result(run_cli, spec_file, tmp_path)
    result["notes"] = "added by hand"
    path = tmp_path / "extra.json"
    path.write_text(json.dumps(result))
    assert run_cli("report", str(path), "-o", str(tmp_path / "r.html")).exit_code == 0


def test_escape_sequences_in_names_are_shown_escaped(run_cli, spec_file) -> None:
    spec = spec_file('scalesim: 1\nname: t\ncomponents:\n  "\\e[2J\\e[31mred":\n'
                     "    operations: {o: {}}\nworkloads: [{name: w, to: x, rate: 1/s}]\n")
    result = run_cli("validate", str(spec))
    assert result.exit_code == 2
    assert "\x1b" not in result.output and "\\x1b[2J\\x1b[31mred" in result.output


def test_a_file_name_that_looks_like_markup_is_printed_as_is(run_cli, tmp_path: Path) -> None:
    odd = tmp_path / "a[" / "b].yaml"
    odd.parent.mkdir()
    odd.write_text(GOOD)
    result = run_cli("validate", str(odd))
    assert result.exit_code == 0 and f"ok {odd}" in result.output.replace("\n", "")


@pytest.mark.parametrize("registry", ["Registry.local/x", "registry.local/Team", "a b",
                                      "registry.local\n", ""])
def test_image_registries_docker_refuses_are_bad_input(run_cli, spec_file, tmp_path: Path,
                                                       registry: str) -> None:
    result = run_cli("generate", str(spec_file()), "-o", str(tmp_path / "g"),
                     "--image-registry", registry)
    assert result.exit_code == 2 and "--image-registry" in result.output
    assert not (tmp_path / "g").exists()


@pytest.mark.parametrize("target", ["kong", "keda"])
def test_a_target_with_nothing_to_write_writes_only_the_manifest(run_cli, spec_file,
                                                                 tmp_path: Path,
                                                                 target: str) -> None:
    out = tmp_path / "folder"  # a new folder, in one that exists (docs/cli.md)
    result = run_cli("generate", str(spec_file()), "--target", target, "-o", str(out))
    assert result.exit_code == 0, result.output
    # only the deploy guide every target writes at the top
    assert list(json.loads((out / MANIFEST).read_text())["files"]) == ["README.md"]


RENAMED = GOOD.replace("  db:", "  store:").replace("db.read", "store.read")


def test_files_of_a_renamed_component_are_removed(run_cli, spec_file, tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    assert run_cli("generate", str(spec_file()), "-o", str(out)).exit_code == 0
    assert (out / "k8s" / "db.yaml").exists()
    result = run_cli("generate", str(spec_file(RENAMED, "renamed.yaml")), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"removed   {out / 'k8s' / 'db.yaml'}" in result.output
    assert not (out / "k8s" / "db.yaml").exists() and (out / "k8s" / "store.yaml").exists()
    assert "k8s/db.yaml" not in json.loads((out / MANIFEST).read_text())["files"]


def test_an_edited_stale_file_is_kept_unless_forced(run_cli, spec_file, tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    assert run_cli("generate", str(spec_file()), "-o", str(out)).exit_code == 0
    (out / "k8s" / "db.yaml").write_text("edited by hand\n")
    renamed = str(spec_file(RENAMED, "renamed.yaml"))
    refused = run_cli("generate", renamed, "-o", str(out))
    assert refused.exit_code == 2
    assert "k8s/db.yaml: is no longer generated but was edited since" in refused.output
    assert (out / "k8s" / "db.yaml").read_text() == "edited by hand\n"
    assert not (out / "k8s" / "store.yaml").exists()
    assert run_cli("generate", renamed, "-o", str(out), "--force").exit_code == 0
    assert not (out / "k8s" / "db.yaml").exists()


def test_another_target_and_unsafe_manifest_entries_are_left_alone(run_cli, spec_file,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    outside = tmp_path / "outside.yaml"
    outside.write_text("precious\n")
    assert run_cli("generate", str(spec_file()), "-o", str(out)).exit_code == 0
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"]["k8s/../../outside.yaml"] = "0" * 64
    (out / MANIFEST).write_text(json.dumps(manifest))
    assert run_cli("generate", str(spec_file(RENAMED, "r.yaml")), "-o", str(out),
                   "--target", "compose").exit_code == 0
    assert (out / "k8s" / "db.yaml").exists()  # compose does not own k8s/
    assert run_cli("generate", str(spec_file(RENAMED, "r.yaml")), "-o", str(out),
                   "--force").exit_code == 0
    assert outside.read_text() == "precious\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("command", [["schema"], ["templates", "list", "--json"]])
def test_a_full_disk_on_stdout_is_one_line_not_a_traceback(command: list[str]) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([SCALESIM, *command], stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr == "scalesim: cannot write the output: No space left on device\n"


@pytest.mark.parametrize(("option", "says"), [
    (["--db", "nope://x"], "Invalid value for --db"),
    (["--db", "sqlite:////nonexistent-scalesim/x.db"], "does not exist"),
    (["--db", ""], "Invalid value for --db"),
    (["--host", ""], "give an interface"),
    (["--host", "999.1.1.1"], "Invalid value for --host"),
    (["--max-runs", "33"], "--max-runs"),
])
def test_studio_options_are_checked_before_it_starts(run_cli, option: list[str],
                                                     says: str) -> None:
    """A bad --db was a traceback, an unresolvable --host exit 3 ('over budget') after
    printing a link, an empty --host bound every interface, and --max-runs went past the
    documented 32: each is bad input before anything starts."""
    result = run_cli("studio", "--no-browser", "--port", "18765", *option)
    assert result.exit_code == 2, result.output
    assert says in " ".join(result.output.split())


def test_a_table_export_writes_a_folder_whole_or_not_at_all(
        run_cli, spec_file, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`-o -` made a folder named '-'; a missing parent made a tree of folders; a full disk
    left calls.csv cut at 16 KB. Now '-' and a missing parent are refused before the run,
    and the files are written aside and moved in whole: a failure leaves none of them."""
    from scalesim.export import tables

    spec = str(spec_file())
    for out, says in (("-", "write a folder of files"), (str(tmp_path / "no" / "d"),
                                                         "does not exist")):
        result = run_cli("export", spec, "--metrics", "csv", "-o", out)
        assert result.exit_code == 2 and says in result.output, result.output
    assert not (tmp_path / "no").exists() and not Path("-").exists()

    def full_disk(result: dict[str, Any], directory: Path) -> list[Path]:
        (directory / "calls.csv").write_text("cut sh")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tables, "write_csv_files", full_disk)
    out = tmp_path / "csv"
    result = run_cli("export", spec, "--metrics", "csv", "-o", str(out))
    assert result.exit_code == 2, result.output
    assert f"{out}: cannot write its files: No space left on device" in result.output
    assert not out.exists()  # made for the export, and removed with what it held


@pytest.mark.parametrize("command", [
    ["diagram", "{spec}", "-o", "{at}.mmd"],
    ["report", "{spec}", "-o", "{at}.html"],
    ["compare", "{spec}", "{spec}", "-o", "{at}.html"],
    ["export", "{spec}", "--traces", "otlp", "-o", "{at}.json"],
    ["simulate", "{spec}", "-q", "--report", "{at}.html"],
    ["patterns", "graph", "-o", "{at}.mmd"],
    ["new", "timeout", "-o", "{at}.yaml"],
])
def test_a_file_that_cannot_be_written_is_named_once(
        run_cli, spec_file, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        command: list[str]) -> None:
    """'error: /proc/qa.mmd: cannot write: /proc/qa.mmd: cannot write it: …' named the file
    twice (report, export and compare alike), and `patterns graph` ended in a traceback."""
    def refused(*_: Any, **__: Any) -> None:
        raise OSError(2, "No such file or directory")

    spec, at = str(spec_file()), str(tmp_path / "out")
    monkeypatch.setattr(outputs.tempfile, "mkstemp", refused)
    result = run_cli(*[part.format(spec=spec, at=at) for part in command])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())  # `patterns` wraps its lines
    assert said.count("cannot write") == 1, said
    assert said.endswith(": cannot write it: No such file or directory; nothing was changed "
                         "there"), said
    assert said.count(str(tmp_path)) == 1, said


def test_an_output_link_that_leads_back_to_itself_is_bad_input(run_cli, spec_file,
                                                               tmp_path: Path) -> None:
    """Resolving the link raised RuntimeError (a traceback) before Python 3.13."""
    loop = tmp_path / "loop.mmd"
    loop.symlink_to(loop.name)
    result = run_cli("diagram", str(spec_file()), "-o", str(loop))
    assert result.exit_code == 2, result.output
    assert "loop.mmd" in result.output and "Traceback" not in result.output
    assert loop.is_symlink()
