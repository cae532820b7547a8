"""Decision trees as data: questions whose answers lead to pattern recommendations."""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterator
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import Field, StringConstraints, ValidationError, model_validator

from scalesim.catalog.loader import CatalogError, packaged_root, read_yaml, validation_problems
from scalesim.catalog.model import Line, PatternId, Strict, Text

Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+([-_][a-z0-9]+)*$")]


class Recommendation(Strict):
    id: PatternId
    reason: Line  # why this pattern fits the answers that led here


class Choice(Strict):
    label: Line  # the answer in words, shown when prompting
    recommend: list[Recommendation] = Field(default_factory=list)
    then: Question | None = None  # the next question, if the answer needs refining


class Question(Strict):
    key: Key  # the name an answer is given under, e.g. --answer consistency=strong
    text: Line
    help: Text | None = None
    choices: dict[Key, Choice] = Field(min_length=2)

    def walk(self) -> Iterator[Question]:
        """This question and every question below it, depth first."""
        yield self
        for choice in self.choices.values():
            if choice.then is not None:
                yield from choice.then.walk()


class DecisionTree(Strict):
    id: Key
    title: Line
    summary: Text
    question: Question

    @model_validator(mode="after")
    def _paths_are_sound(self) -> DecisionTree:
        _check_paths(self.question, asked=(), recommended=False)
        return self

    def questions(self) -> dict[str, list[str]]:
        """Every answer key in the tree with its allowed values."""
        allowed: dict[str, list[str]] = {}
        for question in self.question.walk():
            values = allowed.setdefault(question.key, [])
            values += [v for v in question.choices if v not in values]
        return allowed

    def recommended_ids(self) -> set[str]:
        return {
            rec.id
            for question in self.question.walk()
            for choice in question.choices.values()
            for rec in choice.recommend
        }


def _check_paths(question: Question, asked: tuple[str, ...], recommended: bool) -> None:
    """No key asked twice on one path (one answer could not serve both); every path recommends."""
    if question.key in asked:
        raise ValueError(f"question {question.key!r} is asked twice on one path")
    for value, choice in question.choices.items():
        found = recommended or bool(choice.recommend)
        if choice.then is not None:
            _check_paths(choice.then, (*asked, question.key), found)
        elif not found:
            raise ValueError(f"answer {question.key}={value} ends without a recommendation")


Choice.model_rebuild()


def unknown_recommendations(trees: dict[str, DecisionTree], known: Collection[str]) -> list[str]:
    """Recommended ids that are not patterns, so a tree cannot point at nothing."""
    return [
        f"tree {tree.id!r} recommends unknown pattern {pid!r}"
        for tree in trees.values()
        for pid in sorted(tree.recommended_ids())
        if pid not in known
    ]


def load_trees(directory: Path | None = None) -> dict[str, DecisionTree]:
    """The packaged trees (cached), or those in `directory`, by id; raises CatalogError."""
    return _packaged_trees() if directory is None else _read_trees(directory)


@functools.cache
def _packaged_trees() -> dict[str, DecisionTree]:
    return _read_trees(packaged_root("trees"))


def _read_trees(root: Traversable) -> dict[str, DecisionTree]:
    trees: dict[str, DecisionTree] = {}
    problems: list[str] = []
    for file in sorted(root.iterdir(), key=lambda item: item.name):
        if not file.name.endswith(".yaml"):
            continue
        try:
            tree = DecisionTree.model_validate(read_yaml(file))
        except yaml.YAMLError as err:
            problems.append(f"{file}: invalid YAML: {err}")
            continue
        except ValidationError as err:
            problems += validation_problems(str(file), err)
            continue
        if tree.id != Path(file.name).stem:
            problems.append(f"{file}: id {tree.id!r} does not match the file name")
        trees[tree.id] = tree
    if problems:
        raise CatalogError(problems)
    return trees
