"""Walk a decision tree with answers given up front, asked one at a time, or both."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

from scalesim.catalog.collection import did_you_mean
from scalesim.catalog.decision import DecisionTree, Question, Recommendation

Ask = Callable[[Question], str]  # returns one of question.choices; the CLI prompts with it


def describe(question: Question) -> str:
    return f"{question.key} ({'|'.join(question.choices)}): {question.text}"


class AdviceError(ValueError):
    """Answers that cannot lead to advice; the message says what to pass instead."""


class MissingAnswerError(AdviceError):
    def __init__(self, tree: DecisionTree, question: Question) -> None:
        self.question = question
        later = [describe(q) for q in question.walk() if q.key != question.key]
        lines = [f"tree {tree.id!r} needs --answer {question.key}=VALUE", f"  {describe(question)}"]
        if later:
            lines.append("depending on that answer, it may also ask:")
            lines += [f"  {text}" for text in dict.fromkeys(later)]
        super().__init__("\n".join(lines))


class InvalidAnswerError(AdviceError):
    def __init__(self, question: Question, value: str) -> None:
        allowed = ", ".join(question.choices)
        super().__init__(f"{value!r} is not an answer to {question.key!r}; allowed: {allowed}")


class UnknownQuestionError(AdviceError):
    def __init__(self, tree: DecisionTree, key: str) -> None:
        suggestion = did_you_mean(key, tree.questions())
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        super().__init__(f"tree {tree.id!r} asks nothing called {key!r}{hint}")


@dataclass(frozen=True)
class Step:
    key: str
    question: str
    answer: str
    label: str


@dataclass(frozen=True)
class Advice:
    tree: str
    steps: list[Step]
    recommendations: list[Recommendation]  # first reason kept when a pattern recurs

    def to_dict(self) -> dict[str, object]:
        return {
            "tree": self.tree,
            "steps": [asdict(step) for step in self.steps],
            "recommendations": [rec.model_dump() for rec in self.recommendations],
        }


def advise(tree: DecisionTree, answers: Mapping[str, str], ask: Ask | None = None) -> Advice:
    """Follow the answers from the root; ask for missing ones, or raise if nobody can answer."""
    known = tree.questions()
    for key in answers:
        if key not in known:
            raise UnknownQuestionError(tree, key)
    steps: list[Step] = []
    found: dict[str, Recommendation] = {}
    question: Question | None = tree.question
    while question is not None:
        value = answers.get(question.key)
        if value is None:
            if ask is None:
                raise MissingAnswerError(tree, question)
            value = ask(question)
        choice = question.choices.get(value.strip().lower())
        if choice is None:
            raise InvalidAnswerError(question, value)
        steps.append(Step(question.key, question.text, value.strip().lower(), choice.label))
        for rec in choice.recommend:
            found.setdefault(rec.id, rec)
        question = choice.then
    return Advice(tree.id, steps, list(found.values()))


def pick_tree(trees: Mapping[str, DecisionTree], answers: Mapping[str, str]) -> DecisionTree | None:
    """The one tree asking every answered key; None if no answers, or none or several fit."""
    fits = [t for t in trees.values() if answers and set(answers) <= set(t.questions())]
    return fits[0] if len(fits) == 1 else None
