"""Hostile specs end in a located error (issue 19): alias bombs, huge files, deep nesting,
non-finite and out-of-range numbers, coerced booleans, and graphs deep enough to exhaust
Python's stack."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scalesim.spec import SpecError, load_spec, load_spec_text
from scalesim.spec.bounds import MAX_DEPTH, MAX_NODES, MAX_SPEC_BYTES, TooLarge, read_at_most
from scalesim.spec.loader import read_spec_file

BASE = """\
scalesim: 1
name: t
components:
  api:
    operations:
      get: {work: 1ms}
workloads:
  - {name: w, to: api.get, rate: 10/s}
simulation: {duration: 2s}
"""


def chain(length: int, work: str = "1ms") -> str:
    """A spec whose entry waits on a synchronous chain of `length` calls."""
    lines = ["scalesim: 1", "name: chain", "components:"]
    for i in range(length):
        call = f", calls: [{{to: c{i + 1}.op}}]" if i < length - 1 else ""
        lines += [f"  c{i}:", "    operations:", f"      op: {{work: {work}{call}}}"]
    lines += ["workloads:", "  - {name: w, to: c0.op, rate: 1/s}", "simulation: {duration: 1s}"]
    return "\n".join(lines) + "\n"


def alias_bomb(levels: int = 10, fan: int = 9) -> str:
    """A few hundred bytes that stand for fan**levels values once aliases are expanded."""
    lines = [f"a0: &a0 [{', '.join(['x'] * fan)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def issues(text: str, overrides: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "hostile.yaml", list(overrides))
    return [str(issue) for issue in caught.value.issues]


def test_an_alias_bomb_is_refused_at_the_alias_that_passes_the_bound() -> None:
    text = alias_bomb()
    assert len(text) < 600
    found = issues(text)
    # a0 to a4 written out hold 74,732 values; a5's first alias (*a4, 66,430 more) crosses
    assert text.splitlines()[5].index("*a4") + 1 == 10
    assert found == [f"hostile.yaml:6:10: a spec may have at most {MAX_NODES:,} values once its "
                     "aliases are expanded"]


def test_a_self_referencing_alias_is_refused_as_too_deep_at_the_alias() -> None:
    assert issues("a: &a [*a]\n") == [
        f"hostile.yaml:1:8: nested more than {MAX_DEPTH} levels deep once its aliases are "
        "expanded"]


def test_a_bound_crossed_through_a_mapping_value_alias_points_at_that_alias() -> None:
    many = "[" + ", ".join(["0"] * 60_000) + "]"
    assert issues(f"big: &big {many}\nagain: *big\n") == [
        f"hostile.yaml:2:8: a spec may have at most {MAX_NODES:,} values once its aliases are "
        "expanded"]


def test_ten_thousand_nested_lists_are_a_located_error_not_a_recursion_error() -> None:
    found = issues("[" * 10_000 + "]" * 10_000 + "\n")
    assert found == [f"hostile.yaml:1:{MAX_DEPTH + 1}: nested more than {MAX_DEPTH} levels deep"]


def test_too_many_values_as_written_are_refused_while_composing() -> None:
    found = issues("[" + ", ".join(["0"] * (MAX_NODES + 10)) + "]\n")
    assert len(found) == 1 and f"at most {MAX_NODES:,} values" in found[0]


def test_a_file_larger_than_the_bound_is_not_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * MAX_SPEC_BYTES + "\n" + BASE)
    with pytest.raises(SpecError) as caught:
        load_spec(big)
    assert [i.message for i in caught.value.issues] == [
        f"larger than {MAX_SPEC_BYTES:,} bytes, the most a spec may have"]


def test_a_bounded_read_takes_the_bound_and_refuses_one_byte_more(tmp_path: Path) -> None:
    exact, over = tmp_path / "exact", tmp_path / "over"
    exact.write_bytes(b"x" * 10)
    over.write_bytes(b"x" * 11)
    assert read_at_most(exact, 10) == b"x" * 10
    with pytest.raises(TooLarge, match="larger than 10 bytes"):
        read_at_most(over, 10)
    with open("/dev/zero", "rb") as endless, pytest.raises(TooLarge):
        read_at_most(endless, 10)


def test_an_endless_device_is_refused_after_the_bound() -> None:
    with pytest.raises(SpecError, match="larger than"):
        load_spec("/dev/zero")


@pytest.mark.parametrize(("override", "message"), [
    ("workloads.0.rate=1e400/s", "is more than 1,000,000,000/s"),
    ("simulation.duration=1e400s", "is longer than 1,000,000,000s"),
    ("components.api.operations.get.work=1e400ms", "is longer than 1,000,000,000s"),
    ("simulation.duration=2e9s", "is longer than 1,000,000,000s"),
    ("workloads.0.keys=1000000000000", "less than or equal to 10000000"),
    ("simulation.seed=-1", "greater than or equal to 0"),
    ("workloads.0.keys={count: 10, skew: .inf}", "finite number"),
    ("components.api.operations.get.work={dist: gamma, mean: 1ms, cv: .nan}", "finite number"),
    ("components.api.workers=true", "valid integer"),
    ("components.api.replicas=2.0", "valid integer"),
    ("components.api.workers=2000000", "less than or equal to 1000000"),
    ("workloads.0={name: w, to: api.get, users: 10000000}", "less than or equal to 1000000"),
    # a number and a unit, but negative: said so, not "use a number and a unit"
    ("simulation.duration=-5s", "a duration is not negative: '-5s'"),
    ("workloads.0.rate=-5/s", "a rate is not negative: '-5/s'"),
])
def test_out_of_range_and_coerced_values_are_located_errors(override: str, message: str) -> None:
    found = issues(BASE, (override,))
    assert any(message in issue and issue.startswith("--set #1: ") for issue in found), found


@pytest.mark.parametrize(("override", "path"), [
    ("components.api.replicas.foo=1", "components.api.replicas"),
    ("components.api.operations.get.calls.0.to=api.get", "components.api.operations.get.calls"),
    ("a..b=5", "a"),
])
def test_a_value_only_an_override_made_is_blamed_on_it(override: str, path: str) -> None:
    """An override that builds a path the file does not have was reported at the file's
    nearest line, as if the file were wrong."""
    found = issues(BASE, (override,))
    assert any(issue.startswith(f"--set #1: {path}: ") for issue in found), found


@pytest.mark.parametrize(("override", "hint"), [
    ("workloads[0].rate=5/s", "(write workloads.0 for the first item: a number indexes a "
     "list)"),
    ("components.api.operations.get.calls[2].to=api.get",
     "(write calls.2 for item 2, counted from 0: a number indexes a list)"),
])
def test_a_bracketed_index_points_to_the_dotted_form(override: str, hint: str) -> None:
    """`consumers[0]` is how Python or JSONPath index a list; an override indexes with a
    number (docs/spec.md, Overrides), and the error says how instead of 'did you mean'."""
    found = issues(BASE, (override,))
    assert any(issue.startswith("--set #1: ") and issue.endswith(hint) for issue in found), \
        found


MANY = BASE.replace("components:\n", "components:\n" + "".join(
    f"  s{n}: {{operations: {{x: {{work: 1ms}}}}}}\n" for n in range(6)))


@pytest.mark.parametrize(("text", "override", "hint"), [
    (BASE, "components[0].replicas=2",
     "(components is a mapping, not a list: write components.KEY, with KEY one of its "
     "keys: api)"),
    (BASE.replace("get: {work: 1ms}", "get: {work: 1ms}\n      put: {work: 2ms}"),
     "components.api.operations[1].work=1ms",
     "(operations is a mapping, not a list: write operations.KEY, with KEY one of its keys: "
     "get, put)"),
    (MANY, "components[6]=x", "(components is a mapping, not a list: write components.KEY, "
     "with KEY one of its keys: s0, s1, s2, s3, s4 and 2 more)"),
    (BASE, "defaults.calls[0]=x", "(did you mean 'calls'?)"),
])
def test_a_bracket_on_a_mapping_names_its_keys(text: str, override: str, hint: str) -> None:
    """`components[0]` was told 'write components.0 for the first item: a number indexes
    a list', which on a mapping looks up a component named '0'; a mapping's items are
    named by their keys. A bracket on a model (defaults.calls) gets no indexing hint."""
    found = issues(text, (override,))
    assert any(issue.startswith("--set #1: ") and issue.endswith(hint) for issue in found), \
        found


def test_a_problem_an_override_made_inside_a_written_path_names_it() -> None:
    """A call cycle that `--set …calls.0={to: api.get}` made is reported on the operation,
    which the file writes: at its line, as before, and now saying which override changed
    what is inside (it read as if the file were wrong)."""
    written = BASE.replace("get: {work: 1ms}", "get: {work: 1ms, calls: [{to: db.q}]}\n"
                           "  db:\n    operations:\n      q: {work: 1ms}")
    load_spec_text(written, "hostile.yaml")  # valid as written
    found = issues(written, ("components.api.operations.get.calls.0={to: api.get}",))
    [cycle] = [issue for issue in found if "call cycle" in issue]
    assert cycle.startswith("hostile.yaml:")
    assert cycle.endswith("(after --set #1, which set components.api.operations.get.calls[0])")


def test_a_problem_an_override_causes_elsewhere_names_the_override() -> None:
    """A duration set too long is reported on the interval the file leaves to its default,
    at the line of `simulation:`; it read as if the file were wrong and did not name the
    override. Only the override that makes the problem is named, and a problem the file
    has anyway names none."""
    too_long = "simulation.duration=1e7s"
    [interval] = issues(BASE, ("simulation.seed=4", too_long, "components.api.replicas=2"))
    assert interval == ("hostile.yaml:9:1: simulation.interval: the time series would have "
                        "10,000,000 intervals × 2 series, more than the 1,000,000 points a run "
                        "keeps; use an interval of at least 20s "
                        "(after --set #2, which set simulation.duration)")
    unknown = BASE.replace("rate: 10/s", "rate: 10/s, sped: 1")
    assert issues(unknown, (too_long,)) == [
        "hostile.yaml:8:40: workloads[0].sped: unknown field 'sped'"]


def test_an_integer_of_thousands_of_digits_is_a_located_error() -> None:
    found = issues(BASE.replace("rate: 10/s", "rate: 10/s, users: " + "9" * 5000))
    assert found[0].startswith("hostile.yaml:8:") and "cannot read this value" in found[0]


def test_a_huge_replica_index_in_a_fault_target_is_refused() -> None:
    found = issues(BASE + "faults: [{target: 'api[" + "9" * 5000 + "]', crash: true}]\n")
    assert any("faults[0].target" in issue for issue in found)


def test_a_deep_override_value_or_path_is_refused() -> None:
    assert "nested more than" in issues(BASE, ("description=" + "[" * 5000,))[0]
    assert "a path of more than" in issues(BASE, (".".join(["a"] * 500) + "=1",))[0]


def test_the_time_series_bound_names_the_interval_to_use() -> None:
    found = issues(BASE, ("simulation.duration=1e9s",))
    assert found == ["hostile.yaml:9:1: simulation.interval: the time series would have "
                     "1,000,000,000 intervals × 2 series, more than the 1,000,000 points a run "
                     "keeps; use an interval of at least 2000s (after --set #1, which set "
                     "simulation.duration)"]


def test_replicas_of_all_components_together_are_bounded() -> None:
    many = BASE.replace("  api:\n", "".join(
        f"  s{i}:\n    replicas: 100000\n    operations: {{op: {{}}}}\n" for i in range(2))
        + "  api:\n")
    assert any("200,001 replicas in all" in issue for issue in issues(many))


def test_a_thousand_deep_call_chain_validates_without_recursion() -> None:
    system = load_spec_text(chain(1000))
    assert len(system.components) == 1000


def test_a_thousand_deep_synchronous_cycle_is_found_without_recursion() -> None:
    text = chain(1000).replace("op: {work: 1ms}", "op: {work: 1ms, calls: [{to: c0.op}]}")
    found = issues(text)
    assert len(found) == 1 and "synchronous call cycle: c0.op -> c1.op" in found[0]


def test_a_byte_that_is_not_utf8_is_located(tmp_path: Path) -> None:
    """A Latin-1 'é' in a comment: the error names its line and column, not just the file."""
    spec = tmp_path / "latin1.yaml"
    spec.write_bytes(BASE.encode() + b"# caf\xe9\n")
    with pytest.raises(SpecError) as caught:
        load_spec(spec)
    assert str(caught.value.issues[0]).startswith(f"{spec}:10:6: not a UTF-8 text file")


def test_a_pipe_this_process_holds_is_read_like_standard_input() -> None:
    """`scalesim validate /dev/stdin` and `<(…)` read a pipe already open here; only a
    named pipe, which opening waits on, is refused."""
    reader, writer = os.pipe()
    os.write(writer, b"spec")
    os.close(writer)
    try:
        assert read_spec_file(f"/dev/fd/{reader}") == "spec"
    finally:
        os.close(reader)


MERGED = BASE.replace("  api:\n", "  base: &svc\n    workers: 4\n    operations:\n"
                      "      get: {work: 1ms}\n  api:\n    <<: *svc\n    replicas: 2\n")


def test_a_merge_key_copies_the_mapping_and_the_mappings_own_keys_win() -> None:
    """`<<: *svc` was refused as unknown field '<<' though aliases are supported: YAML 1.1
    merges, the mapping's own keys first, then each merged mapping's in order."""
    system = load_spec_text(MERGED.replace("replicas: 2", "replicas: 2\n    workers: 8"))
    assert system.components["api"].workers == 8 and system.components["api"].replicas == 2
    assert system.components["base"].workers == 4
    assert set(system.components["api"].operations) == {"get"}
    two = BASE.replace("api:\n", "api:\n    <<: [{workers: 3}, {workers: 5, replicas: 4}]\n")
    api = load_spec_text(two).components["api"]
    assert (api.workers, api.replicas) == (3, 4)


@pytest.mark.parametrize(("edit", "message"), [
    # a merged field's problem is placed at the '<<' that brought it
    (("workers: 4", "workerz: 4"), "hostile.yaml:9:5: components.api.workerz: unknown field"),
    (("<<: *svc", "<<: [1]"), "hostile.yaml:9:10: '<<' merges a mapping or a "
     "list of mappings into this one"),
    (("  base: &svc\n", "  base: &svc\n    <<: *svc\n"),
     "hostile.yaml:5:5: '<<' merges a mapping into itself"),
])
def test_a_bad_merge_is_a_located_error(edit: tuple[str, str], message: str) -> None:
    found = issues(MERGED.replace(*edit, 1))
    assert any(issue.startswith(message) for issue in found), found


def test_merges_of_merges_are_bounded() -> None:
    """Each level merges the one before nine times: 9^11 entries from 12 lines."""
    lines = ["l0: &l0 {a: 1}"] + [f"l{k}: &l{k} {{<<: [{', '.join([f'*l{k - 1}'] * 9)}]}}"
                                  for k in range(1, 12)]
    found = issues("\n".join(lines) + "\n")
    assert found[0].endswith(f"a spec may have at most {MAX_NODES:,} values once its merge "
                             "keys are expanded")
