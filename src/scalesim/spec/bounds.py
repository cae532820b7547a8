"""The documented bounds of a spec (docs/spec.md, "Bounds"): what a file, a value and a count
may be at most, so that any input ends in a result or a located error within bounded memory
and time. Each bound is far above what a real design needs."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

MAX_SPEC_BYTES = 1024 * 1024  # a spec file; a 1,000-component spec is about 100 KB
MAX_INPUT_MIB = 64  # a manifest, chart file, trace or load-test file read by import/calibrate
MAX_DEPTH = 64  # nesting of mappings and lists, aliases expanded
MAX_NODES = 100_000  # values in the spec, as written and with YAML aliases expanded
MAX_DURATION_S = 1e9  # any duration (about 31.7 years); the clock keeps 0.2 µs resolution
MAX_RATE_PER_S = 1e9  # any rate
MAX_FACTOR = 1e6  # unitless factors: a latency multiplier, a Zipf skew, shape parameters

MAX_COMPONENTS = 1000
MAX_OPERATIONS = 100  # per component
MAX_STEPS = 100  # calls and parallel steps per operation
MAX_BRANCHES = 1000  # calls in one parallel step
MAX_WORKLOADS = 1000
MAX_FAULTS = 1000
MAX_PROFILE_POINTS = 10_000
MAX_MIXTURE = 100  # distributions in one mixture
MAX_REPLICAS_TOTAL = 100_000  # replicas of all components together
MAX_WORKERS = 1_000_000  # per replica
MAX_CORES = 10_000.0  # cores of one replica
MAX_QUEUE = 1_000_000_000  # queue, capacity, pool and bulkhead sizes
MAX_CONCURRENCY = 1_000_000  # consumer concurrency, bulkhead and pool limits
MAX_USERS = 1_000_000  # closed-loop users of a workload
MAX_KEYS = 10_000_000  # distinct request keys of a workload
MAX_THRESHOLD = 1_000_000  # min_calls, half_open_calls, consecutive_5xx, probe thresholds
MAX_SERIES_POINTS = 1_000_000  # time-series rows of a run: intervals × series
MAX_WINDOW_S = 3600.0  # a retry budget's window (one counter per second)


class TooLarge(ValueError):
    """A file with more bytes than its bound; nothing past the bound was read."""


def read_at_most(source: Path | BinaryIO, limit: int) -> bytes:
    """The bytes of a file or an open stream (standard input), reading at most `limit` + 1
    of them, so a device like /dev/zero or a huge file costs no more memory than the bound;
    raises TooLarge, or OSError when the file cannot be read."""
    if isinstance(source, Path):
        refuse_unreadable_kind(source)
        with source.open("rb") as stream:
            data = stream.read(limit + 1)
    else:
        data = source.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"larger than {limit:,} bytes")
    return data


# Kinds of file that opening or reading can wait on forever (a named pipe with no writer)
# or that hold no text; a character device (/dev/null, /dev/zero) reads within the bound.
_NOT_FILES = {stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFSOCK: "a socket",
              stat.S_IFBLK: "a block device"}


def refuse_unreadable_kind(path: Path) -> None:
    """Raise OSError, naming the kind, for a path that is a pipe, socket or block device,
    unless it is a pipe this process already holds (/dev/stdin, /dev/fd/N from `<(…)`):
    opening a named pipe waits for a writer that may never come."""
    status = os.stat(path)
    kind = _NOT_FILES.get(stat.S_IFMT(status.st_mode))
    if kind is not None and not _held_open(status):
        raise OSError(errno.EINVAL, f"{kind}, not a regular file")


def _held_open(status: os.stat_result) -> bool:
    """Whether `status` is that of one of this process's open file descriptors."""
    try:
        descriptors = [int(name) for name in os.listdir("/dev/fd")]
    except (OSError, ValueError):
        return False
    for descriptor in descriptors:
        try:
            if os.path.samestat(status, os.fstat(descriptor)):
                return True
        except OSError:  # the listing's own descriptor, closed by now
            continue
    return False
