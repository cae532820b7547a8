"""`scalesim advise "free text"`: a description of a problem mapped onto the catalog.

Offline and deterministic: the description is ranked against every pattern (BM25 over names,
summaries, problems, when to use it and, for anti-patterns, symptoms and causes; see
`retrieval`). Anti-patterns that match are the diagnosis, and lend part of their score to the
patterns that fix them. The problem families of the best matches place the description in the
problem matrix, and the decision trees that recommend the suggested patterns ask the
questions that would refine the answer."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field

from scalesim.catalog import cues
from scalesim.catalog.collection import Catalog
from scalesim.catalog.decision import DecisionTree
from scalesim.catalog.model import Maturity, Pattern
from scalesim.catalog.retrieval import FIX_SHARE, Scored, everything, index, names
from scalesim.catalog.text import NEGATIONS, Expansion, expand, find, stems, terms
from scalesim.catalog.views import FAMILIES

SUGGESTIONS = 5
DIAGNOSES = 3
DIAGNOSIS_SHARE = 0.4  # an anti-pattern is named only when it matches this well (best = 1)
PRIOR = {Maturity.ESTABLISHED: 1.0, Maturity.EMERGING: 0.9, Maturity.NICHE: 0.8}
CANDIDATES = 60  # best matches considered before re-ranking
ALTERNATIVE_SHARE = 0.3  # of the best match's score lent to each of its alternatives
TREE_WORD = 3.0  # how much a description term found in a tree's own text counts


def tree_terms(tree: DecisionTree) -> list[str]:
    texts = [tree.title, tree.summary]
    for question in tree.question.walk():
        texts.append(question.text)
        texts += [choice.label for choice in question.choices.values()]
    return terms(" ".join(texts))


@dataclass(frozen=True)
class Suggestion:
    id: str
    name: str
    score: float  # 1 for the best suggestion
    summary: str
    why: list[str]


@dataclass(frozen=True)
class Diagnosis:
    id: str
    name: str
    score: float
    symptom: str  # its first symptom, to check against what the reader sees
    fixed_by: list[str]


@dataclass(frozen=True)
class Refinement:
    tree: str
    title: str
    key: str
    question: str
    choices: dict[str, str]  # value -> label

    @property
    def command(self) -> str:
        return f"scalesim advise --tree {self.tree} --answer {self.key}=VALUE"


@dataclass(frozen=True)
class TextAdvice:
    text: str
    terms: dict[str, float]  # what was searched for, synonyms included, with weights
    synonyms: dict[str, str]  # a term the query did not say -> the words that brought it
    families: dict[str, float]  # problem family -> share of the best matches' weight
    diagnoses: list[Diagnosis]
    suggestions: list[Suggestion]
    questions: list[Refinement] = field(default_factory=list)
    ruled_out: list[str] = field(default_factory=list)  # ids the description's words negate

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["questions"] = [{**asdict(q), "command": q.command} for q in self.questions]
        return data


def advise_text(catalog: Catalog, trees: dict[str, DecisionTree], text: str,
                limit: int = SUGGESTIONS) -> TextAdvice:
    ranked = index(catalog, everything).rank(text, CANDIDATES)
    expansion = expand(text, negating_names(catalog))
    unwanted = rejected(catalog, expansion.negated)
    ranked = [hit for hit in ranked if not only_rejected(catalog, hit, unwanted)]
    ruled_out = sorted(unwanted)
    if not ranked:
        return TextAdvice(text, expansion.weights, expansion.because, {}, [], [], [],
                          ruled_out)
    ranked = with_cues(catalog, ranked, expansion, own_words(catalog, text))
    top = ranked[0].score
    scores: dict[str, float] = {}
    why: dict[str, list[str]] = {}
    shares: dict[str, float] = {}
    fixes: dict[str, list[str]] = {}
    named = said_names(catalog, text)
    for hit in ranked:
        pattern = catalog[hit.id]
        share = hit.score / top * PRIOR[pattern.maturity]
        if pattern.anti_pattern is not None:
            # an anti-pattern the description names whole is what it describes
            share = max(share, 1.0) if hit.id in named else share
            shares[hit.id] = share
            for fix in pattern.anti_pattern.fixed_by:
                # a diagnosis does not lift a fix the description speaks against (a cache
                # for a busy database whose load is writes)
                lent = FIX_SHARE * share * cues.NEGATIVE ** cues.negatives(fix, expansion)
                scores[fix] = scores.get(fix, 0.0) + lent
                fixes.setdefault(fix, []).append(hit.id)
            continue
        scores[hit.id] = scores.get(hit.id, 0.0) + share
        why[hit.id] = ["matches " + ", ".join(f"'{term}'" for term in hit.matched)]
    diagnoses = diagnosed(catalog, shares, named)
    hand_over(catalog, scores, why, unwanted)
    lend_to_alternatives(catalog, scores, why, unwanted)
    order = sorted(scores, key=lambda pid: (-scores[pid], pid))[:limit]
    best = scores[order[0]] if order else 1.0
    for pid in order:
        if pid in fixes:
            why.setdefault(pid, []).append("fixes " + ", ".join(fixes[pid][:3]))
    suggestions = [Suggestion(pid, catalog[pid].name, round(scores[pid] / best, 3),
                              catalog[pid].summary, why[pid]) for pid in order]
    return TextAdvice(text, expansion.weights, expansion.because, families(catalog, ranked[:10]),
                      diagnoses, suggestions,
                      refinements(trees, [s.id for s in suggestions], expansion.weights),
                      ruled_out)


def diagnosed(catalog: Catalog, shares: dict[str, float], named: set[str]) -> list[Diagnosis]:
    """The first DIAGNOSES anti-patterns (in `shares`' order, those the description names
    first) with a share of DIAGNOSIS_SHARE or more."""
    order = sorted((pid for pid, share in shares.items() if share >= DIAGNOSIS_SHARE),
                   key=lambda pid: pid not in named)[:DIAGNOSES]
    return [Diagnosis(pid, catalog[pid].name, round(shares[pid], 3),
                      anti.symptoms[0], list(anti.fixed_by))
            for pid in order if (anti := catalog[pid].anti_pattern) is not None]


def said_names(catalog: Catalog, text: str) -> set[str]:
    """The anti-patterns whose name or alias stands whole in the description ('a thundering
    herd of retries' names the dogpile). Stop words count: 'overload' alone does not name
    pattern overload."""
    words = stems(text)
    return {p.id for p in catalog if p.anti_pattern is not None
            for name in spelled_names(p) if find(words, name) is not None}


def spelled_names(pattern: Pattern) -> list[tuple[str, ...]]:
    """The pattern's name, aliases and id as stems with their stop words: whole names,
    where `names` (terms) reduces 'write-through' to 'write'."""
    return [tuple(stems(name)) for name in [pattern.name, *pattern.aliases,
                                            pattern.id.replace("-", " ")]]


def only_rejected(catalog: Catalog, hit: Scored, unwanted: set[str]) -> bool:
    """Whether a hit matched nothing but the words of the patterns the description rejects:
    'no service mesh' names the mesh, it does not ask for a data mesh."""
    if hit.id in unwanted or not unwanted:
        return False
    away = {word for pid in unwanted for name in names(catalog[pid]) for word in name}
    return set(hit.matched) <= away


def alternatives(catalog: Catalog, pid: str) -> list[str]:
    """What solves the same problem differently, declared on either side."""
    found = list(catalog[pid].relations.alternative_to)
    found += [p.id for p in catalog if pid in p.relations.alternative_to and p.id not in found]
    return found


def lend_to_alternatives(catalog: Catalog, scores: dict[str, float],
                         why: dict[str, list[str]], unwanted: set[str]) -> None:
    """The best match lends ALTERNATIVE_SHARE of its score to each of its alternatives but
    the `unwanted` (rejected) ones: a description that fits one way of solving a problem
    fits the others too (zero-downtime deploys: blue-green, and canary releases)."""
    if not scores:
        return
    best = min(scores, key=lambda pid: (-scores[pid], pid))
    for other in alternatives(catalog, best):
        if catalog[other].anti_pattern is None and other not in unwanted:
            scores[other] = scores.get(other, 0.0) + ALTERNATIVE_SHARE * scores[best]
            why.setdefault(other, []).append(f"alternative to {best}")


@functools.cache
def negating_names(catalog: Catalog) -> tuple[tuple[str, ...], ...]:
    """Names that contain a negation ('No Caching', 'never trust, always verify'), as stems:
    said in a description they are names, not negations."""
    found = {tuple(stems(name)) for pattern in catalog
             for name in [pattern.name, *pattern.aliases]}
    return tuple(sorted(name for name in found
                        if any(word in NEGATIONS or word.endswith("n't") for word in name)))


def rejected(catalog: Catalog, negated: tuple[str, ...]) -> set[str]:
    """The patterns a description says it does not want: a name of theirs (name, alias or
    id, stop words included) stands whole in a negation, and no longer name there contains
    it ('no message broker' rejects the message broker, not messaging, whose alias is
    'messaging').
    Anti-patterns are never rejected: not wanting one is the problem it describes."""
    words = list(negated)
    found = [(at, at + len(name), pattern.id) for pattern in catalog
             if pattern.anti_pattern is None for name in spelled_names(pattern)
             if name and (at := find(words, name)) is not None]
    return {pid for start, end, pid in found
            if not any(s <= start and end <= e and e - s > end - start for s, e, _ in found)}


def hand_over(catalog: Catalog, scores: dict[str, float], why: dict[str, list[str]],
              unwanted: set[str]) -> None:
    """A pattern the description rejects is not suggested, and hands its score to its
    alternatives: whoever says 'without distributed transactions' asks for what solves
    the same problem another way (a saga instead of two-phase commit). The alternatives
    its own file names take all of it, those that name it as theirs ALTERNATIVE_SHARE."""
    for pid in sorted(unwanted):
        score = scores.pop(pid, 0.0)
        why.pop(pid, None)
        own = catalog[pid].relations.alternative_to
        for other in alternatives(catalog, pid):
            if other not in unwanted and catalog[other].anti_pattern is None:
                share = 1.0 if other in own else ALTERNATIVE_SHARE
                scores[other] = scores.get(other, 0.0) + share * score
                why.setdefault(other, []).append(f"instead of {pid}")


def own_words(catalog: Catalog, text: str) -> dict[str, float]:
    """The description's own terms as the index knows them (typos corrected), in order, each
    with its idf."""
    known = index(catalog, everything)
    said = terms(text)
    found = [known.meaning(term, said) for term in said]
    return {term: known.idf(term) for term in found if term is not None}


def with_cues(catalog: Catalog, ranked: list[Scored], expansion: Expansion,
              own: dict[str, float]) -> list[Scored]:
    """The hits rescored by `cues.factor` (coverage, negative cues, domain) and re-sorted."""
    rescored = [Scored(hit.id, hit.score * cues.factor(catalog[hit.id], expansion, own,
                                                       hit.matched), hit.matched)
                for hit in ranked]
    return sorted(rescored, key=lambda hit: (-round(hit.score, 9), hit.id))


def families(catalog: Catalog, ranked: list[Scored]) -> dict[str, float]:
    """Share of the best matches' scores falling in each problem family (by any problem)."""
    found: dict[str, float] = {}
    for hit in ranked:
        problems = set(catalog[hit.id].problems)
        for family, members in FAMILIES.items():
            if problems & set(members):
                found[family] = found.get(family, 0.0) + hit.score
    total = sum(found.values()) or 1.0
    return {f: round(v / total, 3) for f, v in sorted(found.items(), key=lambda kv: -kv[1])}


def refinements(trees: dict[str, DecisionTree], suggested: list[str],
                terms: dict[str, float], count: int = 2) -> list[Refinement]:
    """The first question of the trees that recommend most of the suggestions (earlier
    suggestions count more) and whose own words (title, summary, questions, answers) share
    most of the description's terms, best first."""
    weight = {pid: len(suggested) - n for n, pid in enumerate(suggested)}

    def score(tree: DecisionTree) -> float:
        words = set(tree_terms(tree))
        shared = sum(w for term, w in terms.items() if term in words)
        return sum(weight.get(pid, 0) for pid in tree.recommended_ids()) + TREE_WORD * shared

    ranked = sorted(((score(tree), tree_id) for tree_id, tree in trees.items()),
                    key=lambda pair: (-pair[0], pair[1]))
    chosen = [trees[tree_id] for score, tree_id in ranked if score > 0][:count]
    return [Refinement(t.id, t.title, t.question.key, t.question.text,
                       {value: choice.label for value, choice in t.question.choices.items()})
            for t in chosen]
