"""Quick reference cards: per goal, the patterns to apply in order, one line each (cards.yaml)."""

from __future__ import annotations

import functools

from pydantic import Field, TypeAdapter, ValidationError

from scalesim.catalog.collection import Catalog
from scalesim.catalog.loader import CatalogError, packaged_root, read_yaml, validation_problems
from scalesim.catalog.model import Line, PatternId, Strict, Text


class CardStep(Strict):
    id: PatternId
    line: Line  # what to do with the pattern, for this goal


class Card(Strict):
    title: Line
    summary: Text
    steps: list[CardStep] = Field(min_length=3)


@functools.cache
def load_cards() -> dict[str, Card]:
    """The packaged cards by goal (cached); raises CatalogError when the file is broken."""
    file = packaged_root("cards.yaml")
    try:
        return TypeAdapter(dict[str, Card]).validate_python(read_yaml(file))
    except ValidationError as error:
        raise CatalogError(validation_problems(str(file), error)) from None


def card_problems(cards: dict[str, Card], catalog: Catalog) -> list[str]:
    """Unknown ids, and steps placed before a step they require (the order is the advice)."""
    problems = []
    for goal, card in cards.items():
        seen: set[str] = set()
        ids = [step.id for step in card.steps]
        for step in card.steps:
            if step.id not in catalog:
                problems.append(f"card {goal!r}: {step.id!r} is not a pattern")
            else:
                later = [n for n in catalog[step.id].relations.requires
                         if n in ids and n not in seen]
                problems += [f"card {goal!r}: {step.id!r} comes before {n!r}, which it requires"
                             for n in later]
            seen.add(step.id)
    return problems
