"""Saved designs: each save of a changed spec (or canvas layout) is a new version; runs are
recorded against a design and version."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from scalesim.spec.bounds import MAX_COMPONENTS, MAX_WORKLOADS
from scalesim.studio import specs
from scalesim.studio.routes.deps import StoreDep

router = APIRouter(tags=["designs"])
MAX_NUMBER = 2**63 - 1  # a version number SQL can store (SQLite's and PostgreSQL's BIGINT)
MAX_LAYOUT_ENTRIES = 2 * (MAX_COMPONENTS + MAX_WORKLOADS)
"""Positions a layout may hold: twice the nodes the canvas draws for the largest valid spec
(a node per component and per workload), room for a draft's nodes besides."""
MAX_NODE_ID = 200
"""Characters of a node id (a component's name, `workload:` and a workload's name)."""
MAX_COORDINATE = 10_000_000.0
"""Canvas pixels either way from the origin; the automatic layout of a 1,000-component
chain reaches about 400,000."""


def _visible(name: str) -> str:
    if not name.strip():
        raise ValueError("a name needs a character other than spaces")
    return name


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_visible)]
DesignId = Annotated[str, Path(max_length=64)]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_NUMBER)]
Coordinate = Annotated[float, Field(ge=-MAX_COORDINATE, le=MAX_COORDINATE, strict=True)]


class Position(BaseModel):
    """Where the user put a node on the canvas: its top-left corner, in pixels."""
    model_config = ConfigDict(extra="forbid")
    x: Coordinate
    y: Coordinate


def _bounded(layout: Any) -> Any:
    """Count and ids first, so that an error never repeats a huge id (the positions'
    own errors name their id: `layout.api.x`)."""
    if isinstance(layout, dict):
        if len(layout) > MAX_LAYOUT_ENTRIES:
            raise ValueError(f"{len(layout):,} positions; a layout holds at most "
                             f"{MAX_LAYOUT_ENTRIES:,}, twice the nodes of the largest spec")
        for node in layout:
            if not 0 < len(node) <= MAX_NODE_ID:
                shown = repr(node[:40] + "…" if len(node) > 40 else node)
                raise ValueError(f"node id {shown} has {len(node):,} characters; an id has "
                                 f"1 to {MAX_NODE_ID}")
    return layout


Layout = Annotated[dict[str, Position], BeforeValidator(_bounded), Field(
    description=f"canvas positions: node id (a component's name, or `workload:` and a "
                f"workload's name) → {{x, y}} in pixels, each within ±{MAX_COORDINATE:,.0f}; "
                f"at most {MAX_LAYOUT_ENTRIES:,} of them")]


def _plain(layout: dict[str, Position] | None) -> dict[str, Any] | None:
    """The layout as JSON data, whole numbers written as the front end sends them (`12`, not
    `12.0`), so that an unchanged layout saves as the same text and adds no version."""
    if layout is None:
        return None
    return {node: {axis: int(v) if v.is_integer() else v
                   for axis, v in (("x", p.x), ("y", p.y))} for node, p in layout.items()}


class NewDesign(BaseModel):
    name: Name
    spec: str = Field(description="YAML text; saved as written, valid or not")
    layout: Layout = Field(default_factory=dict)


class DesignUpdate(BaseModel):
    name: Name | None = None
    spec: str | None = None
    layout: Layout | None = None
    base_version: int | None = Field(
        None, ge=1, le=MAX_NUMBER, strict=True,
        description="the version this edit started from: 409 when another save has made a "
                    "newer one (omitted: the save is added after whatever is latest)")


def _found(design: dict[str, Any] | None, design_id: str) -> dict[str, Any]:
    if design is None:
        raise HTTPException(404, f"no design {design_id!r}")
    return design


@router.get("/designs")
def list_designs(store: StoreDep) -> list[dict[str, Any]]:
    return store.list_designs()


@router.post("/designs", status_code=201)
def create_design(body: NewDesign, store: StoreDep) -> dict[str, Any]:
    specs.check_size(body.spec)
    return store.create_design(body.name, body.spec, _plain(body.layout) or {})


@router.get("/designs/{design_id}")
def get_design(design_id: DesignId, store: StoreDep) -> dict[str, Any]:
    """The latest spec and layout, and every version with its number of runs."""
    return _found(store.get_design(design_id), design_id)


@router.put("/designs/{design_id}")
def update_design(design_id: DesignId, body: DesignUpdate, store: StoreDep) -> dict[str, Any]:
    if body.spec is not None:
        specs.check_size(body.spec)
    return _found(store.update_design(design_id, body.name, body.spec, _plain(body.layout),
                                      body.base_version), design_id)


@router.delete("/designs/{design_id}", status_code=204)
def delete_design(design_id: DesignId, store: StoreDep) -> Response:
    """Delete a design and its versions (its runs stay in the history, unlinked)."""
    if not store.delete_design(design_id):
        raise HTTPException(404, f"no design {design_id!r}")
    return Response(status_code=204)


@router.post("/designs/{design_id}/duplicate", status_code=201)
def duplicate_design(design_id: DesignId, store: StoreDep) -> dict[str, Any]:
    return _found(store.duplicate_design(design_id), design_id)


@router.get("/designs/{design_id}/versions/{number}")
def get_version(design_id: DesignId, number: VersionNumber, store: StoreDep) -> dict[str, Any]:
    version = store.get_version(design_id, number)
    if version is None:
        raise HTTPException(404, f"design {design_id!r} has no version {number}")
    return version


@router.get("/designs/{design_id}/runs")
def design_runs(design_id: DesignId, store: StoreDep) -> list[dict[str, Any]]:
    _found(store.get_design(design_id), design_id)
    return store.list_runs(design_id, 500)
