"""Reading input files as YAML documents that remember their lines.

Mappings and sequences are read as `Located` dicts and lists that keep the line of every
key and item, so each value taken from a file can say where it came from (`Seen`), and each
problem can name its line. PyYAML's C parser composes the nodes (rendered charts run to
thousands of lines); a duplicate key is an error, as it is for kubectl.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import yaml

from scalesim.importers.errors import ImportFailed, Problem, fail
from scalesim.spec.bounds import MAX_INPUT_MIB, TooLarge, read_at_most
from scalesim.spec.text import unicode_problem

SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"
# compose-go's tags on a value: drop what earlier files (or an extended base) set there,
# or replace it instead of merging (loader/reset.go); kept by the key they tag.
COMPOSE_TAGS = ("!reset", "!override")


@dataclass(frozen=True)
class Seen:
    """Where a value came from; written as a comment beside it in the spec."""

    file: str
    line: int
    what: str
    field: str

    @property
    def place(self) -> str:
        """Where, without the 'from' a comment starts with: for a sentence that says it."""
        return f"{self.file}:{self.line}: {self.what}, {self.field}"

    def __str__(self) -> str:
        return f"from {self.place}"


@dataclass(frozen=True)
class Document:
    """One YAML document of a file; `line` is where it starts (1-based)."""

    data: Any
    file: str
    line: int


class Located(dict[Any, Any]):
    """A mapping that knows its line and the line of each key, and the keys whose value
    carries a Compose tag (COMPOSE_TAGS)."""

    line = 0
    key_lines: dict[Any, int]
    tags: dict[Any, str]


class LocatedList(list[Any]):
    """A sequence that knows its line and the line of each item."""

    line = 0
    item_lines: list[int]


def line_of(node: Any, key: str | int | None = None) -> int:
    """1-based line of `key` in a mapping or sequence, or of the node itself; 0 if unknown."""
    if isinstance(node, Located):
        return node.key_lines.get(key, node.line) if key is not None else node.line
    if isinstance(node, LocatedList):
        if isinstance(key, int) and 0 <= key < len(node.item_lines):
            return node.item_lines[key]
        return node.line
    return 0


def dig(node: Any, path: str) -> tuple[Any, int]:
    """The value at dotted `path` ('spec.template.spec') and the line of its last key;
    (None, line of the deepest parent found) when a part is missing."""
    line = line_of(node)
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None, line
        line = line_of(node, part)
        node = node[part]
    return node, line


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_VALUES = 1_000_000   # values once aliases are expanded; manifests hold far fewer
_CONSTRUCTOR = yaml.SafeLoader("")
# the tag a scalar would have without an explicit one (PyYAML's resolver is untyped)
_implicit_tag = cast(Callable[[type[yaml.Node], str, tuple[bool, bool]], str],
                     yaml.resolver.Resolver().resolve)


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


class _Converter:
    """Nodes to Located values; aliases are expanded, within a budget (a billion laughs
    must fail, not eat the machine), and an alias inside itself is an error."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.budget = MAX_VALUES
        self.open: set[int] = set()

    def convert(self, node: yaml.Node) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise fail(self.file, _line(node), f"too large: more than {MAX_VALUES:,} values "
                       "once aliases are expanded")
        if id(node) in self.open:
            raise fail(self.file, _line(node), "not valid YAML: an alias refers to itself")
        if isinstance(node, yaml.ScalarNode):
            if node.tag in COMPOSE_TAGS:    # the value as if untagged (the parent keeps it)
                plain = not node.style      # None, or '' from the C parser
                node = yaml.ScalarNode(_implicit_tag(yaml.ScalarNode, node.value, (
                    plain, not plain)), node.value, node.start_mark, node.end_mark, node.style)
            return self._text(node, _CONSTRUCTOR.construct_object(node, deep=True))
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node)
            assert isinstance(node, yaml.SequenceNode)  # the composer makes no other kind
            return self._sequence(node)
        finally:
            self.open.discard(id(node))

    def _text(self, node: yaml.Node, value: Any) -> Any:
        """`value`, unless it is text UTF-8 cannot carry: Python's parser (without libyaml)
        takes an escape of a lone surrogate ("\\ud800"), which libyaml refuses."""
        problem = unicode_problem(value) if isinstance(value, str) else None
        if problem is not None:
            raise fail(self.file, _line(node), f"not valid YAML: {problem}")
        return value

    def _mapping(self, node: yaml.MappingNode) -> Located:
        mapping = Located()
        mapping.line, mapping.key_lines, mapping.tags = _line(node), {}, {}
        for key_node, value_node in _merged(node):
            if not isinstance(key_node, yaml.ScalarNode):
                raise fail(self.file, _line(key_node), "not valid YAML: a mapping key must be "
                           "a plain value")
            key = self._text(key_node, key_node.value)  # as written: YAML 1.1 reads `on` as true
            if key in mapping:
                raise fail(self.file, _line(key_node), f"duplicate key '{key}'")
            mapping.key_lines[key] = _line(key_node)
            if value_node.tag in COMPOSE_TAGS:
                mapping.tags[key] = value_node.tag
            mapping[key] = self.convert(value_node)
        return mapping

    def _sequence(self, node: yaml.SequenceNode) -> LocatedList:
        sequence = LocatedList(self.convert(item) for item in node.value)
        sequence.line, sequence.item_lines = _line(node), [_line(item) for item in node.value]
        return sequence


def _merged(node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
    """The node's pairs with YAML merge keys (`<<: *defaults`) expanded, own keys winning."""
    own = [(k, v) for k, v in node.value if k.tag != "tag:yaml.org,2002:merge"]
    inherited: list[tuple[yaml.Node, yaml.Node]] = []
    for key, value in node.value:
        if key.tag == "tag:yaml.org,2002:merge":
            sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for source in sources:
                if isinstance(source, yaml.MappingNode):
                    inherited += _merged(source)
    names = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
    kept = {}
    for key, value in inherited:
        if isinstance(key, yaml.ScalarNode) and key.value not in names:
            kept[key.value] = (key, value)
    return list(kept.values()) + own


def parse(text: str, file: str) -> list[Document]:
    """Every non-empty document of a YAML (or JSON) stream."""
    try:
        documents = [Document(_Converter(file).convert(node), file, _line(node))
                     for node in yaml.compose_all(text, Loader=_LOADER) if node is not None]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = min(mark.line + 1, _last_line(text)) if mark is not None else 1
        problem = error.problem or error.context or "not valid YAML"
        raise fail(file, line, f"not valid YAML: {problem}") from None
    except yaml.YAMLError as error:
        raise fail(file, 1, f"not valid YAML: {error}") from None
    return [document for document in documents if document.data is not None]


def _last_line(text: str) -> int:
    """The number of the text's last line. A parser that runs out of text marks the line
    after it (a truncated '{"a": 1' at line 2 of a one-line file): the person reading the
    message looks at the last line instead."""
    return max(1, len(text.splitlines()))


class Unreadable(Exception):
    """A file that cannot be read as text: missing, too large, not UTF-8."""


def read_input(path: str, errors: str = "strict") -> str:
    """The text of an input file ('-' is standard input), read up to MAX_INPUT_MIB so that
    /dev/zero or a runaway export is refused instead of filling memory; raises Unreadable."""
    try:
        data = read_at_most(sys.stdin.buffer if path == STDIN else Path(path),
                            MAX_INPUT_MIB * 1024 * 1024)
        return data.decode("utf-8", errors)
    except TooLarge:
        raise Unreadable(f"larger than {MAX_INPUT_MIB} MiB, the most scalesim reads from one "
                         "input file") from None
    except UnicodeDecodeError:
        raise Unreadable("not a UTF-8 text file") from None
    except OSError as error:
        raise Unreadable(f"cannot read: {error.strerror or error}") from None


def read_text(path: str) -> str:
    try:
        return read_input(path)
    except Unreadable as error:
        raise fail(path, 0, str(error)) from None


def expand(paths: Sequence[str], recursive: bool) -> list[str]:
    """Files named, and the YAML/JSON files of folders named (their subfolders too when
    `recursive`, like `kubectl apply -R`), each once, folders' files in name order."""
    found: list[str] = []
    problems: list[Problem] = []
    for path in paths:
        if path == STDIN:
            found.append(path)
            continue
        candidate = Path(path)
        if candidate.is_dir():
            files = sorted(_folder_files(candidate, recursive))
            if not files:
                problems.append(Problem(path, 0, "no .yaml, .yml or .json files in this "
                                        "folder" + ("" if recursive else
                                                    " (use --recursive for subfolders)")))
            found += [str(file) for file in files]
        elif candidate.exists():  # a file, or a device or pipe to read like one
            found.append(path)
        else:
            problems.append(Problem(path, 0, "no such file or folder"))
    if problems:
        raise ImportFailed(problems)
    return list(dict.fromkeys(found))


def _folder_files(folder: Path, recursive: bool) -> Iterator[Path]:
    pattern = "**/*" if recursive else "*"
    return (file for file in folder.glob(pattern)
            if file.is_file() and file.suffix in SUFFIXES and not file.name.startswith("."))


def load_all(paths: Iterable[str]) -> list[Document]:
    """Every document of every file, collecting the problems of all files."""
    documents: list[Document] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            documents += parse(read_text(path), path)
        except ImportFailed as error:
            problems += error.problems
    if problems:
        raise ImportFailed(problems)
    return documents
