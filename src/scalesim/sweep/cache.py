"""Results of finished sweep points on disk, keyed by what determines them: the validated
spec (after every override), the seed and the ScaleSim version. A sweep that is stopped and
started again (or extended with more points) reads the points it already has instead of
simulating them again. Each file is written whole under a temporary name and then renamed
into place, so a killed run never leaves a half-written result behind: at most a
`.tmp-*.part` file, which is never read (and never matches `*.json`)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from scalesim import __version__
from scalesim.spec.model import System


def point_key(system: System, seed: int) -> str:
    """A stable hash of everything that decides a point's result."""
    spec = system.model_dump(mode="json", by_alias=True)
    text = json.dumps({"spec": spec, "seed": seed, "scalesim": __version__}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class PointCache:
    """`directory/KEY.json` per finished point; no directory: nothing is kept."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.failure: str | None = None  # why a point could not be kept (a full disk)

    def get(self, key: str) -> dict[str, Any] | None:
        if self.directory is None:
            return None
        path = self.directory / f"{key}.json"
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # absent, or unreadable: simulate it again
        return loaded if isinstance(loaded, dict) else None

    def put(self, key: str, result: dict[str, Any]) -> None:
        """Keep a finished point; one that cannot be kept is only lost for a resumed sweep,
        so the sweep goes on without the cache and `failure` says why."""
        if self.directory is None or self.failure is not None:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".part")
        except OSError as error:
            self.failure = f"{self.directory}: {error.strerror or error}"
            return
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(result, out, indent=1, sort_keys=True)
            os.replace(name, self.directory / f"{key}.json")
        except OSError as error:
            Path(name).unlink(missing_ok=True)
            self.failure = f"{self.directory}: {error.strerror or error}"
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
