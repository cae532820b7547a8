"""The pattern catalog: list and search, one pattern with its relations, the relation graph
around it, and decision help (the advisor's trees, one question at a time)."""

from __future__ import annotations

from dataclasses import asdict
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from scalesim.catalog import Catalog, CatalogError, UnknownPatternError, load_catalog
from scalesim.catalog.advisor import AdviceError, MissingAnswerError, advise
from scalesim.catalog.decision import DecisionTree, Question, load_trees
from scalesim.catalog.diagram import subgraph
from scalesim.catalog.graph import as_read, related, relation_graph
from scalesim.catalog.model import Category
from scalesim.catalog.search import search
from scalesim.catalog.views import select
from scalesim.templates import templates_for_pattern

router = APIRouter(tags=["patterns"])


@cache
def _catalog() -> Catalog:
    try:
        return load_catalog()
    except CatalogError as error:
        raise HTTPException(500, f"the pattern catalog is broken: {error}") from None


@cache
def _trees() -> dict[str, DecisionTree]:
    return load_trees()


def _brief(catalog: Catalog, pattern_id: str) -> dict[str, Any]:
    p = catalog[pattern_id]
    return {"id": p.id, "name": p.name, "category": p.category.value, "summary": p.summary,
            "level": p.level.value, "problems": [x.value for x in p.problems]}


MAX_QUERY = 200  # characters of a pattern search


@router.get("/patterns")
def list_patterns(q: Annotated[str | None, Query(max_length=MAX_QUERY)] = None,
                  category: str | None = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 500) -> list[dict[str, Any]]:
    """Every pattern (or the best matches for `q`, typo-tolerant, then the patterns related
    to it: `related`, they fix an anti-pattern that matches and match no word themselves),
    optionally those of one category, as `patterns list --category` selects them (also_in
    included)."""
    catalog = _catalog()
    hits = sorted(search(catalog, q, len(catalog.ids)), key=lambda hit: hit.related) if q \
        else []
    related = {hit.id for hit in hits if hit.related}
    ids = [hit.id for hit in hits] if q else list(catalog.ids)
    if category:
        members = {p.id for p in select(catalog, category=_category(category))}
        ids = [i for i in ids if i in members]
    return [{**_brief(catalog, i), "related": i in related} for i in ids[:limit]]


def _category(value: str) -> Category:
    """A category by its value; an unknown one is the client's error, with the allowed values."""
    try:
        return Category(value)
    except ValueError:
        allowed = ", ".join(c.value for c in Category)
        raise HTTPException(400, f"no category {value!r}; categories: {allowed}") from None


def _pattern_id(key: str) -> str:
    try:
        return _catalog()[key].id
    except UnknownPatternError as error:
        raise HTTPException(404, str(error)) from None


@router.get("/patterns/trees")
def trees() -> list[dict[str, Any]]:
    return [{"id": t.id, "title": t.title} for t in _trees().values()]


class AdviceRequest(BaseModel):
    tree: str
    answers: dict[str, Annotated[str, Field(max_length=100)]] = Field(default_factory=dict)


def _question(question: Question) -> dict[str, Any]:
    return {"key": question.key, "text": question.text, "help": question.help,
            "choices": [{"value": value, "label": choice.label}
                        for value, choice in question.choices.items()]}


@router.post("/patterns/advise")
def advise_route(body: AdviceRequest) -> dict[str, Any]:
    """Follow the answers given; `next` is the question to ask now (null when done)."""
    tree = _trees().get(body.tree)
    if tree is None:
        raise HTTPException(404, f"no decision tree {body.tree!r}; trees: "
                                 f"{', '.join(_trees())}")
    try:
        advice = advise(tree, body.answers)
    except MissingAnswerError as missing:
        answered = {k: v for k, v in body.answers.items()
                    if k != missing.question.key}
        partial = _partial(tree, answered, missing.question.key)
        return {**partial, "next": _question(missing.question)}
    except AdviceError as error:
        raise HTTPException(400, str(error)) from None
    return {**advice.to_dict(), "next": None}


def _partial(tree: DecisionTree, answers: dict[str, str], stop: str) -> dict[str, Any]:
    """The steps and recommendations so far, up to the question still open."""
    steps, recommendations = [], []
    question: Question | None = tree.question
    while question is not None and question.key != stop:
        choice = question.choices[answers[question.key].strip().lower()]
        steps.append({"key": question.key, "question": question.text,
                      "answer": answers[question.key], "label": choice.label})
        recommendations += [rec.model_dump() for rec in choice.recommend]
        question = choice.then
    return {"tree": tree.id, "steps": steps, "recommendations": recommendations}


@router.get("/patterns/{pattern}")
def get_pattern(pattern: str) -> dict[str, Any]:
    """The whole catalog entry, its relations in both directions and its templates."""
    catalog = _catalog()
    pattern_id = _pattern_id(pattern)
    entry = catalog[pattern_id].model_dump(mode="json")
    # as a reader takes them (`as_read`): a pattern 'counters' an anti-pattern recorded as
    # conflicts_with, not 'conflicts with' it beside 'fixes' it
    entry["relations_both"] = [{"kind": e.kind, "id": e.target, "name": catalog[e.target].name,
                                "reason": e.reason}
                               for e in as_read(catalog, relation_graph(catalog)[pattern_id])]
    entry["templates"] = templates_for_pattern(pattern_id)
    return entry


@router.get("/patterns/{pattern}/graph")
def pattern_graph(pattern: str, depth: Annotated[int, Query(ge=1, le=3)] = 1
                  ) -> dict[str, Any]:
    """The patterns within `depth` links, as nodes, and every declared link among them (with
    its reason), as `patterns graph ID --depth` draws them."""
    catalog = _catalog()
    centre = _pattern_id(pattern)
    found = related(catalog, centre, depth)
    nodes = [{**_brief(catalog, centre), "distance": 0}]
    nodes += [{**_brief(catalog, r.id), "distance": r.distance} for r in found]
    edges = subgraph(catalog, centre, depth).edges
    return {"centre": centre, "nodes": nodes, "edges": [asdict(e) for e in edges]}
