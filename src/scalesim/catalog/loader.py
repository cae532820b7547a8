"""Read pattern files, validate each one, check them together, and build the `Catalog`."""

from __future__ import annotations

import functools
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from scalesim.catalog.checks import Located, all_problems, unknown_sources
from scalesim.catalog.collection import Catalog
from scalesim.catalog.model import Pattern, Source

PACKAGE = "scalesim.catalog"


class CatalogError(Exception):
    """Every problem found in one pass, each naming its file, so authors can fix them together."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{len(problems)} problem(s) in the catalog data:\n{lines}")


def read_yaml(file: Traversable) -> Any:
    """Parse with the C loader when PyYAML has it: the catalog is hundreds of files."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(file.read_text(encoding="utf-8"), Loader=loader)


def validation_problems(source: str, error: ValidationError) -> list[str]:
    return [
        f"{source}: {'.'.join(str(part) for part in err['loc']) or '<file>'}: {err['msg']}"
        for err in error.errors()
    ]


def read_pattern(file: Traversable, folder: str) -> tuple[Pattern | None, list[str]]:
    """One file: parse, validate, and check its name and folder agree with its content."""
    source = str(file)
    try:
        pattern = Pattern.model_validate(read_yaml(file))
    except yaml.YAMLError as err:
        return None, [f"{source}: invalid YAML: {err}"]
    except ValidationError as err:
        return None, validation_problems(source, err)
    problems = []
    if pattern.id != Path(file.name).stem:
        problems.append(f"{source}: id {pattern.id!r} does not match the file name")
    if pattern.category != folder:
        problems.append(f"{source}: category {pattern.category!r} but the file is in {folder!r}/")
    return pattern, problems


def pattern_files(root: Traversable) -> list[tuple[Traversable, str]]:
    """Every `<category>/<id>.yaml` under root with its folder name, in a stable order."""
    return [
        (file, folder.name)
        for folder in sorted(root.iterdir(), key=lambda item: item.name)
        if folder.is_dir()
        for file in sorted(folder.iterdir(), key=lambda item: item.name)
        if file.name.endswith(".yaml")
    ]


def read_patterns(root: Traversable) -> tuple[list[Located], list[str]]:
    """All files that validate on their own, plus the problems of those that do not."""
    entries: list[Located] = []
    problems: list[str] = []
    for file, folder in pattern_files(root):
        pattern, found = read_pattern(file, folder)
        problems += found
        if pattern is not None:
            entries.append(Located(str(file), pattern))
    return entries, problems


def packaged_root(name: str) -> Traversable:
    """A data folder shipped inside the package (works from a wheel as well as a checkout)."""
    return files(PACKAGE) / name


def load_catalog(directory: Path | None = None) -> Catalog:
    """The packaged catalog (cached), or the one in `directory`; raises CatalogError."""
    return _packaged_catalog() if directory is None else _build(directory)


@functools.cache
def _packaged_catalog() -> Catalog:
    return _build(packaged_root("patterns"))


@functools.cache
def load_sources() -> dict[str, Source]:
    """The packaged legend of source keys (cached); raises CatalogError when it is broken."""
    file = packaged_root("sources.yaml")
    try:
        return TypeAdapter(dict[str, Source]).validate_python(read_yaml(file))
    except ValidationError as error:
        raise CatalogError(validation_problems(str(file), error)) from None


def _build(root: Traversable) -> Catalog:
    entries, problems = read_patterns(root)
    problems += all_problems(entries)
    problems += unknown_sources(entries, load_sources())
    if problems:
        raise CatalogError(problems)
    return Catalog(entry.pattern for entry in entries)
