"""Where commands write: paths checked before any work, files and folders replaced whole.

A file (report, diagram, export) is written to a temporary name beside it and renamed over
it. `simulate --out DIR` writes a new folder beside DIR and renames it into place, so a
reader sees the previous run or the new one, never a mix; an interrupted or killed run
leaves at most a hidden `.DIR.scalesim-*` folder, which the next run into DIR removes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def run_files() -> tuple[str, ...]:
    """The files a run folder may hold (the engine's table names load only when needed)."""
    from scalesim.sim.timeseries import FILES

    return ("result.json", *FILES.values())


WRITTEN: list[Path] = []  # what this command has written whole, for an interruption's message


def written_so_far() -> str:
    """What an interrupted command leaves: nothing, or the outputs it had finished (an
    output is never left half-written)."""
    if not WRITTEN:
        return "nothing written"
    return "only " + ", ".join(str(path) for path in WRITTEN) + " written"


class OutputError(ValueError):
    """An output path that cannot be written; the message says why."""


@contextlib.contextmanager
def _naming(destination: Path, what: str) -> Iterator[None]:
    """An OSError while writing (a full disk, a folder made read-only meanwhile) becomes an
    OutputError naming where the user asked to write, not the temporary file it hit."""
    try:
        yield
    except OSError as error:
        raise OutputError(f"{destination}: cannot write {what}: {error.strerror or error}; "
                          "nothing was changed there") from None


def landing(path: Path) -> Path:
    """Where writing `path` lands: through a symbolic link to the file it names (the link
    stays a link, as when a program writes through it), else `path` itself."""
    if not path.is_symlink():
        return path
    try:
        return path.resolve()
    except RuntimeError:  # before Python 3.13, a loop of links; from 3.13 writing says so
        raise OutputError(f"{path}: a symbolic link that leads back to itself; give a file "
                          "name") from None


def check_file(path: Path) -> None:
    """A file can be written at `path`: its folder exists, and it is not a folder, nor a
    device, pipe or socket that renaming a file over would replace (`-o /dev/null` as root
    made /dev/null a regular file)."""
    target = landing(path)
    if target.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name")
    if target.exists() and not target.is_file():
        raise OutputError(f"{path}: is not a regular file (a device, pipe or socket); give a "
                          "file name")
    folder = target.parent
    if not folder.is_dir():
        why = "is not a folder" if folder.exists() else "does not exist"
        raise OutputError(f"{path}: cannot write here, the folder {folder} {why}")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"{path}: cannot write here, the folder {folder} is not writable")


HTML_SUFFIXES = (".html", ".htm")


def check_html(path: Path) -> None:
    """`check_file`, and a name that says HTML: a report written to `x.pdf` opened as a
    broken PDF."""
    check_file(path)
    if path.suffix.lower() not in HTML_SUFFIXES:
        raise OutputError(f"{path}: a report is an HTML page; give a name ending in .html")


def write_file(path: Path, content: str | bytes) -> None:
    """Write `content` to `path` whole: a temporary file beside it, then a rename (over the
    file a symbolic link names, so the link stays). Any failure is an OutputError whose
    message names the path and says why: print it as it is."""
    check_file(path)
    path = landing(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    with _naming(path, "it"):
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.scalesim-")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
            WRITTEN.append(path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


def check_folder(directory: Path, option: str = "--out") -> None:
    """`directory` can be an output folder: one already, or a new one in a folder that
    exists (a typo must not create a tree of folders). Errors start `{option} DIR:`."""
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"{option} {directory}: exists and is not a folder")
    parent = directory.absolute().parent
    if not parent.is_dir():
        why = "is not a folder" if parent.exists() else "does not exist"
        raise OutputError(f"{option} {directory}: cannot create it, the folder {parent} {why}")


def check_run_folder(directory: Path) -> None:
    """`--out DIR` can be (re)written: a new folder, an empty one, or one that holds only
    what an earlier `--out` wrote (it is replaced as a whole)."""
    check_folder(directory)
    if directory.is_dir():
        foreign = sorted(p.name for p in directory.iterdir() if p.name not in run_files())
        if foreign:
            shown = ", ".join(foreign[:5]) + (", …" if len(foreign) > 5 else "")
            raise OutputError(f"--out {directory}: holds files a run does not write ({shown}); "
                              "give a new or empty folder, or one an earlier --out wrote")
    parent = directory.absolute().parent
    if not os.access(parent, os.W_OK):
        raise OutputError(f"--out {directory}: cannot create it under {parent}")


@contextlib.contextmanager
def removed_if_left_empty(directory: Path | None) -> Iterator[None]:
    """Remove `directory`, a folder the command makes for its outputs, when the command
    ends with nothing in it (a refusal, a bad --report, an error): a command that writes
    nothing leaves nothing behind."""
    try:
        yield
    finally:
        if directory is not None:
            with contextlib.suppress(OSError):  # not there, or not empty: kept
                directory.rmdir()


def write_into(directory: Path, write: Callable[[Path], list[Path]]) -> list[Path]:
    """`write` files into a hidden folder inside `directory` (made when new), then move each
    into place whole, so that a failure (a full disk) leaves no file cut short; the paths
    as they are in `directory`."""
    new = not directory.exists()
    with _naming(directory, "its files"):
        try:
            directory.mkdir(exist_ok=True)
            with tempfile.TemporaryDirectory(dir=directory, prefix=".scalesim-") as staging:
                files = write(Path(staging))
                for path in files:
                    os.replace(path, directory / path.name)
                    WRITTEN.append(directory / path.name)
        except OSError:
            if new:
                shutil.rmtree(directory, ignore_errors=True)
            raise
    return [directory / path.name for path in files]


def write_run(directory: Path, result: dict[str, Any]) -> None:
    """Write result.json and the time series as CSV into DIR, replacing what was there."""
    from scalesim.export.tables import write_csv
    from scalesim.sim.timeseries import FILES

    check_run_folder(directory)
    directory = directory.absolute()
    _remove_leftovers(directory)
    with _naming(directory, "the run"):
        staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix=_prefix(directory, "new")))
        try:
            with (staging / "result.json").open("w", encoding="utf-8") as handle:
                # streamed: json.dumps would hold every piece of a long run's time series
                json.dump(result, handle, indent=2, sort_keys=True)
                handle.write("\n")
            for name, table in result["timeseries"].items():  # those the run has
                write_csv(staging / FILES.get(name, f"{name}.csv"), table)
            staging.chmod(0o755)
            with _signals_held():
                _swap_in(staging, directory)
            WRITTEN.append(directory)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def _swap_in(staging: Path, directory: Path) -> None:
    if not directory.exists():
        os.rename(staging, directory)
        return
    old = Path(tempfile.mkdtemp(dir=directory.parent, prefix=_prefix(directory, "old")))
    os.rename(directory, old / "run")
    try:
        os.rename(staging, directory)
    except OSError:
        os.rename(old / "run", directory)  # put the previous run back
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the renames are done (where the platform allows)."""
    held = {signal.SIGINT, signal.SIGTERM}
    block: Callable[..., Any] | None = getattr(signal, "pthread_sigmask", None)
    if block is None:
        yield
        return
    previous = block(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        block(signal.SIG_SETMASK, previous)


def _prefix(directory: Path, kind: str) -> str:
    return f".{directory.name}.scalesim-{kind}-{os.getpid()}-"


def _remove_leftovers(directory: Path) -> None:
    """Remove the hidden folders of runs into DIR that were killed before they finished."""
    for leftover in directory.parent.glob(f".{directory.name}.scalesim-*-*-*"):
        pid = leftover.name.rsplit("-", 2)[-2]
        if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True
