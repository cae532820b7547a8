"""Reading input files as YAML documents that remember their lines.

ruamel.yaml's round-trip loader keeps the line of every key and item, so each value taken
from a file can say where it came from (`Seen`), and each problem can name its line.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from scalesim.importers.errors import ImportFailed, Problem, fail

SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"


@dataclass(frozen=True)
class Seen:
    """Where a value came from; written as a comment beside it in the spec."""

    file: str
    line: int
    what: str
    field: str

    def __str__(self) -> str:
        return f"from {self.file}:{self.line}: {self.what}, {self.field}"


@dataclass(frozen=True)
class Document:
    """One YAML document of a file; `line` is where it starts (1-based)."""

    data: Any
    file: str
    line: int


def line_of(node: Any, key: str | int | None = None) -> int:
    """1-based line of `key` in a mapping or sequence, or of the node itself; 0 if unknown."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return 0
    try:
        if isinstance(key, str) and isinstance(node, dict) and key in node:
            return int(lc.key(key)[0]) + 1
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            return int(lc.item(key)[0]) + 1
    except (KeyError, TypeError, AttributeError):
        pass
    return int(lc.line) + 1


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


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def parse(text: str, file: str) -> list[Document]:
    """Every non-empty document of a YAML (or JSON) stream."""
    try:
        loaded = list(_yaml().load_all(text))
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = error.problem or error.context or "not valid YAML"
        raise fail(file, line, f"not valid YAML: {problem}") from None
    except YAMLError as error:
        raise fail(file, 1, f"not valid YAML: {error}") from None
    starts = _document_lines(text, len(loaded))
    return [Document(data, file, line_of(data) if hasattr(data, "lc") else start)
            for data, start in zip(loaded, starts, strict=True) if data is not None]


def _document_lines(text: str, count: int) -> list[int]:
    """Where each document starts, for documents that are plain scalars (no line info)."""
    starts = [1] + [number + 2 for number, line in enumerate(text.splitlines())
                    if line.startswith("---")]
    return (starts + [starts[-1]] * count)[:count]


def read_text(path: str) -> str:
    if path == STDIN:
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise fail(path, 0, "not a UTF-8 text file") from None
    except OSError as error:
        raise fail(path, 0, f"cannot read: {error.strerror}") from None


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
        elif candidate.is_file():
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
