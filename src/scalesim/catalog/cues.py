"""Cues beyond the words a description shares with a pattern, for the free-text advisor.

BM25 adds up word matches, so one rare word can carry a pattern far ('catalog' in a
registry's alias 'service catalog database', 'heavy' in 'read-heavy'). Three corrections:

- coverage: a pattern that answers only part of what was asked scores less. Each of the
  description's own words is a concept weighted by its rarity (idf), covered when the
  pattern matches the word or a synonym that word brought, but not when the word is only a
  fragment of one of its longer names or aliases; the score is scaled by the covered share
  of the weight, to the power COVERAGE.
- negative cues (negative-cues.yaml): words that ask for what a pattern cannot do ('writes'
  for read replicas and follower reads, which serve only reads; write load for caches) scale
  its score by NEGATIVE per cue found, outside the phrases the synonyms recognise ('reads
  are 10x writes' is read load). They are kept by hand, each with the `avoid_when` or
  `use_when` line behind it: the words of `avoid_when` alone are too common to use.
- domain: a domain-specialised pattern (crawling, maps, machine learning) needs half the
  words of its name or of an alias in the description; otherwise its score is scaled by
  DOMAIN, so 'deploy a new version' does not lead to an ML model-versioning pattern."""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping

from pydantic import TypeAdapter

from scalesim.catalog.loader import packaged_root, read_yaml
from scalesim.catalog.model import Category, Pattern
from scalesim.catalog.text import Expansion, name_words, stems, terms

COVERAGE = 0.5
NEGATIVE = 0.5
DOMAIN = 0.4


@functools.cache
def negative_cues() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Pattern id -> its negative cues, each as stems."""
    raw = TypeAdapter(dict[str, list[str]]).validate_python(
        read_yaml(packaged_root("negative-cues.yaml")))
    return {pid: tuple(tuple(stems(cue)) for cue in cues) for pid, cues in raw.items()}


def negatives(pattern_id: str, expansion: Expansion) -> int:
    """How many of the pattern's negative cues the description says: in its words outside
    recognised phrases, or as a synonym term a phrase brought ('write heavy': write load)."""
    return sum(cue in expansion.recognised or any(_contains(run, cue) for run in expansion.runs)
               for cue in negative_cues().get(pattern_id, ()))


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(words[i:i + n]) == phrase for i in range(len(words) - n + 1))


def fragments(pattern: Pattern, own: Collection[str], said: Collection[str] = ()) -> set[str]:
    """Words the pattern has only inside a name or alias of several words that the
    description does not say whole ('catalog' of a registry's 'service catalog database').
    The words of its id are never fragments. A stop word that is a noun (`name_words`)
    counts as a word of a name, id included, and is said when the description's stems
    (`said`) hold it: 'Pattern Overload' is not the 'overload' of an overloaded database."""
    elsewhere = set(terms(" ".join([pattern.summary, pattern.problem, *pattern.use_when])))
    found: set[str] = set()
    for phrase in [pattern.name, *pattern.aliases]:
        words = set(name_words(phrase))
        if len(words) > 1 and not words <= set(own) | set(said):
            found |= set(terms(phrase))
    ident = pattern.id.replace("-", " ")
    if name_words(ident) == terms(ident):
        elsewhere |= set(terms(ident))
    return found - elsewhere


def covered(own: Collection[str], matched: Collection[str], because: Mapping[str, str],
            partial: Collection[str] = (), phrased: Collection[str] = ()) -> set[str]:
    """The description's own words a pattern answers: matched directly, or through a synonym
    ('blue' brought by 'zero downtime' covers 'zero' and 'downtim'); not words it has only
    as a fragment of a longer name (`partial`), nor words the description says only inside
    a recognised phrase (`phrased`), which the phrase's meaning covers and the word used
    apart does not ('in charge' answers nothing of 'double-charge')."""
    found = {word for word in matched if word in own and word not in partial
             and word not in phrased}
    for term in matched:
        if term in because:
            found |= set(stems(because[term])) & set(own)
    return found


def factor(pattern: Pattern, expansion: Expansion, own: Mapping[str, float],
           matched: Collection[str]) -> float:
    """What the cues make of a pattern's word-match score, 1 when none applies. `expansion`
    is the description read (text.expand), `own` its terms as the index knows them, each
    with its rarity (idf): covering a rare word counts more than a common one."""
    scale = 1.0
    total = sum(own.values())
    if len(own) > 1 and total > 0.0:
        answered = covered(own, matched, expansion.because,
                           fragments(pattern, own, expansion.said),
                           expansion.phrased)
        share = sum(own[word] for word in answered) / total
        scale *= share ** COVERAGE
    scale *= NEGATIVE ** negatives(pattern.id, expansion)
    if pattern.category is Category.DOMAIN_SPECIALIZED and not names_it(pattern, own):
        scale *= DOMAIN
    return scale


def names_it(pattern: Pattern, own: Collection[str]) -> bool:
    """Whether the description says at least half the words of the pattern's name or of one
    of its aliases ('model versioning' does, 'new version' alone does not)."""
    for phrase in [pattern.name, *pattern.aliases]:
        words = set(terms(phrase))
        if words and len(words & set(own)) * 2 >= len(words):
            return True
    return False
