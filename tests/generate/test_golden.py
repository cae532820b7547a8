"""Golden files: generation is deterministic and changes only on purpose.

Run with SCALESIM_UPDATE_GOLDEN=1 to rewrite tests/generate/golden/ after a deliberate
change, then review the diff.
"""

from __future__ import annotations

import os
import shutil

import pytest
from tests.generate.helpers import HERE, SPECS, TARGETS, generate

from scalesim.generate import GeneratedFile

GOLDEN = HERE / "golden"


def everything(spec: str) -> list[GeneratedFile]:
    """Every target's files, each path once (every target writes the README); the service
    code that compose brings along has its own golden files (tests/generate/code)."""
    files: dict[str, GeneratedFile] = {}
    for target in TARGETS:
        for file in generate(SPECS[spec], target):
            assert files.setdefault(file.path, file) == file, f"{file.path} differs by target"
    return [file for path, file in files.items() if not path.startswith("code/")]


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_generation_matches_the_golden_files(spec: str) -> None:
    files = everything(spec)
    folder = GOLDEN / spec
    if os.environ.get("SCALESIM_UPDATE_GOLDEN") == "1":
        shutil.rmtree(folder, ignore_errors=True)
        for file in files:
            (folder / file.path).parent.mkdir(parents=True, exist_ok=True)
            (folder / file.path).write_text(file.content, encoding="utf-8")
    stored = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert stored == {f.path for f in files}, "run with SCALESIM_UPDATE_GOLDEN=1"
    for file in files:
        assert (folder / file.path).read_text(encoding="utf-8") == file.content, file.path


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_generation_is_deterministic(spec: str) -> None:
    assert everything(spec) == everything(spec)
