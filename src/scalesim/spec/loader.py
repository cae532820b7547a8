"""Loading a spec: YAML with positions, overrides, validation, whole-system checks.

Every problem is collected and reported as FILE:LINE:COL: dotted.path: message, so a user
fixes a whole file in one pass instead of one error per run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path as FsPath
from typing import Any

from pydantic import ValidationError

from scalesim.spec.bounds import MAX_SPEC_BYTES, TooLarge, read_at_most
from scalesim.spec.checks import Problem, check_system
from scalesim.spec.errors import (
    FieldProblems,
    Path,
    SpecError,
    SpecIssue,
    did_you_mean,
    dotted,
    plain_message,
)
from scalesim.spec.fields import allowed_fields, container
from scalesim.spec.model import NOT_IN_SAGA_STEPS, Call, Saga, System
from scalesim.spec.overrides import (
    OverrideError,
    apply_override,
    changed,
    parse_override,
    value_at,
)
from scalesim.spec.text import unencodable, unicode_problem
from scalesim.spec.yamlpos import Position, YamlSyntaxError, load_with_positions

_BRACKETED = re.compile(r"(.+)\[(\d+)\]")
_KEYS_SHOWN = 5  # the keys a hint lists of a mapping
# The name patterns of the model (types.Name, data.OperationRef, Fault.target): what each
# takes, and the characters that join its names
_NAME_SHAPES = {
    r"^[A-Za-z0-9][A-Za-z0-9-]*$": ("name", ""),
    r"^[A-Za-z0-9][A-Za-z0-9-]*(\.[A-Za-z0-9][A-Za-z0-9-]*)?$":
        ("reference (component or component.operation)", "."),
    r"^[A-Za-z0-9][A-Za-z0-9-]*(\[[0-9]{1,6}\])?$":
        ("target (component, or component[N] for one replica)", "[]"),
}
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
NAME_RULE = "names use letters, digits and '-', starting with a letter or digit"


def load_spec(file: str | FsPath, overrides: Sequence[str] = (),
              sources: Sequence[str] = ()) -> System:
    """Read and validate a spec file; raises SpecError naming every problem. `sources`
    names the overrides in the problems they cause, in order (`--vary PATH`); those past
    its end are `--set #N`, N counted from 1 over all overrides (`set_sources`)."""
    return load_spec_text(read_spec_file(file), str(file), overrides, sources)


def set_sources(count: int) -> list[str]:
    """What `count` overrides given with --set are called in problems: --set #1, #2…"""
    return [f"--set #{number}" for number in range(1, count + 1)]


def read_spec_file(file: str | FsPath) -> str:
    """The text of a spec file, read up to MAX_SPEC_BYTES (a device like /dev/zero or a
    huge file is refused, not read into memory); raises SpecError."""
    try:
        data = read_at_most(FsPath(file), MAX_SPEC_BYTES)
    except OSError as error:
        raise SpecError([SpecIssue(str(file), 0, 0, "", f"cannot read: {error.strerror}")]) \
            from None
    except TooLarge:
        raise SpecError([SpecIssue(str(file), 0, 0, "", f"larger than {MAX_SPEC_BYTES:,} bytes, "
                                   "the most a spec may have")]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:  # where the first byte that is not UTF-8 is
        before = data[:error.start]
        line, column = before.count(b"\n") + 1, error.start - (before.rfind(b"\n") + 1) + 1
        raise SpecError([SpecIssue(str(file), line, column, "", "not a UTF-8 text file: byte "
                                   f"0x{data[error.start]:02x} here is not UTF-8")]) from None


def load_spec_text(text: str, filename: str = "<spec>", overrides: Sequence[str] = (),
                   sources: Sequence[str] = ()) -> System:
    return load_spec_placed(text, filename, overrides, sources)[0]


def load_spec_placed(text: str, filename: str = "<spec>", overrides: Sequence[str] = (),
                     sources: Sequence[str] = ()
                     ) -> tuple[System, dict[Path, Position]]:
    """`load_spec_text`, and where each path is written in the text (for findings that name
    a line), from the one parse."""
    system, locator = load_spec_located(text, filename, overrides, sources)
    return system, locator.positions


def load_spec_located(text: str, filename: str = "<spec>", overrides: Sequence[str] = (),
                      sources: Sequence[str] = ()) -> tuple[System, Locator]:
    """`load_spec_text`, and the Locator that places a later finding about the spec (a name
    Kubernetes cannot take) as the spec's own problems are placed: at its line and column,
    or on the override that made it. A problem the file alone does not have, placed in
    the file, says which overrides made it: "(after --set #N, which set PATH)"."""
    named = [*sources[:len(overrides)], *set_sources(len(overrides))[len(sources):]]
    try:
        return _load_located(text, filename, overrides, named)
    except SpecError as error:
        if not overrides:
            raise
        raise SpecError(_blame_overrides(error.issues, text, filename, overrides, named)) \
            from None


def _load_located(text: str, filename: str, overrides: Sequence[str],
                  named: Sequence[str]) -> tuple[System, Locator]:
    try:
        data, positions = load_with_positions(text)
    except YamlSyntaxError as error:
        raise SpecError([SpecIssue(filename, *error.position, "", str(error))]) from None
    if not isinstance(data, dict):
        raise SpecError([SpecIssue(filename, 1, 1, "", "a spec is a YAML mapping with "
                                   "'scalesim', 'name', 'components' and 'workloads'")])
    held, unapplied = _apply_overrides(data, overrides, named)
    overridden = {path: number for number, path in enumerate(held) if path is not None}
    # Every problem at once: the overrides that could not be applied, then what the spec
    # with the others applied does not pass.
    locate = Locator(filename, data, positions, overridden, named, text)
    unencoded = [locate.placed(path, message) for path, message in unencodable(data)]
    try:
        system = System.model_validate(data)
    except ValidationError as error:
        errors = [e for e in error.errors() if not _about_unencodable(e)]
        raise SpecError([*unapplied, *unencoded, *locate.pydantic_issues(errors)]) from None
    if unapplied or unencoded:
        raise SpecError([*unapplied, *unencoded])
    problems = check_system(system)
    if problems:
        raise SpecError([locate.placed(path, message) for path, message in problems])
    return system, locate


def _about_unencodable(error: Any) -> bool:
    """Whether a pydantic error is about text UTF-8 cannot carry, which `unencodable`
    reports once, at the field, in its own words (pydantic's says "unable to parse raw data
    as a unicode string" for a name, and repeats the text in a word's "got …")."""
    got = error.get("input")
    return error["type"] == "string_unicode" or (isinstance(got, str)
                                                 and unicode_problem(got) is not None)


def _apply_overrides(data: Any, overrides: Sequence[str], named: Sequence[str]
                     ) -> tuple[list[Path | None], list[SpecIssue]]:
    """Apply each override to `data`: the path each set, as the data holds it (None for
    one that could not be applied), and a problem for each that could not."""
    held: list[Path | None] = []
    unapplied: list[SpecIssue] = []
    for number, text_override in enumerate(overrides):
        try:
            held.append(apply_override(data, *parse_override(text_override)))
        except OverrideError as error:
            held.append(None)
            unapplied.append(SpecIssue(named[number], 0, 0, "", f"{text_override}: {error}"))
    return held, unapplied


def _found(text: str, filename: str, overrides: Sequence[str],
           named: Sequence[str]) -> set[tuple[str, str]]:
    """The (path, message) of each problem loading finds, none when the spec loads."""
    try:
        _load_located(text, filename, overrides, named)
    except SpecError as error:
        return {(issue.path, issue.message) for issue in error.issues}
    return set()


def _blame_overrides(issues: Sequence[SpecIssue], text: str, filename: str,
                     overrides: Sequence[str], named: Sequence[str]) -> list[SpecIssue]:
    """`issues`, where each placed in the file that the file alone does not have ends
    with the overrides that make it (each that does on its own, else all of them): a
    duration set too long is reported on the interval the file leaves to its default, at
    the line of `simulation:`, as if the file were wrong."""
    written = _found(text, filename, (), ())
    alone: list[set[str]] | None = None  # the paths each override makes problems at
    held: list[Path | None] = []  # the path each override set, as the data holds it
    blamed: list[SpecIssue] = []
    for issue in issues:
        if issue.file != filename or issue.line == 0 or (issue.path, issue.message) in written:
            blamed.append(issue)
            continue
        if alone is None:
            alone = [{path for path, _ in _found(text, filename, (override,), (name,))}
                     for override, name in zip(overrides, named, strict=True)] \
                if len(overrides) > 1 else [{issue.path}]
            held = _apply_overrides(load_with_positions(text)[0], overrides, named)[0]
        causes = [n for n, paths in enumerate(alone) if issue.path in paths] \
            or range(len(overrides))
        notes = "".join(_after(named[n], path) for n in causes
                        if (path := held[n]) is not None
                        and f"(after {named[n]}," not in issue.message)
        blamed.append(replace(issue, message=issue.message + notes))
    return blamed


def _after(name: str, path: Path) -> str:
    return f" (after {name}, which set {dotted(path)})"


class Locator:
    """Turns a validation location into the file position a person should look at."""

    def __init__(self, filename: str, data: Any, positions: dict[Path, Position],
                 overridden: dict[Path, int], named: Sequence[str], text: str) -> None:
        self.filename = filename
        self.data = data
        self.positions = positions
        self.overridden = overridden
        self.named = named
        self.text = text  # the file's, for what it holds without the overrides

    def issue(self, path: Path, message: str) -> SpecIssue:
        """A finding made after loading, placed, with what the overrides changed inside its
        place in the file (loading's own problems name only the overrides that make them:
        `_blame_overrides`)."""
        placed = self.placed(path, message)
        if placed.file != self.filename:
            return placed
        return replace(placed, message=message + self._changed_below(path))

    def found(self, system: System, find: Callable[[System], list[Problem]],
              reads: Callable[[Path], Sequence[Path]]) -> list[SpecIssue]:
        """The findings `find` makes on `system` after loading, placed; one placed in the
        file that the file alone does not make ends with the overrides that make it, as
        loading's problems do (`_blame_overrides`): a late fault that
        `--set simulation.duration=5s` makes names it, not a duration the file sets."""
        found = find(system)
        alone = self._file_alone() if found and self.overridden else None
        written = {path for path, _ in find(alone)} if alone is not None else set()
        issues = []
        for path, message in found:
            placed = self.placed(path, message)
            if placed.file == self.filename and path not in written:
                notes = "".join(_after(self.named[n], o) for n, o in
                                self._making(system, alone, path, find, reads(path)))
                placed = replace(placed, message=message + notes)
            issues.append(placed)
        return issues

    def _making(self, system: System, alone: System | None, path: Path,
                find: Callable[[System], list[Problem]],
                reads: Sequence[Path]) -> list[tuple[int, Path]]:
        """(number, path) of the overrides of the fields a finding at `path` `reads` that
        make it on their own, set alone into the file's system (`changed`); all of them
        when only together they do, or when the file is not valid without them."""
        setting = sorted((n, o) for o, n in self.overridden.items()
                         if any(read[: len(o)] == o for read in reads))
        if alone is None:
            return setting
        return [(n, o) for n, o in setting if path in {
            p for p, _ in find(changed(alone, o, value_at(system, o)))}] or setting

    def _file_alone(self) -> System | None:
        """The system the file gives without the overrides; None when it is not valid
        without them."""
        try:
            return System.model_validate(load_with_positions(self.text)[0])
        except ValidationError:
            return None

    def placed(self, path: Path, message: str) -> SpecIssue:
        if path not in self.positions:  # not in the file: an override below it made it
            made = next((n for o, n in self.overridden.items() if o[: len(path)] == path), None)
            if made is not None:
                return SpecIssue(self.named[made], 0, 0, dotted(path), message)
        for cut in range(len(path), -1, -1):
            prefix = path[:cut]
            number = self.overridden.get(prefix)
            if number is None:
                number = next((n for o, n in self.overridden.items() if prefix[: len(o)] == o),
                              None)
            if number is not None:
                return SpecIssue(self.named[number], 0, 0, dotted(path), message)
            if prefix in self.positions:
                return SpecIssue(self.filename, *self.positions[prefix], dotted(path), message)
        return SpecIssue(self.filename, 1, 1, dotted(path), message)

    def _changed_below(self, path: Path) -> str:
        """What the overrides changed inside `path`, which the file's line alone hides (a
        finding of `generate` about a component is placed at the component's line)."""
        below = [(n, o) for o, n in self.overridden.items() if len(o) > len(path)
                 and o[: len(path)] == path]
        return "".join(_after(self.named[n], o) for n, o in sorted(below))

    def pydantic_issues(self, errors: list[Any]) -> list[SpecIssue]:
        """An issue per error, but one for a value that no member of a union with a word
        takes: `workers: 2.0` gave "Input should be 'unlimited'" and "Input should be a
        valid integer" as two problems."""
        errors = self._intended(errors)
        unions: dict[Path, list[Any]] = {}
        for error in errors:
            if _union_member(error):
                unions.setdefault(self._data_path(tuple(error["loc"]), False), []).append(error)
        issues = [issue for e in errors if not _union_member(e)
                  for issue in self._issues_of(e)]
        for path, members in unions.items():
            words = [e for e in members if e["type"] == "literal_error"]
            others = [e for e in members if e["type"] != "literal_error"]
            if not words or not others:
                issues += [self.pydantic_issue(e) for e in members]
                continue
            wanted = [plain_message(str(e["msg"])).removeprefix("Input should be ")
                      for e in others + words]
            got = words[0].get("input")
            hint = did_you_mean(str(got), [c for e in words for c in _choices(e)])
            issues.append(self.placed(path, f"Input should be {', or '.join(wanted)} "
                                           f"(got {got!r}){hint}"))
        return issues

    def _issues_of(self, error: Any) -> list[SpecIssue]:
        """The issues of one pydantic error: one per field a model's FieldProblems names,
        each at its field, else the error's own."""
        raised = error.get("ctx", {}).get("error")
        if not isinstance(raised, FieldProblems):
            return [self.pydantic_issue(error)]
        path = self._data_path(tuple(error["loc"]), missing=False)
        return [self.placed((*path, *below), message) for below, message in raised.problems]

    def _intended(self, errors: list[Any]) -> list[Any]:
        """`errors` without those of the union members the value was not meant for: a
        member of another type (`keys: {count: 10, skew: -1}` is a mapping, not the integer
        shorthand) or a pattern it does not start as (`after: p42` is a percentile, not a
        duration). Members all refused for their type keep their errors (one line then
        names every type the field takes)."""
        branches: dict[tuple[Any, ...], dict[str, list[Any]]] = {}
        for error in errors:
            found = self._branch(error)
            if found is not None:
                branches.setdefault(found[0], {}).setdefault(found[1], []).append(error)
        dropped: set[int] = set()
        for members in branches.values():
            if len(members) > 1:
                kept = _meant(members)
                dropped |= {id(e) for tag, errs in members.items() if tag not in kept
                            for e in errs}
        return [e for e in errors if id(e) not in dropped]

    def _branch(self, error: Any) -> tuple[tuple[Any, ...], str] | None:
        """(location of the union, member tag) of an error inside a union member: its last
        location part that is not in the data (a missing field's own name aside)."""
        loc = tuple(error["loc"])
        if error["type"] == "missing":
            loc = loc[:-1]
        node, tag = self.data, None
        for index, part in enumerate(loc):
            if _holds(node, part):
                node = node[part]
            else:
                tag = index
        return None if tag is None else (loc[:tag], str(loc[tag]))

    def pydantic_issue(self, error: Any) -> SpecIssue:
        kind = error["type"]
        path = self._data_path(tuple(error["loc"]), missing=kind == "missing")
        if kind == "extra_forbidden":
            field = str(path[-1])
            hint = self._index_hint(path) or self._block_hint(path) or did_you_mean(
                field, allowed_fields(System, path[:-1]))
            return self.placed(path, f"unknown field '{field}'{hint}")
        if kind == "missing":
            return self.placed(path, "required field is missing")
        if kind in ("literal_error", "value_error") and path == ("scalesim",):
            return self.placed(path, f"the format version must be 1 (got {error.get('input')!r})")
        message = plain_message(str(error["msg"]))
        got = error.get("input")
        if kind == "model_type" and error.get("ctx", {}).get("class_name") == "Call" \
                and isinstance(got, str):  # `calls: [db.get]`, the most repeated mistake
            message = f"a call is a mapping: write {{to: {got}}} (got {got!r})"
        if kind in ("literal_error", "enum"):
            got = error.get("input")
            message = f"{message} (got {got!r}){did_you_mean(str(got), _choices(error))}"
        if kind == "string_pattern_mismatch":
            message = _pattern_message(error, message)
        return self.placed(path, message)

    def _index_hint(self, path: Path) -> str:
        """How to address an item, for a key written `name[N]` as Python or JSONPath would:
        a list's with a number (docs/spec.md, Overrides), a mapping's with one of its keys;
        '' for any other key, or a field that holds neither."""
        match = _BRACKETED.fullmatch(str(path[-1]))
        if match is None:
            return ""
        name, index = match.group(1), int(match.group(2))
        kind = container(System, (*path[:-1], name))
        if kind == "mapping":
            return f" ({name} is a mapping, not a list: write {name}.KEY{self._keys(path, name)})"
        if kind is None:
            return ""
        which = "the first item" if index == 0 else f"item {index}, counted from 0"
        return f" (write {name}.{index} for {which}: a number indexes a list)"

    def _holder(self, path: Path) -> Any:
        """What holds `path`'s last part in the data read (the overrides applied)."""
        node = self.data
        for part in path[:-1]:
            node = node[part]
        return node

    def _keys(self, path: Path, name: str) -> str:
        """', with KEY one of its keys: gateway, catalog, … and 4 more': the keys the
        mapping `name` beside `path`'s last part holds; '' when it holds none."""
        mapping = self._holder(path).get(name)
        keys = [str(key) for key in mapping] if isinstance(mapping, dict) else []
        if not keys:
            return ""
        more = f" and {len(keys) - _KEYS_SHOWN} more" if len(keys) > _KEYS_SHOWN else ""
        return ", with KEY one of its keys: " + ", ".join(keys[:_KEYS_SHOWN]) + more

    def _block_hint(self, path: Path) -> str:
        """Where a call's field written beside `parallel:` or `saga:` in a step goes:
        inside the block, on each of its calls; '' for any other unknown field."""
        step = self._holder(path)
        field = str(path[-1])
        block = next((b for b in _BLOCKS if isinstance(step, dict) and b in step), None)
        if block is None:
            return ""
        only = f": a {block} step has only '{block}'"
        if block == "saga" and field in Saga.model_fields:
            return f"{only}; '{field}' is the saga's own, inside it (saga.{field})"
        if block == "saga" and field in NOT_IN_SAGA_STEPS:
            return f"{only}, and its steps are plain calls: a saga takes no '{field}'"
        if field not in allowed_fields(Call, ()):
            return ""
        inner = _BLOCKS[block]
        return (f"{only}; a call's '{field}' goes inside it, on each of its {inner} "
                f"({block}.{inner}[N].{field})")

    def _data_path(self, loc: tuple[Any, ...], missing: bool) -> Path:
        """Keep the parts of a pydantic location that exist in the data (union tags don't).
        Only a missing field may name a key the data lacks: a tag that equals its block's
        key (`saga: {saga: …}`) would otherwise show the key twice, nor may a tag that is
        a key of its data be taken for it (`timeout` beside `parallel:`, refused under the
        tag `parallel`, was read as the field `parallel`)."""
        path: list[str | int] = []
        node = self.data
        held = loc[:-1] if missing else loc  # the parts the data may hold
        for index, part in enumerate(loc):
            if _holds(node, part) and not _tag_as_key(node, part, held[index + 1:]):
                path.append(part)
                node = node[part]
            elif missing and index == len(loc) - 1 and isinstance(part, str) \
                    and not part.startswith(("function-", "union[", "tagged-union[")) \
                    and isinstance(node, dict):
                path.append(part)  # a missing field: point at its parent, name the field
        return tuple(path)


# The steps that hold their calls in a block of their own, and the block's list of them
_BLOCKS = {"parallel": "calls", "saga": "steps"}


def _tag_as_key(node: Any, part: Any, rest: tuple[Any, ...]) -> bool:
    """Whether `part`, a key of `node`, is a union member's tag in the location: the part
    after it is not in `node[part]` but is in `node` itself."""
    return bool(rest) and not _holds(node[part], rest[0]) and _holds(node, rest[0])


def _holds(node: Any, part: Any) -> bool:
    """Whether `part` of a pydantic location is a key or an index of the data `node` (a
    union member's tag is neither)."""
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and part < len(node)


def _pattern_message(error: Any, message: str) -> str:
    """A name that breaks its pattern, said as the rule and what breaks it rather than the
    regex; any other pattern's message as pydantic words it."""
    shape = _NAME_SHAPES.get(str(error.get("ctx", {}).get("pattern")))
    got = error.get("input")
    if shape is None or not isinstance(got, str):
        return message
    what, joins = shape
    return f"{got!r} is not a valid {what}: {NAME_RULE}{_breaks(got, joins)}"


def _breaks(text: str, joins: str) -> str:
    """What in `text` breaks the name rule: its first character no name takes, else a name
    starting with '-'; '' when only the joining is wrong (two dots)."""
    bad = next((c for c in text if c not in _NAME_CHARS and c not in joins), None)
    if bad is not None:
        return f", and it has {bad!r}"
    names = re.split(f"[{re.escape(joins)}]", text) if joins else [text]
    if any(name.startswith("-") for name in names):
        return ", and a name in it starts with '-'" if joins else ", and it starts with '-'"
    return ", and it is empty" if not text else ""


# Errors that say the value is not of a member's type at all, rather than wrong as one
_TYPE_ERRORS = frozenset({"int_from_float", "int_parsing", "float_parsing", "bool_parsing",
                          "model_attributes_type", "is_instance_of"})


def _meant(members: dict[str, list[Any]]) -> set[str]:
    """The union members a value was meant for: those that took its type (failing on its
    content), and of those, a pattern the value starts as, or else the others; all when
    none took it. Words (literals) stay: one line names them with the member kept."""
    words = {tag for tag, errs in members.items()
             if all(e["type"] == "literal_error" for e in errs)}
    took = {tag for tag, errs in members.items()
            if tag not in words and not all(_wrong_type(e) for e in errs)}
    if not took:
        return set(members)
    patterns = {tag: _literal_start(members[tag]) for tag in took}
    begun = {tag for tag, start in patterns.items() if start and _starts(members[tag], start)}
    others = {tag for tag, start in patterns.items() if not start}
    return words | (begun or others or took)


def _wrong_type(error: Any) -> bool:
    kind = str(error["type"])
    return kind.endswith("_type") or kind in _TYPE_ERRORS


def _literal_start(errors: list[Any]) -> str:
    """The fixed text a member's pattern starts with ('p' of ^p(50|99)$), '' for a member
    that is not a pattern or whose pattern starts with no fixed text."""
    for error in errors:
        if error["type"] == "string_pattern_mismatch":
            pattern = str(error.get("ctx", {}).get("pattern", ""))
            match = re.match(r"\^([A-Za-z0-9_-]*)", pattern)
            return match.group(1) if match else ""
    return ""


def _starts(errors: list[Any], start: str) -> bool:
    return any(isinstance(e.get("input"), str) and e["input"].startswith(start) for e in errors)


def _choices(error: Any) -> list[str]:
    """The words a literal or enum error expected: "'a', 'b' or 'c'" -> a, b, c."""
    expected = str(error.get("ctx", {}).get("expected", ""))
    return [c.strip(" '") for c in expected.replace(" or ", ",").split(",")]


def _union_member(error: Any) -> bool:
    """Whether a pydantic error is one member's of a union of a number and words
    (`workers`: a count or 'unlimited'): its location ends with the member's tag."""
    last = error["loc"][-1] if error["loc"] else None
    return isinstance(last, str) and (last.startswith("literal[") or last.startswith(
        "constrained-") or last in ("int", "float"))
