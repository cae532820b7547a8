"""Deployment files from a spec: a preview as JSON, or a zip to download."""

from __future__ import annotations

import io
import zipfile
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, Field

from scalesim.generate import GeneratedFile, GenerateError, GenerateOptions, Target, render
from scalesim.generate.targets import empty_targets
from scalesim.studio import specs

router = APIRouter(tags=["generate"])


class GenerateRequest(BaseModel):
    spec: str = Field(description="the spec as YAML text")
    targets: list[Target] = Field(default_factory=lambda: [Target.ALL], min_length=1)
    namespace: str = "default"
    image_registry: str = "registry.local/scalesim"
    k8s_version: str = "1.33"
    format: Literal["zip", "json"] = Field("zip", description="json: the files for a preview")


class TargetsRequest(BaseModel):
    spec: str = Field(description="the spec as YAML text")


@router.get("/generate/targets")
def targets() -> list[dict[str, Any]]:
    return [{"id": t.value, "available": True} for t in Target]


@router.post("/generate/targets")
def targets_for(body: TargetsRequest) -> list[dict[str, Any]]:
    """Every target and, for one that would write nothing for this spec (only the README),
    `empty`: why, as `scalesim generate` says it, so the page can tell before it is picked."""
    system = specs.load(body.spec)
    try:
        paths = [file.path for file in render(system, Target.ALL, GenerateOptions())]
    except GenerateError as error:
        raise HTTPException(400, "; ".join(error.problems)) from None
    return [{"id": t.value, "available": True, "empty": _empty(t, paths)} for t in Target]


def _empty(target: Target, paths: list[str]) -> str | None:
    """Why `target` would write nothing, given every target's paths; None when it writes
    (`all` always does: the targets that need nothing write for any spec)."""
    lines = [] if target is Target.ALL else empty_targets(target, paths)
    return lines[0] if lines else None


def _files(body: GenerateRequest) -> tuple[str, list[GeneratedFile]]:
    system = specs.load(body.spec)
    try:
        options = GenerateOptions.checked(body.namespace, body.image_registry, body.k8s_version)
        # the targets together, as the CLI renders them: what one target writes may depend
        # on another (with the Istio routes, the services leave retries to the mesh)
        files = render(system, body.targets, options)
    except GenerateError as error:
        raise HTTPException(400, "; ".join(error.problems)) from None
    return system.name, files


@router.post("/generate", response_model=None)
def generate(body: GenerateRequest) -> Response | dict[str, Any]:
    """The generated files as a zip (default) or, with format=json, as {path, content}."""
    name, files = _files(body)
    if body.format == "json":
        return {"system": name, "files": [{"path": f.path, "content": f.content,
                                           "executable": f.executable} for f in files]}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            info = zipfile.ZipInfo(f"{name}/{file.path}", date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if file.executable else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.content)
    label = "-".join(t.value for t in body.targets)
    return Response(buffer.getvalue(), media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}-{label}.zip"'})
