"""Ranked, typo-tolerant search: exact names first, then whole-word matches, then near misses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from scalesim.catalog.collection import Catalog, normalize_key
from scalesim.catalog.model import Pattern

EXACT, WORDS, FUZZY = 3, 2, 1  # tiers, best first
FUZZY_CUTOFF = 0.6
_STOPWORDS = frozenset({"a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "with"})
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Hit:
    id: str
    name: str
    tier: int  # EXACT, WORDS or FUZZY
    score: float  # 0..1 within the tier
    matched: str  # the text that matched best


def words(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text.casefold()) if w not in _STOPWORDS]


def stem(word: str) -> str:
    """Fold plain English plurals, so 'retries' meets 'retry' and 'caches' meets 'cache'."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def similarity(a: str, b: str) -> float:
    matcher = SequenceMatcher(None, a, b)
    if matcher.real_quick_ratio() < FUZZY_CUTOFF or matcher.quick_ratio() < FUZZY_CUTOFF:
        return 0.0
    return matcher.ratio()


def score(pattern: Pattern, query: str) -> Hit | None:
    """How well `pattern` answers `query`, or None when it does not at all."""
    titles = [pattern.id, pattern.name, *pattern.aliases]
    key = normalize_key(query)
    exact = next((t for t in titles if normalize_key(t) == key), None)
    if exact is not None:
        return Hit(pattern.id, pattern.name, EXACT, 1.0, exact)
    wanted = words(query)
    if not wanted:
        return None
    title_words = {w for t in titles for w in words(t)}
    summary_words = set(words(pattern.summary))
    closest, closeness = max(
        ((t, SequenceMatcher(None, key, normalize_key(t)).ratio()) for t in titles),
        key=lambda pair: pair[1],
    )
    if all(w in title_words or w in summary_words for w in wanted):
        in_title = sum(w in title_words for w in wanted) / len(wanted)
        # Words in a title beat words in a summary; a title close to the whole query wins ties.
        return Hit(pattern.id, pattern.name, WORDS, 0.8 * in_title + 0.2 * closeness, closest)
    per_word = [max((similarity(w, t) for t in title_words), default=0.0) for w in wanted]
    # Word-by-word matching ignores the title's extra words, so it counts a little less.
    fuzzy = max(0.9 * sum(per_word) / len(per_word), closeness)
    if fuzzy < FUZZY_CUTOFF:
        return None
    return Hit(pattern.id, pattern.name, FUZZY, fuzzy, closest)


def search(catalog: Catalog, query: str, limit: int = 10) -> list[Hit]:
    """Best hits first: higher tier, then higher score, then id."""
    hits = [hit for p in catalog if (hit := score(p, query)) is not None]
    hits.sort(key=lambda h: (-h.tier, -h.score, h.id))
    return hits[:limit]

