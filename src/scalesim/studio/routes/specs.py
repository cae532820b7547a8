"""Validation and the spec's JSON Schema (for the editor and the forms)."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from scalesim.spec.schema import spec_json_schema
from scalesim.studio import specs
from scalesim.studio.routes.deps import RunsDep

router = APIRouter(tags=["specs"])


class SpecBody(BaseModel):
    spec: str = Field(description="the spec as YAML text")


@router.post("/validate")
def validate(body: SpecBody, runs: RunsDep) -> dict[str, Any]:
    """Always 200 for a spec within the size limit: `valid`, `errors` [{line, column, path,
    message}] and, when valid, lint `findings` and the run's `cost`."""
    return specs.validate(body.spec, runs.time_limit_s)


@cache
def _schema() -> dict[str, Any]:
    return spec_json_schema()


@router.get("/schema")
def schema() -> dict[str, Any]:
    return _schema()
