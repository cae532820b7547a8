"""Ranked retrieval over the catalog: Okapi BM25 (the bm25s library) on stemmed terms.

Each pattern becomes one document whose fields are repeated by weight, so a word in a name
counts more than the same word in a summary, and BM25's saturation keeps repetition from
running away. Queries are weighted terms (`text.expand`: own words, synonyms); a word the
catalog does not know is replaced by the nearest one it does (a typo), if any."""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import bm25s
import numpy as np

from scalesim.catalog.collection import Catalog
from scalesim.catalog.model import Pattern
from scalesim.catalog.text import Expansion, expand, is_phrase, phrase_tokens, stems, terms

TYPO_CUTOFF = 0.8  # difflib ratio a misspelt word needs to its correction
BOUND = 0.7  # share of a word's catalog uses inside one multi-word name that binds it there
BOUND_USES = 5  # a word used fewer times than this is never bound
FIX_SHARE = 0.5  # of a matched anti-pattern's score lent to each pattern that fixes it

Fields = Callable[[Pattern], list[tuple[str, int]]]  # (text, weight) pairs


def names_and_problems(p: Pattern) -> list[tuple[str, int]]:
    """What `patterns search` matches: names, aliases, summary, problems."""
    return [(p.name, 3), (" ".join(p.aliases), 3), (p.id.replace("-", " "), 1),
            (p.summary, 2), (" ".join(p.problems), 1), (p.problem, 1)]


def names(p: Pattern) -> list[tuple[str, ...]]:
    """The pattern's name, aliases and id as terms."""
    return [tuple(terms(name)) for name in [p.name, *p.aliases, p.id.replace("-", " ")]]


def prose(p: Pattern) -> list[str]:
    """The advisor's fields without the problem tags ('fault-tolerance' on most patterns),
    which are labels rather than words used in a sentence."""
    return [text for text, _ in everything(p) if text != " ".join(p.problems)]


Name = tuple[str, ...]  # a name's terms


def long_names(catalog: Catalog) -> dict[str, set[Name]]:
    """The catalog's names of several words, by their first word."""
    starting: dict[str, set[Name]] = {}
    for p in catalog:
        for name in names(p):
            if len(name) > 1:
                starting.setdefault(name[0], set()).add(name)
    return starting


def namesakes(catalog: Catalog) -> dict[Name, set[Name]]:
    """Each name of several words with every name of its pattern: 'idempotent consumer' is
    also said as 'idempotent receiver'."""
    kin: dict[Name, set[Name]] = {}
    for p in catalog:
        for name in names(p):
            if len(name) > 1:
                kin.setdefault(name, set()).update(names(p))
    return kin


def enclosed(texts: list[list[str]], starting: Mapping[str, set[Name]]) -> dict[str, set[Name]]:
    """The words that `texts` (terms) say only to qualify the last word of a name of several
    words, each with those names: failover says 'hot' only in its alias 'hot standby'. A
    name's last word says what it is, so the 'reads' of 'uncached reads' are reads."""
    inside: dict[str, set[Name]] = {}
    apart: set[str] = set()
    for words in texts:
        around: list[set[Name]] = [set() for _ in words]
        for at, word in enumerate(words):
            for name in starting.get(word, ()):
                if tuple(words[at:at + len(name)]) == name:
                    for cover in around[at:at + len(name) - 1]:
                        cover.add(name)
        for word, cover in zip(words, around, strict=True):
            if cover:
                inside.setdefault(word, set()).update(cover)
            else:
                apart.add(word)
    return {word: cover for word, cover in inside.items() if word not in apart}


def bound_words(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    """Words the catalog uses almost only inside one multi-word name (at least BOUND of
    their uses): 'balancing' is nearly always 'load balancing', so 'account balances'
    says nothing about load balancers."""
    starting = long_names(catalog)
    uses: dict[str, int] = {}
    inside: dict[tuple[str, tuple[str, ...]], int] = {}
    for pattern in catalog:
        for text in prose(pattern):
            words = terms(text)
            for at, word in enumerate(words):
                uses[word] = uses.get(word, 0) + 1
                for phrase in starting.get(word, ()):  # a name begins with its first word
                    if tuple(words[at:at + len(phrase)]) == phrase:
                        for part in set(phrase):
                            inside[part, phrase] = inside.get((part, phrase), 0) + 1
    return {word: phrase for (word, phrase), n in sorted(inside.items())
            if uses[word] >= BOUND_USES and n >= BOUND * uses[word]}


def senses(words: list[str], bound: Mapping[str, tuple[str, ...]]) -> list[str]:
    """`words` with each bound word that stands inside its name replaced by the name
    ('balanc' of 'load balanc' becomes 'load-balanc'), so a word used alone and the same
    word inside the name are two terms, in the catalog and in queries alike."""
    read = list(words)
    for at, word in enumerate(words):
        phrase = bound.get(word)
        if phrase is not None and _within(words, at, phrase):
            read[at] = "-".join(phrase)
    return read


def _within(words: list[str], at: int, phrase: tuple[str, ...]) -> bool:
    """Whether words[at] is part of an occurrence of `phrase`, its words in any order
    ('balance the load' says 'load balancing')."""
    return any(sorted(words[start:start + len(phrase)]) == sorted(phrase)
               for start in range(max(0, at - len(phrase) + 1), at + 1))


def everything(p: Pattern) -> list[tuple[str, int]]:
    """What the advisor matches a description against: the above, and when to use it, and
    for an anti-pattern its symptoms and causes (that is how people describe a problem)."""
    fields = [*names_and_problems(p), (" ".join(p.use_when), 1)]
    if p.anti_pattern is not None:
        fields += [(" ".join(p.anti_pattern.symptoms), 2), (" ".join(p.anti_pattern.causes), 1)]
    return fields


@dataclass(frozen=True)
class Scored:
    id: str
    score: float
    matched: list[str]  # the query terms (after synonyms and typo fixes) found in it


class Index:
    def __init__(self, catalog: Catalog, fields: Fields) -> None:
        self.ids = list(catalog.ids)
        self.bound = bound_words(catalog)
        starting = long_names(catalog)
        self._namesakes = namesakes(catalog)
        documents = []
        # term -> (pattern number, the names it says that term only inside)
        self._enclosed: dict[str, list[tuple[int, set[Name]]]] = {}
        for n, pattern in enumerate(catalog):
            document: list[str] = []
            for text, weight in fields(pattern):
                document += [*senses(terms(text), self.bound),
                             *phrase_tokens(stems(text))] * weight
            documents.append(document)
            inside = enclosed([terms(text) for text, _ in fields(pattern)], starting)
            for word, cover in inside.items():
                self._enclosed.setdefault(word, []).append((n, cover))
        self.vocabulary = sorted({t for document in documents for t in document})
        self._known = set(self.vocabulary)
        self._sets = [set(document) for document in documents]
        self._bm25 = bm25s.BM25(k1=1.2, b=0.75)
        self._bm25.index(documents, show_progress=False)

    def weighted_terms(self, query: str) -> dict[str, float]:
        """Query term -> weight (see `text.expand`); a word the query says is read in its
        sense (`meaning`), and a term the catalog does not know is replaced by the nearest
        one it does (a typo), or dropped."""
        weights: dict[str, float] = {}
        expansion = expand(query)
        # the query's words, then apart the synonym terms they brought ('blue green')
        said = [*terms(query), "", *expansion.because]
        for term, weight in expansion.weights.items():
            known = self.meaning(term, said)
            if known is None:
                continue
            if known != term and term in self.bound:  # the words of a name add up, as apart
                weights[known] = weights.get(known, 0.0) + weight
            else:
                weights[known] = max(weight, weights.get(known, 0.0))
        return weights

    def meaning(self, term: str, said: list[str]) -> str | None:
        """The catalog's term for a word the query says (`said`: its terms in order): a
        bound word inside its name is the name's term ('load-balanc'), alone the word's
        own; then `correct`."""
        phrase = self.bound.get(term)
        if phrase is not None and any(_within(said, at, phrase)
                                      for at, word in enumerate(said) if word == term):
            return "-".join(phrase)
        return self.correct(term)

    def idf(self, term: str) -> float:
        """How rare a term is across the patterns (BM25's idf, 0 for an unknown term)."""
        if term not in self._known:
            return 0.0
        df = sum(term in document for document in self._sets)
        return math.log((len(self._sets) - df + 0.5) / (df + 0.5) + 1.0)

    def correct(self, term: str) -> str | None:
        """The term itself when the catalog knows it, else its nearest known term, else None.
        A term with a digit is a name or a quantity, never a misspelling ('100k'), and a
        phrase the catalog never says is not one of the words it does."""
        if term in self._known:
            return term
        if any(c.isdigit() for c in term) or is_phrase(term):
            return None
        close = difflib.get_close_matches(term, self.vocabulary, n=1, cutoff=TYPO_CUTOFF)
        return close[0] if close else None

    def rank(self, query: str, limit: int | None = None) -> list[Scored]:
        weights = self.weighted_terms(query)
        if not weights:
            return []
        expansion = expand(query)
        phrased = phrase_words(expansion)
        scores = {term: self.reach(term, set(expansion.weights)) if term in phrased
                  else self._bm25.get_scores([term]) for term in weights}
        total = sum((weight * scores[term] for term, weight in weights.items()),
                    np.zeros(len(self.ids)))
        order = sorted((n for n in range(len(self.ids)) if total[n] > 0.0),
                       key=lambda n: (-round(float(total[n]), 9), self.ids[n]))
        return [Scored(self.ids[n], float(total[n]),
                       [t for t in weights if scores[t][n] > 0.0]) for n in order[:limit]]

    def reach(self, term: str, said: set[str]) -> np.ndarray:
        """BM25 scores of a term that stands for a phrase (`phrase_words`), zero where a
        pattern says it only inside names (`enclosed`) none of whose patterns the query
        names in full: the 'hot' of 'hot spot' is not failover's 'hot standby'."""
        scores = np.array(self._bm25.get_scores([term]), dtype=float)
        for n, cover in self._enclosed.get(term, []):
            if not any(set(title) <= said for name in cover for title in self._namesakes[name]):
                scores[n] = 0.0
        return scores


def phrase_words(expansion: Expansion) -> set[str]:
    """The query's terms that stand for a phrase: its words said only inside recognised
    phrases ('hot' of 'hot spot'), and the words of a synonym term of several words it
    brought, unless it says them apart ('hot' of 'hot partition' for 'skewed keys')."""
    apart = {word for run in expansion.runs for word in run}
    brought = {word for term in expansion.recognised if len(term) > 1 for word in term}
    return set(expansion.phrased) | (brought - apart)


@functools.lru_cache(maxsize=8)
def index(catalog: Catalog, fields: Fields) -> Index:
    """One index per catalog and field choice (the packaged catalog is itself cached)."""
    return Index(catalog, fields)
