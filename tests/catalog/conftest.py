"""Fixtures: small catalogs written to temp dirs, built from the packaged example pattern."""

from __future__ import annotations

import copy
import functools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from scalesim.catalog.checks import Located
from scalesim.catalog.loader import packaged_root, read_patterns

PACKAGED = Path(str(packaged_root("patterns")))
EXAMPLE = PACKAGED / "resilience" / "circuit-breaker.yaml"
INDEX = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "pattern-index.yaml"

@functools.cache
def example() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.load(EXAMPLE.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    return parsed


def pattern_data(pattern_id: str, **fields: Any) -> dict[str, Any]:
    """The packaged example with a new id and name, no aliases, then `fields` (None drops one)."""
    data = copy.deepcopy(example())
    data.update(
        id=pattern_id,
        name=pattern_id.replace("-", " ").title(),
        aliases=[],
        also_in=[],
        relations={"often_with": ["circuit-breaker"]},
    )
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def write(root: Path, data: dict[str, Any]) -> Path:
    path: Path = root / data["category"] / f"{data['id']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    """The packaged circuit-breaker copied verbatim, plus a stub for each pattern it names."""
    root = tmp_path / "patterns"
    (root / "resilience").mkdir(parents=True)
    shutil.copy(EXAMPLE, root / "resilience" / EXAMPLE.name)
    targets = {t for kind in example()["relations"].values() for t in kind}
    for target in sorted(targets):
        write(root, pattern_data(target))
    return root


@pytest.fixture
def add_pattern(catalog_dir: Path) -> Callable[..., Path]:
    """Write one more pattern into `catalog_dir`; keyword arguments override fields."""

    def add(pattern_id: str, **fields: Any) -> Path:
        return write(catalog_dir, pattern_data(pattern_id, **fields))

    return add


@functools.cache
def read_index() -> list[dict[str, Any]]:
    """The shared coverage checklist's entries; empty when the file is not there."""
    if not INDEX.exists():
        return []
    parsed = yaml.load(INDEX.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    entries: list[dict[str, Any]] = parsed["patterns"]
    return entries


@pytest.fixture(scope="session")
def index() -> list[dict[str, Any]]:
    """The index entries, or a skip naming the path that is missing."""
    if not read_index():
        print(f"pattern index not found at {INDEX}")
        pytest.skip(f"pattern index not found at {INDEX}")
    return read_index()


@pytest.fixture(scope="session")
def pending_ids() -> set[str]:
    """Index ids with no packaged file yet; empty once the content is complete (or no index)."""
    listed = {entry["id"] for entry in read_index()}
    return listed - {path.stem for path in PACKAGED.glob("*/*.yaml")}


@pytest.fixture(scope="session")
def packaged() -> tuple[list[Located], list[str]]:
    """Every packaged file that validates on its own, and the problems of those that do not."""
    return read_patterns(packaged_root("patterns"))
