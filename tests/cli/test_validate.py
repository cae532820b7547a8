"""Every class of bad input gets exit code 2 and FILE:LINE:COL: path: message."""

from __future__ import annotations

import re

import pytest
from tests.cli.specs import GOOD

LOCATED = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<rest>.*)$")


def test_a_good_spec_validates(run_cli, spec_file) -> None:
    result = run_cli("validate", str(spec_file()))
    assert result.exit_code == 0, result.output


BAD_INPUTS = {
    "yaml syntax": (GOOD.replace("workers: 4", "workers: [4"), None, "YAML syntax"),
    "unknown field": (GOOD.replace("workers: 4", "workerz: 4"), 5,
                      "unknown field 'workerz' (did you mean 'workers'?)"),
    "wrong unit": (GOOD.replace("read: {work: 1ms}", "read: {work: 1}"), 15,
                   "a duration needs a unit"),
    "unknown unit": (GOOD.replace("timeout: 50ms", "timeout: 50 parsecs"), 11,
                     "not a duration"),
    "bad reference": (GOOD.replace("to: db.read", "to: dbb.read"), 10,
                      "no component 'dbb' (did you mean 'db'?)"),
    "bad operation": (GOOD.replace("to: db.read", "to: db.raed"), 10,
                      "has no operation 'raed' (did you mean 'read'?)"),
    "zero rate": (GOOD.replace("rate: 200/s", "rate: 0/s"), 17, "greater than 0"),
    "negative rate": (GOOD.replace("rate: 200/s", "rate: -5/s"), 17,
                      "a rate is not negative: '-5/s'"),
    "rate without unit": (GOOD.replace("rate: 200/s", "rate: 200"), 17, "needs a unit"),
    "sync cycle": (GOOD.replace("read: {work: 1ms}", "read: {work: 1ms, calls: [{to: api}]}"),
                   None, "synchronous call cycle: api.get -> db.read -> api.get"),
    "empty components": ("scalesim: 1\nname: x\ncomponents: {}\nworkloads: []\n", 3,
                         "at least 1 item"),
    "wrong version": (GOOD.replace("scalesim: 1", "scalesim: 2"), 1,
                      "the format version must be 1"),
    "bad enum": (GOOD.replace("workers: 4", "workers: 4\n    balancer: round_robbin"), 6,
                 "did you mean 'round_robin'?"),
    "fraction over 1": (GOOD.replace("read: {work: 1ms}", "read: {work: 1ms, error_rate: 150%}"),
                        15, "between 0 and 1"),
    "duplicate key": (GOOD.replace("workers: 4", "workers: 4\n    workers: 5"), 6,
                      "duplicate key 'workers'"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_exit_2_with_line_and_column(run_cli, spec_file, case: str) -> None:
    text, line, message = BAD_INPUTS[case]
    path = spec_file(text)
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert lines, "an error must be printed"
    matches = [LOCATED.match(ln) for ln in lines]
    assert all(matches), result.output
    assert any(message in m["rest"] for m in matches if m), result.output
    assert all(m["file"] == str(path) for m in matches if m)
    if line is not None:
        assert any(int(m["line"]) == line for m in matches if m and message in m["rest"]), \
            result.output


def test_every_error_is_reported_at_once(run_cli, spec_file) -> None:
    text = GOOD.replace("workers: 4", "workerz: 4").replace("rate: 200/s", "rate: 200")
    result = run_cli("validate", str(spec_file(text)))
    assert result.exit_code == 2
    assert "workerz" in result.output and "rate" in result.output


def test_a_missing_file_is_bad_input_with_no_made_up_position(run_cli, tmp_path) -> None:
    missing = tmp_path / "nope.yaml"
    result = run_cli("validate", str(missing))
    assert result.exit_code == 2
    assert result.output == f"{missing}: cannot read: No such file or directory\n"


def test_set_overrides_a_field(run_cli, spec_file) -> None:
    path = spec_file()
    bad = run_cli("validate", str(path), "--set", "simulation.duration=2s", "--set",
                  "components.api.replicas=0")
    assert bad.exit_code == 2
    assert bad.output.startswith("--set #2: components.api.replicas: ")
    good = run_cli("simulate", str(path), "--json", "--set", "components.api.replicas=3",
                   "--set", "simulation.duration=2s")
    assert good.exit_code == 0, good.output
    assert '"replicas": 3' in good.output and '"simulated_s": 2.0' in good.output


def test_every_bad_set_is_reported_at_once(run_cli, spec_file) -> None:
    """One that cannot be applied and one whose value is wrong, in one run (the second was
    shown only after the first was fixed)."""
    result = run_cli("validate", str(spec_file()), "--set", "components.api.replicas=abc",
                     "--set", "components.nope.x=1")
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert any(line.startswith("--set #1: components.api.replicas: ") for line in lines)
    assert any(line.startswith("--set #2: components.nope.x=1: there is no component 'nope'")
               for line in lines)


def test_a_set_under_a_misspelt_component_suggests_the_existing_one(run_cli, spec_file) -> None:
    result = run_cli("validate", str(spec_file()), "--set", "components.apj.replicas=6")
    assert result.exit_code == 2
    assert result.output == ("--set #1: components.apj.replicas=6: there is no component "
                             "'apj' (did you mean 'api'?); an override changes the fields "
                             "of one the file has\n")


def test_a_vary_under_a_missing_component_names_no_other_option(run_cli, spec_file) -> None:
    """The message served --set and --vary alike, but named --set under a --vary."""
    result = run_cli("sweep", str(spec_file()), "--vary", "components.nosuch.replicas=1..2")
    assert "there is no component 'nosuch'" in result.output
    assert "--set" not in result.output


DIGITS = GOOD.replace("  db:", "  '123':").replace("to: db.read", "to: 123.read")


def test_a_set_addresses_a_component_named_with_digits(run_cli, spec_file) -> None:
    """A number in a path indexes a list, but names a key in a mapping: YAML keys are text,
    so `components.123` was looked up as the number 123 and not found."""
    path = spec_file(DIGITS)
    good = run_cli("simulate", str(path), "--json", "--set", "components.123.replicas=3")
    assert good.exit_code == 0, good.output
    assert '"replicas": 3' in good.output
    bad = run_cli("validate", str(path), "--set", "components.123.workers=0")
    assert bad.exit_code == 2
    assert bad.output.startswith("--set #1: components.123.workers: ")


def test_a_set_keeps_the_leading_zeros_of_a_digit_name(run_cli, spec_file) -> None:
    """`components.007` names the component '007'; read as the number 7 it was not found."""
    path = spec_file(GOOD.replace("  db:", "  '007':").replace("to: db.read", "to: 007.read"))
    result = run_cli("validate", str(path), "--set", "components.007.replicas=3")
    assert result.exit_code == 0, result.output


def test_a_vary_addresses_a_component_named_with_digits(run_cli, spec_file) -> None:
    result = run_cli("sweep", str(spec_file(DIGITS)), "--vary", "components.123.replicas=1,2",
                     "--set", "simulation.duration=1s")
    assert result.exit_code == 0, result.output


def test_a_problem_after_a_set_names_the_digit_component_as_written(run_cli,
                                                                   spec_file) -> None:
    result = run_cli("validate", str(spec_file(DIGITS)), "--set",
                     "components.123.replicas=100000")
    assert result.exit_code == 2
    assert result.output.rstrip().endswith(
        "(after --set #1, which set components.123.replicas)")


HEAD = "scalesim: 1\nname: t\ncomponents:\n  api:\n"  # lines 1-4


@pytest.mark.parametrize(("body", "where", "hint"), [
    # A key without its colon: PyYAML fails on the next line; the mistake is on this one.
    ("    workers 4\n    replicas: 2\n", ":5:5:", "line 5 has no ':' after 'workers'"),
    ("    workers: 4\n      replicas: 2\n", ":6:7:", "line 6 is indented more than line 5"),
    ("    workers: 4\n   replicas: 2\n", ":6:4:",
     "line 6 starts at column 4, which lines up with no key above it"),
    ("\tworkers: 4\n", ":5:1:", "indent with spaces"),
    # A second key on a key's line: PyYAML fails at its colon; the line is not indented.
    ("    operations:\n      get: work: 1ms\n", ":6:12:",
     "line 6 has two keys, 'get:' and 'work:': put 'work: …' on a line of its own"),
    # The first key under api: over-indented; PyYAML fails on the next, well-indented one.
    ("      workers: 4\n    replicas: 2\n", ":5:7:",
     "line 5 is indented more than line 6, though both are under 'api:' (line 4)"),
    ("    operations:\n      get: {work: 1ms}\n  db:\n          workers: 4\n      replicas: 2\n",
     ":9:7:", "line 9 starts at column 7, left of line 8 (column 11), though both are under "
     "'db:' (line 7)"),
    # What opens and is never closed: reported where it opens, not at the end of the file.
    ('    name: "api\n    replicas: 2\n', ":5:11:", "the quote that opens here is never closed"),
    ("    operations: {get: {work: 1ms}\n    replicas: 2\n", ":5:17:",
     "the '{' here is not closed before line 6: end it with '}'"),
    ("    operations: {get: {work: 1ms}", ":5:17:", "the '{' here is never closed"),
    ("    operations: {get: {work: 1ms} put: {work: 1ms}}\n", ":5:35:",
     "write ',' between the entries of '{…}'"),
])
def test_yaml_indentation_mistakes_point_at_their_line_with_a_hint(
        run_cli, spec_file, body: str, where: str, hint: str) -> None:
    path = spec_file(HEAD + body)
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    assert result.output.startswith(f"{path}{where} YAML syntax: "), result.output
    assert hint in result.output


def test_schema_is_json_schema_of_the_spec(run_cli) -> None:
    import json

    result = run_cli("schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["title"] == "ScaleSim system spec"
    assert {"scalesim", "name", "components", "workloads"} <= set(schema["required"])


def test_the_published_schema_is_current_and_accepts_the_examples(run_cli) -> None:
    import json
    from pathlib import Path

    import jsonschema

    from scalesim.spec.yamlpos import load_with_positions

    repo = Path(__file__).resolve().parents[2]
    schema = json.loads(run_cli("schema").output)
    assert json.loads((repo / "docs" / "spec.schema.json").read_text()) == schema, \
        "regenerate with: scalesim schema > docs/spec.schema.json"
    for example in sorted((repo / "examples").glob("*.yaml")):
        # Read keys as YAML 1.2 editors do (a retry's `on:` is text, not the boolean true).
        data, _ = load_with_positions(example.read_text())
        jsonschema.validate(data, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"scalesim": 1, "name": "x", "components": {"a": {"replicaz": 1}},
                             "workloads": []}, schema)


def test_one_repeated_mistake_is_shown_a_few_times_then_counted(run_cli, spec_file) -> None:
    """`calls: [db.read, …]` in a 1,000-branch step printed 1,000 lines a step (50,000 for
    a spec, seconds of output); each message is shown 10 times, the rest counted, and the
    problems after it are still shown."""
    branches = ", ".join(["db.read"] * 30)
    text = GOOD.replace("- to: db.read\n            timeout: 50ms",
                        f"- parallel: {{calls: [{branches}]}}").replace("workers: 8", "workerz: 8")
    result = run_cli("validate", str(spec_file(text)))
    assert result.exit_code == 2
    lines = result.output.splitlines()
    called = "a call is a mapping: write {to: db.read} (got 'db.read')"
    repeated = [line for line in lines if line.endswith(called)]
    assert len(repeated) == 10 and len(lines) == 12
    assert "unknown field 'workerz'" in lines[-2]
    assert lines[-1] == f"… and 20 more problems not shown, 20 of them '{called}'"


def test_at_most_100_problems_are_shown(run_cli, spec_file) -> None:
    fields = "".join(f"    field{n}: 1\n" for n in range(120))
    result = run_cli("validate", str(spec_file(GOOD.replace("    workers: 4\n", fields))))
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert len(lines) == 101 and all(LOCATED.match(line) for line in lines[:100])
    assert lines[-1].startswith("… and 20 more problems not shown, 1 of them 'unknown field")


@pytest.mark.parametrize(("value", "wanted"), [
    ("2.0", "a valid integer"), ("true", "a valid integer"),
    ("-4", "greater than or equal to 1"), ("0", "greater than or equal to 1"),
])
def test_a_value_neither_member_of_a_union_takes_is_one_problem(
        run_cli, spec_file, value: str, wanted: str) -> None:
    """`workers: 2.0` gave two lines, "Input should be 'unlimited'" and "Input should be a
    valid integer", as if there were two mistakes."""
    result = run_cli("validate", str(spec_file(GOOD.replace("workers: 4", f"workers: {value}"))))
    assert result.exit_code == 2
    [line] = result.output.splitlines()
    got = {"true": "True"}.get(value, value)
    assert line.endswith(f":5:5: components.api.workers: Input should be {wanted}, or "
                         f"'unlimited' (got {got})")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("rate: 200/s", "rate: .inf", "workloads[0].rate: a rate must be finite (got inf)"),
    ("rate: 200/s", "rate: .nan", "workloads[0].rate: a rate must be finite (got nan)"),
    ("duration: 5s", "duration: -.inf", "simulation.duration: a duration must be finite "
     "(got -inf)"),
])
def test_non_finite_numbers_are_named_as_not_finite(run_cli, spec_file, field: str,
                                                    value: str, message: str) -> None:
    """docs/spec.md: .inf and .nan are refused as not finite; they read 'needs a unit'."""
    result = run_cli("validate", str(spec_file(GOOD.replace(field, value))))
    assert result.exit_code == 2 and message in result.output, result.output


def test_a_bad_slo_target_is_said_without_pydantics_prefix(run_cli, spec_file) -> None:
    result = run_cli("estimate", str(spec_file()), "--slo", "p99<-1ms")
    assert result.exit_code == 2
    assert "p99: a duration is not negative: '-1ms'" in result.output
    assert "Value error" not in result.output


@pytest.mark.parametrize("value", ["true", "1.0"])
def test_the_format_version_is_the_integer_1_as_written(run_cli, spec_file,
                                                        value: str) -> None:
    """`true` and `1.0` equal 1 in Python, and the version's literal took them."""
    result = run_cli("validate", str(spec_file(GOOD.replace("scalesim: 1", f"scalesim: {value}"))))
    assert result.exit_code == 2
    assert result.output.endswith(":1:1: scalesim: the format version must be 1 "
                                  f"(got {True if value == 'true' else 1.0})\n")


def test_a_set_cannot_make_the_format_version_true(run_cli, spec_file) -> None:
    result = run_cli("validate", str(spec_file()), "--set", "scalesim=true")
    assert result.output == "--set #1: scalesim: the format version must be 1 (got True)\n"
    assert result.exit_code == 2


@pytest.mark.parametrize(("value", "problem"), [
    ("{to: db.read, timeout: 1ms", "at column 1: YAML syntax: expected ',' or '}', but got "
                                   "'<stream end>' (the '{' here is never closed"),
    ("{to: db.read, to: api.get}", "at column 15: duplicate key 'to'"),
    ("[db.read", "at column 1: YAML syntax: expected ',' or ']'"),
])
def test_a_set_value_that_starts_a_mapping_or_list_must_be_valid_yaml(
        run_cli, spec_file, value: str, problem: str) -> None:
    """It was taken as text, and the advice was for a call written as a name: 'a call is a
    mapping: write {to: {to: db.read, timeout: 1ms}'."""
    result = run_cli("validate", str(spec_file()), "--set",
                     f"components.api.operations.get.calls.0={value}")
    assert result.exit_code == 2
    assert result.output.startswith(f"--set #1: components.api.operations.get.calls.0={value}: "
                                    f"the value is not valid YAML, {problem}")
    assert len(result.output.splitlines()) == 1


def test_a_set_value_that_is_not_yaml_otherwise_is_text(run_cli, spec_file) -> None:
    result = run_cli("validate", str(spec_file()), "--set", "description=@home: 1: 2")
    assert result.exit_code == 0, result.output


def test_a_problem_names_only_the_sets_that_cause_it(run_cli, spec_file) -> None:
    """Every override inside the place of the problem was named: a queue set beside the
    replicas that pass the bound had nothing to do with the total."""
    result = run_cli("validate", str(spec_file()), "--set", "components.db.replicas=100000",
                     "--set", "components.db.queue=5")
    assert result.exit_code == 2
    assert result.output.endswith(": components: 100,001 replicas in all; a system may have "
                                  "at most 100,000 (after --set #1, which set "
                                  "components.db.replicas)\n")


LATE_FAULT = GOOD.replace("workloads:", "faults:\n  - {target: db, at: 5s, crash: true}\n"
                          "workloads:")


def test_a_fault_that_starts_after_the_run_is_warned_at_its_line(run_cli, spec_file) -> None:
    """It was dropped without a word: the run ends (warm-up + duration) before it starts."""
    result = run_cli("validate", str(spec_file(LATE_FAULT)), "--set", "simulation.warmup=1s",
                     "--set", "simulation.duration=4s")
    assert result.exit_code == 0, result.output
    assert "warning: " + str(spec_file(LATE_FAULT)) + ":17:18: faults[0].at: the fault on " \
        "'db' starts at 5 s, at or after the run's end at 5 s (warm-up 1 s + duration 4 s), " \
        "so no request arrives while it is on: start it earlier or run longer\n" \
        in result.output


def test_a_late_fault_names_the_set_that_makes_it(run_cli, spec_file) -> None:
    """A fault at 3 s in a 5 s run is on; `--set simulation.duration=2s` makes it late, and
    the warning, at the fault's line, did not say that the override did."""
    path = spec_file(LATE_FAULT.replace("at: 5s", "at: 3s"))
    result = run_cli("validate", str(path), "--set", "simulation.warmup=0s", "--set",
                     "components.api.replicas=2", "--set", "simulation.duration=2s")
    assert result.exit_code == 0, result.output
    assert "faults[0].at: the fault on 'db' starts at 3 s, at or after the run's end at 2 s " \
        "(warm-up 0 s + duration 2 s), so no request arrives while it is on: start it " \
        "earlier or run longer (after --set #3, which set simulation.duration)\n" \
        in result.output


def test_a_late_fault_names_the_sets_that_make_it_together(run_cli, spec_file) -> None:
    """The file's run of 3 s after a warm-up of 3 s ends after the fault at 5 s; a warm-up
    or a duration of 2.5 s alone ends it at 5.5 s, together at 5 s: both are named."""
    path = spec_file(LATE_FAULT.replace("duration: 5s", "duration: 3s, warmup: 3s"))
    result = run_cli("validate", str(path), "--set", "simulation.warmup=2.5s", "--set",
                     "simulation.duration=2.5s")
    assert result.exit_code == 0, result.output
    assert "run longer (after --set #1, which set simulation.warmup) (after --set #2, " \
        "which set simulation.duration)\n" in result.output


def test_a_fault_within_the_run_is_not_warned(run_cli, spec_file) -> None:
    result = run_cli("validate", str(spec_file(LATE_FAULT)), "--set", "simulation.warmup=1s")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


def test_simulate_warns_of_a_late_fault_unless_quiet(run_cli, spec_file) -> None:
    path = spec_file(LATE_FAULT.replace("duration: 5s", "duration: 1s"))
    warned = run_cli("simulate", str(path), "--json")
    assert warned.exit_code == 0, warned.output
    assert "faults[0].at: the fault on 'db' starts at 5 s, at or after the run's end at 1 s" \
        in warned.output
    quiet = run_cli("simulate", str(path), "--json", "-q")
    assert "warning" not in quiet.output
