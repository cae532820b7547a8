"""Is the server up, and how busy is it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from scalesim import __version__
from scalesim.studio.config import MAX_SPEC_BYTES
from scalesim.studio.routes.deps import RunsDep, StoreDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(store: StoreDep, runs: RunsDep) -> dict[str, Any]:
    return {"status": "ok", "version": __version__, "database": store.dialect,
            "runs": runs.counts(), "max_spec_bytes": MAX_SPEC_BYTES,
            "run_time_limit_s": runs.time_limit_s}
