"""Templates: the gallery's cards, one template's details, parameters -> a spec."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from scalesim.catalog import CatalogError, UnknownPatternError, load_catalog
from scalesim.templates import TEMPLATES, ParamError, Template, UnknownTemplateError, get_template
from scalesim.templates.describe import brief, details

router = APIRouter(tags=["templates"])


class Params(BaseModel):
    params: dict[str, bool | int | float | str] = Field(
        default_factory=dict, description="template parameters by name; omitted = default")


def _lookup(template_id: str) -> Template[Any]:
    try:
        return get_template(template_id)
    except UnknownTemplateError as error:
        raise HTTPException(404, str(error)) from None


@cache
def _category(pattern_ids: tuple[str, ...]) -> str | None:
    """The catalog category of a template's first pattern (its main idea)."""
    try:
        catalog = load_catalog()
        return catalog[pattern_ids[0]].category.value if pattern_ids else None
    except (CatalogError, UnknownPatternError):
        return None


@cache
def _default_spec(template_id: str) -> str:
    return get_template(template_id).build().text


@router.get("/templates")
def list_templates() -> list[dict[str, Any]]:
    """Every template with its default spec (the gallery draws it), patterns, category and
    the outcome its scenario demonstrates."""
    return [{**brief(t), "category": _category(t.patterns), "spec": _default_spec(t.id),
             "expected": details(t)["expected"]} for t in TEMPLATES]


@router.get("/templates/{template_id}")
def get_template_details(template_id: str) -> dict[str, Any]:
    template = _lookup(template_id)
    return {**details(template), "category": _category(template.patterns),
            "spec": _default_spec(template.id)}


@router.post("/templates/{template_id}/spec")
def build_spec(template_id: str, body: Params) -> dict[str, Any]:
    """The commented spec the template builds from these parameters (400 names each bad one)."""
    template = _lookup(template_id)
    try:
        built = template.build(body.params)
    except ParamError as error:
        raise HTTPException(400, "; ".join(error.problems)) from None
    return {"template": template.id, "spec": built.text, "scenario": built.scenario.story,
            "expected": [str(e) for e in built.scenario.expect]}
