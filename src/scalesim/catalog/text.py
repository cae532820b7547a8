"""Words for retrieval: tokens, English stems (Snowball), stop words, and synonyms.

Everything that is compared, catalog text and queries alike, goes through `terms`, so
'retries', 'retry' and 'retrying' meet, and so do 'timeouts' and 'timeout'. Synonyms
(synonyms.yaml) are matched on stems, phrases included ('times out' -> 'timeout')."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import snowballstemmer
from pydantic import TypeAdapter

from scalesim.catalog.loader import packaged_root, read_yaml

_WORD = re.compile(r"[a-z0-9]+(?:'t)?")
STOPWORDS = frozenset({
    "every", "always", "often", "sometimes", "still", "even", "really", "us", "lot", "lots",
    "many", "much", "something", "anything", "whenever", "also",
    "a", "about", "after", "again", "all", "am", "an", "and", "any", "are", "as", "at",
    "be", "because", "been", "before", "being", "between", "both", "but", "by", "can", "could",
    "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further",
    "had", "has", "have", "having", "how", "i", "if", "in", "into", "is", "it", "its", "itself",
    "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on",
    "once", "only", "or", "other", "our", "ours", "out", "over", "own", "same", "should", "so",
    "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they",
    "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were",
    "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would",
    "you", "your", "yours", "pattern", "patterns", "use", "using", "want", "need", "needs",
    "help", "way", "ways", "thing", "things", "get", "gets", "keep", "keeps",
    "heavy",
})
# 'heavy' only qualifies the word before it ('read-heavy', 'write-heavy'), which carries the
# meaning; alone it matched anti-patterns about heavy operations. 'heavy load' still means
# overload through synonyms.yaml.
# 'down', 'out' and 'under' are stop words alone but carry meaning in phrases ('goes down',
# 'times out', 'under load'): synonyms match phrases before stop words are dropped.

HALF = 0.5  # weight of a term added beside a one-word variant


@functools.cache
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """One word's stem, remembered: the catalog repeats its words many times over."""
    return str(_stemmer().stemWord(word))


def stems(text: str) -> list[str]:
    """Every word of `text`, lowercased and stemmed, stop words kept."""
    return [stem(word) for word in _WORD.findall(text.casefold())]


def terms(text: str) -> list[str]:
    """The comparable terms of `text`: stems without stop words."""
    stop = _stop_stems()
    return [s for s in stems(text) if s not in stop]


@functools.cache
def _stop_stems() -> frozenset[str]:
    return frozenset(stem(word) for word in STOPWORDS)


@functools.cache
def synonyms() -> tuple[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]], ...]:
    """(term stems, its variants' stems), longest variants first."""
    raw = TypeAdapter(dict[str, list[str]]).validate_python(
        read_yaml(packaged_root("synonyms.yaml")))
    return tuple((tuple(terms(term)), tuple(sorted((tuple(stems(v)) for v in variants),
                                                   key=len, reverse=True)))
                 for term, variants in raw.items())


@dataclass(frozen=True)
class Expansion:
    """A query as weighted terms, and for each added term the query words that brought it."""

    weights: dict[str, float]
    because: dict[str, str]


def expand(query: str) -> Expansion:
    """The query's own terms (weight 1); a phrase variant brings its term at weight 1 and its
    own words drop to HALF; a one-word variant brings its term's words at HALF."""
    words = stems(query)
    consumed: set[int] = set()
    added: dict[str, tuple[float, str]] = {}
    for term, variants in synonyms():
        for variant in variants:
            at = _find(words, variant)
            if at is None:
                continue
            weight = 1.0 if len(variant) > 1 else HALF
            if len(variant) > 1:
                consumed.update(range(at, at + len(variant)))
            for t in term:
                if added.get(t, (0.0, ""))[0] < weight:
                    added[t] = (weight, " ".join(variant))
            break
    stop = _stop_stems()
    weights: dict[str, float] = {}
    for n, word in enumerate(words):
        if word not in stop:
            weights[word] = max(weights.get(word, 0.0), HALF if n in consumed else 1.0)
    because: dict[str, str] = {}
    for t, (weight, phrase) in added.items():
        if weights.get(t, 0.0) < weight:
            weights[t] = weight
            because[t] = phrase
    return Expansion(weights, because)


def _find(words: list[str], phrase: tuple[str, ...]) -> int | None:
    n = len(phrase)
    return next((i for i in range(len(words) - n + 1) if tuple(words[i:i + n]) == phrase), None)
