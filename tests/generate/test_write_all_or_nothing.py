"""`generate` writes all or nothing (docs/generate.md): every file is encoded while planning,
and any failure while writing — not only a full disk — leaves no temporary file behind. A
lone surrogate in a file's text failed inside the write loop (UnicodeEncodeError) and left
the temporaries staged before it in DIR/k8s."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from tests.generate.helpers import OPTIONS, SMALL, generate

from scalesim.generate import GeneratedFile, GenerateError, Target, plan, write
from scalesim.generate.output import WriteError
from scalesim.generate.targets import folders


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (hidden temporaries included) and its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _generated(namespace: str) -> list[GeneratedFile]:
    """The small spec's manifests: every one names its namespace."""
    return generate(SMALL, Target.K8S, options=replace(OPTIONS, namespace=namespace))


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A folder generate wrote once, to be written again into another namespace."""
    folder = tmp_path / "out"
    write(folder, plan(folder, _generated("one"), False, folders(Target.K8S)))
    return folder


@pytest.mark.parametrize("failure", [KeyboardInterrupt, RuntimeError, MemoryError])
@pytest.mark.parametrize("fail_at", [1, 3])
def test_any_failure_while_staging_leaves_the_folder_as_it_was(
        out: Path, monkeypatch: pytest.MonkeyPatch, failure: type[BaseException],
        fail_at: int) -> None:
    before = _snapshot(out)
    planned = plan(out, _generated("two"), False, folders(Target.K8S))
    assert sum(item.status == "updated" for item in planned) >= 3
    real = Path.write_bytes
    calls = 0

    def failing(path: Path, data: bytes) -> int:
        nonlocal calls
        calls += 1
        if calls == fail_at:
            raise failure("injected")
        return real(path, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    with pytest.raises(failure, match="injected"):
        write(out, planned)
    assert calls == fail_at
    assert _snapshot(out) == before  # no file changed, no temporary left


def test_a_new_folder_is_removed_after_a_failure(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = tmp_path / "fresh"
    planned = plan(fresh, _generated("one"), False, folders(Target.K8S))

    def interrupted(path: Path, data: bytes) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_bytes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write(fresh, planned)
    assert not fresh.exists()


def test_a_rename_that_fails_removes_the_temporaries_left(
        out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A target that turned into something a file cannot be renamed over after the plan:
    the files renamed before it stay, the manifest keeps its hashes, no temporary stays."""
    planned = plan(out, _generated("two"), False, folders(Target.K8S))
    real = os.replace
    calls = 0

    def failing(source: str | Path, target: str | Path) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise IsADirectoryError(21, "Is a directory")
        real(source, target)

    manifest = (out / ".scalesim-generated.json").read_bytes()
    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(WriteError, match=r"cannot move k8s/.+ into place: Is a directory; "
                                         r"1 file\(s\) before it were replaced"):
        write(out, planned)
    assert not [p for p in out.rglob("*") if p.name.endswith(".scalesim-tmp")]
    assert (out / ".scalesim-generated.json").read_bytes() == manifest


def test_text_utf8_cannot_carry_is_a_plan_problem_before_any_write(tmp_path: Path) -> None:
    files = [GeneratedFile("k8s/a.yaml", "kind: A\n"),
             GeneratedFile("k8s/b.yaml", "description: x\udc80\n")]
    with pytest.raises(GenerateError) as caught:
        plan(tmp_path / "gen", files, False, folders(Target.K8S))
    assert caught.value.problems == [
        "k8s/b.yaml: its text is not valid Unicode text: a lone UTF-16 surrogate (\\udc80) "
        "at character 14"]
    assert not (tmp_path / "gen").exists()
