"""Search by meaning within the catalog: exact names first, then ranked retrieval (BM25 over
stemmed, synonym-expanded terms of names, aliases, summaries and problems), then near misses.

Tiers, best first and numbered 1, 2, 3 as docs/catalog.md and `--json` give them: EXACT when
the query (less filler words such as 'pattern') is an id, name or alias; WORDS for ranked
matches of the query as written; FUZZY for matches that needed a typo corrected, and for
titles merely similar to the query. A query of filler words alone finds only a name.

A query that describes a problem often matches the anti-pattern that names it: each such
anti-pattern lends part of its score (`FIX_SHARE`) to the patterns that fix it, so 'retries
make every outage worse' finds the circuit breaker as well as the retry storm."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from scalesim.catalog.collection import Catalog, normalize_key
from scalesim.catalog.model import Pattern
from scalesim.catalog.retrieval import FIX_SHARE, Scored, index, names_and_problems
from scalesim.catalog.text import STOPWORDS, expand, terms

EXACT, WORDS, FUZZY = 1, 2, 3  # tiers, best first
FUZZY_CUTOFF = 0.6
FIXES = "fixes "  # how a hit's `matched` names an anti-pattern that lent it its score


@dataclass(frozen=True)
class Hit:
    id: str
    name: str
    tier: int  # EXACT, WORDS or FUZZY
    score: float  # 0..1 within the tier
    matched: str  # the title, or the terms, that matched
    related: bool = False
    """Matched no query word of its own, only through an anti-pattern it fixes (`with_fixes`:
    'saga' reaches Distributed Tracing as a fix of Pattern Overload, which mentions sagas):
    related to the query rather than a match of it."""


def titles(pattern: Pattern) -> list[str]:
    return [pattern.id, pattern.name, *pattern.aliases]


def exact(catalog: Catalog, query: str) -> Hit | None:
    """The pattern the query names, with or without filler words around the name."""
    keys = {normalize_key(query),
            normalize_key(" ".join(w for w in query.split() if w.casefold() not in STOPWORDS))}
    for pattern in catalog:
        title = next((t for t in titles(pattern) if normalize_key(t) in keys), None)
        if title is not None:
            return Hit(pattern.id, pattern.name, EXACT, 1.0, title)
    return None


def similar_titles(catalog: Catalog, query: str) -> list[Hit]:
    """Patterns whose id, name or alias resembles the whole query (difflib ratio)."""
    key = normalize_key(query)
    hits = []
    for pattern in catalog:
        ratio, title = max((SequenceMatcher(None, key, normalize_key(t)).ratio(), t)
                           for t in titles(pattern))
        if ratio >= FUZZY_CUTOFF:
            hits.append(Hit(pattern.id, pattern.name, FUZZY, ratio, title))
    return hits


def with_fixes(catalog: Catalog, ranked: list[Scored]) -> list[Scored]:
    """`ranked` with each matched anti-pattern's fixes credited FIX_SHARE of its score, best
    first; a fix that matched no query word says which anti-pattern brought it."""
    own = {hit.id: hit.score for hit in ranked}
    scores = dict(own)
    matched = {hit.id: list(hit.matched) for hit in ranked}
    for hit in ranked:
        symptoms = catalog[hit.id].anti_pattern
        for fix in symptoms.fixed_by if symptoms is not None else []:
            lent = own.get(fix, 0.0) + FIX_SHARE * hit.score
            if fix in catalog and lent > scores.get(fix, 0.0):
                scores[fix] = lent
                matched[fix] = [*matched.get(fix, []), f"{FIXES}{hit.id}"]
    order = sorted(scores, key=lambda pid: (-round(scores[pid], 9), pid))
    return [Scored(pid, scores[pid], matched[pid]) for pid in order]


def search(catalog: Catalog, query: str, limit: int = 10) -> list[Hit]:
    """Best hits first: higher tier, then higher score, then id."""
    found: dict[str, Hit] = {}

    def keep(hit: Hit) -> None:
        if hit.id not in found or (-hit.tier, hit.score) > (-found[hit.id].tier,
                                                            found[hit.id].score):
            found[hit.id] = hit

    named = exact(catalog, query)
    if named is not None:
        keep(named)
    if not terms(query):  # only filler words ('the pattern'): anything resembles them
        return list(found.values())
    engine = index(catalog, names_and_problems)
    ranked = with_fixes(catalog, engine.rank(query))
    typo = any(engine.correct(term) not in (term, None) for term in expand(query).weights)
    best = ranked[0].score if ranked else 1.0
    for scored in ranked:
        keep(Hit(scored.id, catalog[scored.id].name, FUZZY if typo else WORDS,
                 scored.score / best, ", ".join(scored.matched),
                 related=all(part.startswith(FIXES) for part in scored.matched)))
    for hit in similar_titles(catalog, query):
        keep(hit)
    hits = sorted(found.values(), key=lambda h: (h.tier, -h.score, h.id))
    return hits[:limit]
