"""Writing generated files safely: inside the output folder, never over a stranger's file.

`.scalesim-generated.json` in the folder records each file written and its SHA-256. A file
that exists but is not recorded with its current hash was not made by us (or was edited
since) and is left alone unless forced. A recorded file of the targets being generated that
the new plan no longer writes (its component was renamed or removed) is removed, so the
folder never deploys what the spec no longer has; an edited one only when forced.
Everything is checked before the first write.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from scalesim.generate.base import GeneratedFile
from scalesim.generate.errors import GenerateError
from scalesim.spec.text import unicode_problem

MANIFEST = ".scalesim-generated.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Planned:
    file: GeneratedFile
    target: Path
    status: str          # "created" | "updated" | "unchanged" | "removed"
    data: bytes = b""    # the file's content as written (UTF-8), encoded when planned


def _path_problem(path: str) -> str | None:
    pure = PurePosixPath(path)
    if not path or path != path.strip() or "\\" in path or "\0" in path:
        return f"{path!r}: not a plain relative path"
    if pure.is_absolute():
        return f"{path}: absolute paths are refused"
    if any(part in ("..", ".", "") for part in path.split("/")):
        return f"{path}: '..', '.' and empty parts are refused"
    if pure.name == MANIFEST:
        return f"{path}: reserved for the manifest"
    return None


def read_manifest(directory: Path) -> dict[str, str]:
    """Recorded path -> hash; a missing or unreadable manifest records nothing."""
    try:
        data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        files = data["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


def plan(directory: Path, files: Sequence[GeneratedFile], force: bool,
         folders: Sequence[str] = ()) -> list[Planned]:
    """Check every file; raise GenerateError listing all problems, or return the plan.

    `folders` are the top-level folders the generated targets own: recorded files there that
    `files` no longer include are planned for removal."""
    problems: list[str] = []
    blocked = _not_a_folder(directory)
    if blocked is not None:
        raise GenerateError([f"{blocked}: exists and is not a folder"])
    root = directory.resolve()
    recorded = read_manifest(directory)
    seen: set[str] = set()
    planned: list[Planned] = []
    for file in files:
        problem = _file_problem(directory, root, file.path, seen) or _text_problem(file)
        if problem is not None:
            problems.append(problem)
            continue
        seen.add(file.path)
        target = (root / file.path).resolve()
        data = file.content.encode("utf-8")
        planned.append(Planned(file, target, _status(directory, target, file.path, data,
                                                     recorded.get(file.path), force, problems),
                               data))
    for path, digest in sorted(recorded.items()):
        if path not in seen and path.split("/", 1)[0] in folders:
            stale = _stale(directory, path, digest, force, problems)
            if stale is not None:
                planned.append(stale)
    problems = list(dict.fromkeys(problems))  # a blocked folder is named once, not per file
    if problems:
        raise GenerateError(problems)
    return planned


def _file_problem(directory: Path, root: Path, path: str, seen: set[str]) -> str | None:
    """Why `path` cannot be written into `directory` (resolved: `root`), or None."""
    problem = _path_problem(path)
    if problem is None and path in seen:
        return f"{path}: generated twice"
    if problem is not None:
        return problem
    if not (root / path).resolve().is_relative_to(root):
        return f"{path}: resolves outside {directory}"
    blocked = _blocked_folder(directory, path)
    return None if blocked is None else f"{directory / blocked}: exists and is not a folder"


def _text_problem(file: GeneratedFile) -> str | None:
    """Why `file`'s text cannot be written as UTF-8 (a lone surrogate), or None: found
    while planning, so that no write starts."""
    problem = unicode_problem(file.content)
    return None if problem is None else f"{file.path}: its text is {problem}"


def _not_a_folder(directory: Path) -> Path | None:
    """The output folder, or its nearest existing ancestor, when that is not a folder."""
    for folder in (directory, *directory.parents):
        if folder.exists() or folder.is_symlink():
            return None if folder.is_dir() else folder
    return None


def _blocked_folder(directory: Path, path: str) -> str | None:
    """The first folder on the way to `path` that exists but is not a folder (a file named
    like a target's folder), relative to `directory`: the file could not be written."""
    parts = path.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        candidate = directory.joinpath(*parts[:depth])
        if candidate.is_dir():
            continue
        if candidate.exists() or candidate.is_symlink():
            return "/".join(parts[:depth])
        return None
    return None


def _stale(directory: Path, path: str, digest: str, force: bool,
           problems: list[str]) -> Planned | None:
    """The removal of a recorded file no longer generated, if it is ours to remove."""
    if _path_problem(path) is not None:
        return None  # a manifest entry we never wrote: leave the path alone
    root = directory.resolve()
    target = root / path
    if not target.resolve().is_relative_to(root) or target.is_symlink() \
            or not target.is_file():
        return None  # gone already, or not a plain file of this folder
    if sha256(target.read_bytes()) != digest and not force:
        problems.append(f"{directory / path}: is no longer generated but was edited since; "
                        "remove it yourself or use --force")
    return Planned(GeneratedFile(path, ""), target, "removed")


def _status(directory: Path, target: Path, path: str, data: bytes, recorded: str | None,
            force: bool, problems: list[str]) -> str:
    shown = directory / path
    if not target.exists():
        return "created"
    if not target.is_file():
        problems.append(f"{shown}: exists and is not a file")
        return "updated"
    current = sha256(target.read_bytes())
    if current == sha256(data):
        return "unchanged"
    if current != recorded and not force:
        why = "was edited since it was generated" if recorded else "was not generated by scalesim"
        problems.append(f"{shown}: exists and {why}; use --force to overwrite")
    return "updated"


class WriteError(Exception):
    """A generated file could not be written (a full disk, a read-only folder); the message
    says what was changed (nothing, unless a rename into place failed)."""


@dataclass(frozen=True)
class Staged:
    """A file written to its temporary, to be renamed over `target`; `name` as shown."""

    temporary: Path
    target: Path
    name: str


def write(directory: Path, planned: Sequence[Planned]) -> None:
    """Write the plan all or nothing: every new file (and the manifest) goes to a temporary
    beside its target first; only when all are written are they renamed into place and the
    stale ones removed. Any failure while staging (a full disk, an interruption) removes
    the temporaries and the folders made for them; an OSError is raised as WriteError
    naming the file."""
    recorded = read_manifest(directory)
    for item in planned:
        if item.status == "removed":
            recorded.pop(item.file.path, None)
        else:
            recorded[item.file.path] = sha256(item.data)
    manifest = {"generator": "scalesim", "files": dict(sorted(recorded.items()))}
    manifest_data = (json.dumps(manifest, indent=2) + "\n").encode("utf-8")
    made: list[Path] = []  # folders this call creates, outermost first
    staged: list[Staged] = []
    try:
        _make_folder(directory, made)
        for item in planned:
            if item.status in ("created", "updated"):
                _make_folder(item.target.parent, made)
                staged.append(_stage(item.target, item.data, 0o755 if item.file.executable
                                     else 0o644, item.file.path))
        staged.append(_stage(directory / MANIFEST, manifest_data, 0o644, MANIFEST))
    except BaseException:
        _discard([each.temporary for each in staged], made)
        raise
    _move_into_place(staged)
    root = directory.resolve()
    for item in planned:
        if item.status == "removed":
            item.target.unlink(missing_ok=True)
            _remove_empty_folders(item.target.parent, root)


def _discard(temporaries: Sequence[Path], made: Sequence[Path]) -> None:
    """Remove staged temporaries, then the folders made for them, innermost first."""
    for temporary in temporaries:
        temporary.unlink(missing_ok=True)
    for folder in reversed(made):
        with contextlib.suppress(OSError):  # not empty: a file was moved into it
            folder.rmdir()


def _move_into_place(staged: Sequence[Staged]) -> None:
    """Rename each temporary over its target, the manifest last. A rename within a folder
    fails only when its target changed since the plan (it became a folder); the
    temporaries not yet moved are then removed, and the manifest keeps its old hashes, so
    the files already moved are reported as edited by the next generate, not trusted."""
    for index, each in enumerate(staged):
        try:
            os.replace(each.temporary, each.target)
        except BaseException as error:
            _discard([left.temporary for left in staged[index:]], [])
            if isinstance(error, OSError):
                moved = (f"{index} file(s) before it were replaced; generate again with "
                         "--force to replace the rest") if index else "nothing was written"
                raise WriteError(f"cannot move {each.name} into place: "
                                 f"{error.strerror or error}; {moved}") from None
            raise


def _make_folder(folder: Path, made: list[Path]) -> None:
    """Create `folder` and its missing parents, recording each one created in `made`."""
    missing = [f for f in (folder, *folder.parents) if not f.exists()]
    for parent in reversed(missing):
        try:
            parent.mkdir()
        except OSError as error:
            raise WriteError(f"cannot create the folder {parent}: "
                             f"{error.strerror or error}; nothing was written") from None
        made.append(parent)


def _stage(target: Path, data: bytes, mode: int, name: str) -> Staged:
    temporary = target.with_name(f".{target.name}.scalesim-tmp")
    try:
        temporary.write_bytes(data)
        temporary.chmod(mode)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise WriteError(f"cannot write {name}: {error.strerror or error}; nothing was "
                             "written") from None
        raise
    return Staged(temporary, target, name)


def _remove_empty_folders(folder: Path, root: Path) -> None:
    while folder != root and folder.is_relative_to(root) and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
