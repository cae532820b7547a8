"""Decision trees are sound data, and the advisor follows, asks, or explains what is missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from scalesim.catalog import CatalogError, load_catalog
from scalesim.catalog.advisor import (
    InvalidAnswerError,
    MissingAnswerError,
    UnknownQuestionError,
    advise,
    pick_tree,
)
from scalesim.catalog.decision import DecisionTree, Question, load_trees

TREES = load_trees()


def complete_answers(question: Question) -> Iterator[dict[str, str]]:
    """Every set of answers that walks from `question` to a leaf."""
    for value, choice in question.choices.items():
        if choice.then is None:
            yield {question.key: value}
        else:
            for rest in complete_answers(choice.then):
                yield {question.key: value, **rest}


def test_the_required_trees_exist() -> None:
    assert {"consistency", "messaging", "resilience", "scaling", "deployment"} <= set(TREES)


@pytest.mark.parametrize("tree_id", sorted(TREES))
def test_every_path_recommends_something(tree_id: str) -> None:
    tree = TREES[tree_id]
    paths = list(complete_answers(tree.question))
    assert len(paths) >= 3
    for answers in paths:
        advice = advise(tree, answers)
        assert advice.recommendations, answers
        assert len({r.id for r in advice.recommendations}) == len(advice.recommendations)
        assert [s.key for s in advice.steps] == list(answers)


def test_known_answers_give_the_textbook_patterns() -> None:
    def ids(tree: str, **answers: str) -> list[str]:
        return [r.id for r in advise(TREES[tree], answers).recommendations]

    assert "two-phase-commit" in ids(
        "consistency", consistency="strong", transactions="distributed", participants="can-lock"
    )
    assert ids("consistency", consistency="eventual", transactions="distributed",
               coordination="choreographed")[0] == "saga"
    assert ids("deployment", risk="high", release="together") == ["declarative-deployment"]
    assert ids("deployment", risk="low", capacity="double", release="separate") == [
        "blue-green-deployment", "feature-flags"]
    assert "publish-subscribe" in ids("messaging", audience="many", replay="live",
                                      ordering="any", delivery="at-least-once")
    assert "circuit-breaker" in ids("resilience", dependency="failing", failure="persistent",
                                    isolation="separate", degraded="none")
    assert "cache-aside" in ids("scaling", workload="read-heavy", staleness="stale-ok",
                                state="stateless")


def test_resilience_tree_breaks_the_circuit_on_a_dependency_that_stays_slow() -> None:
    """The circuit-breaker template is a hanging dependency: a breaker with a slow-call
    threshold is the answer to slowness that lasts, whatever the later answers."""
    tree = TREES["resilience"]
    slow = [a for a in complete_answers(tree.question) if a["dependency"] == "slow"]
    for answers in slow:
        ids = [r.id for r in advise(tree, answers).recommendations]
        assert ("circuit-breaker" in ids) == (answers["slowness"] == "sustained"), answers
        assert ids[:2] == ["timeout", "deadline-propagation"]


# An answer that says a prerequisite is already in place, so the tree need not recommend it.
SETTLED_BY_ANSWER = {("repeatable", "safe"): {"idempotent-receiver"}}


def test_resilience_paths_recommend_what_their_patterns_require() -> None:
    """Every `requires` of a recommendation is recommended on the same path, or an answer
    on it says it is in place (retry requires idempotent-receiver: ask before retrying)."""
    catalog = load_catalog()
    tree = TREES["resilience"]
    for answers in complete_answers(tree.question):
        ids = [r.id for r in advise(tree, answers).recommendations]
        settled = set().union(*(SETTLED_BY_ANSWER.get(a, set()) for a in answers.items()))
        for pid in ids:
            missing = set(catalog[pid].relations.requires) - set(ids) - settled
            assert not missing, (answers, pid, missing)
        if "retry" in ids:
            assert "repeatable" in answers
    unsafe = {"dependency": "failing", "failure": "transient", "repeatable": "unsafe",
              "isolation": "separate", "degraded": "none"}
    ids = [r.id for r in advise(tree, unsafe).recommendations]
    assert ids.index("idempotent-receiver") < ids.index("retry")


def test_missing_answers_name_the_question_and_allowed_values() -> None:
    with pytest.raises(MissingAnswerError) as caught:
        advise(TREES["consistency"], {"consistency": "strong"})
    message = str(caught.value)
    assert "--answer transactions=VALUE" in message
    assert "transactions (local|distributed)" in message
    assert "participants (can-lock|independent)" in message  # may follow


def test_missing_answers_are_asked_and_given_ones_are_not() -> None:
    asked: list[str] = []

    def ask(question: Question) -> str:
        asked.append(question.key)
        return next(iter(question.choices))

    advice = advise(TREES["consistency"], {"consistency": "eventual"}, ask)
    assert asked == ["transactions", "read_model"]
    assert [s.answer for s in advice.steps] == ["eventual", "local", "separate"]


def test_bad_answers_are_explained() -> None:
    with pytest.raises(InvalidAnswerError, match="allowed: strong, eventual"):
        advise(TREES["consistency"], {"consistency": "medium"})
    with pytest.raises(UnknownQuestionError, match="did you mean 'consistency'"):
        advise(TREES["consistency"], {"consistensy": "strong"})


def test_answers_pick_the_tree_they_fit() -> None:
    assert pick_tree(TREES, {"consistency": "strong", "transactions": "local"}) is TREES[
        "consistency"
    ]
    assert pick_tree(TREES, {"risk": "low"}) is TREES["deployment"]
    assert pick_tree(TREES, {}) is None
    assert pick_tree(TREES, {"risk": "low", "workload": "bursty"}) is None


def ask(key: str, **choices: dict[str, Any]) -> dict[str, Any]:
    return {"key": key, "text": "A question?", "choices": choices}


def ends(recommending: bool = True) -> dict[str, Any]:
    recommend = [{"id": "retry", "reason": "because it fits"}] if recommending else []
    return {"label": "an answer", "recommend": recommend}


def goes(then: dict[str, Any]) -> dict[str, Any]:
    return {"label": "an answer", "then": then}


def test_a_tree_may_not_ask_twice_on_one_path_or_end_empty() -> None:
    base = {"id": "t", "title": "A tree", "summary": "A tree used only by this test here."}
    sound = ask("a", one=goes(ask("b", x=ends(), y=ends())), two=ends())
    twice = ask("a", one=goes(ask("a", x=ends(), y=ends())), two=ends())
    empty = ask("a", one=goes(ask("b", x=ends(), y=ends(recommending=False))), two=ends())
    DecisionTree.model_validate({**base, "question": sound})
    with pytest.raises(ValidationError, match="'a' is asked twice"):
        DecisionTree.model_validate({**base, "question": twice})
    with pytest.raises(ValidationError, match="b=y ends without a recommendation"):
        DecisionTree.model_validate({**base, "question": empty})


def test_tree_files_are_checked_and_named(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("id: broken\ntitle: x\n", encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_trees(tmp_path)
    assert all(str(tmp_path / "broken.yaml") in p for p in caught.value.problems)
