"""Words for retrieval: tokens, English stems (Snowball), stop words, synonyms, negation.

Everything that is compared, catalog text and queries alike, goes through `terms`, so
'retries', 'retry' and 'retrying' meet, and so do 'timeouts' and 'timeout'. Synonyms
(synonyms.yaml) are matched on stems, phrases included ('times out' -> 'timeout'). A word
inside a recognised phrase means the phrase: it is no negative cue and negates nothing
('reads are 10x writes', 'without downtime'), and each such phrase is also one token of
its own, in the catalog's text and in queries ('at least once' is not 'least');
`expand` also gives what a query negates."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import snowballstemmer
from pydantic import TypeAdapter

from scalesim.catalog.loader import packaged_root, read_yaml

# A word has a letter: '2pc', 'p99', 'l7' and 'base64' are names, while a bare number ('100'
# of '100%', '5' of '5 services') says nothing about which pattern fits and only matched the
# catalog's own figures by chance.
_WORD = re.compile(r"[a-z0-9]*[a-z][a-z0-9]*(?:'t)?")
# A multiplier ('100x', '10×', '3 times') becomes the word 'x', a stop word kept for phrases,
# so 'reads are 100x writes' meets the variant 'reads are 10x writes' whatever the number.
_MULTIPLIER = re.compile(r"\b\d+(?:\.\d+)?\s*(?:x|×|times)\b")
# A share of half or more ('90%', '99.9 %') becomes the word 'most', a stop word kept for
# phrases as 'x' is: 'the database is at 90% CPU' says its CPU is high, '90% reads' that it
# reads mostly. A smaller share says nothing a phrase needs and stays a bare number.
_HIGH_SHARE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*%")
HIGH_SHARE = 50.0
# Where a clause ends: punctuation, or a conjunction that starts a new one. A negation
# reaches to the end of its clause ('without 2PC, but fast': 'fast' is not negated).
_CLAUSE_END = re.compile(r"[,.;:!?()]|\b(?:and|but|while|because|although|though|yet|so)\b")
# Words that negate what follows them in their clause; a word ending in n't ('don't') too.
NEGATIONS = frozenset({"no", "not", "never", "without", "avoid", "cannot", "instead", "rather"})
STOPWORDS = frozenset({
    "every", "always", "often", "sometimes", "still", "even", "really", "us", "lot", "lots",
    "many", "much", "something", "anything", "everything", "whenever", "also",
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
    "heavy", "x", "cannot", "prevent", "ensure", "solve", "fix", "bad", "fine", "good",
    "worse", "worst", "better", "make",
})
# The nouns among the stop words: a description says them about anything ('which pattern
# fits'), while inside a catalog name they name something ('Pattern Overload' is too many
# patterns, not an overload), so a name keeps them (`name_words`).
NAME_NOUNS = frozenset({"pattern", "way", "thing", "lot"})
# 'prevent', 'ensure', 'solve' and 'fix' say that the reader wants something done, not what:
# alone they matched whichever patterns happen to use the verb ('prevent a thundering herd'
# led to split-brain resolution). A negation (NEGATIONS, 'don't') is no term either
# (`terms`); it still negates.
# 'bad', 'fine' and 'good' judge what follows without naming it ('p99 is bad while the median
# is fine' is about the tail): alone they matched a governor's 'bad commands' and
# backpressure's 'fine-grained'.
# 'heavy' only qualifies the word before it ('read-heavy', 'write-heavy'), which carries the
# meaning; alone it matched anti-patterns about heavy operations. 'heavy load' still means
# overload through synonyms.yaml.
# 'down', 'out' and 'under' are stop words alone but carry meaning in phrases ('goes down',
# 'times out', 'under load'): synonyms match phrases before stop words are dropped.

# Irregular verb forms (and the noun 'loss'), which a suffix-stripping stemmer cannot join to
# their verb: 'lost' and 'lose' must meet as 'retries' and 'retry' do. Forms that are also
# common words of another sense ('left', 'bound', 'lay') are left out.
IRREGULAR = {
    "lost": "lose", "wrote": "write", "written": "write", "rewrote": "rewrite",
    "rewritten": "rewrite", "overwrote": "overwrite", "overwritten": "overwrite",
    "ran": "run", "broke": "break", "broken": "break", "fell": "fall", "fallen": "fall",
    "went": "go", "gone": "go", "took": "take", "taken": "take", "sent": "send",
    "held": "hold", "kept": "keep", "spent": "spend", "made": "make", "found": "find",
    "threw": "throw", "thrown": "throw", "grew": "grow", "grown": "grow",
    "brought": "bring", "caught": "catch", "bought": "buy", "sold": "sell", "told": "tell",
    "gave": "give", "given": "give", "got": "get", "gotten": "get", "began": "begin",
    "begun": "begin", "chose": "choose", "chosen": "choose", "froze": "freeze",
    "frozen": "freeze", "knew": "know", "known": "know", "led": "lead", "meant": "mean",
    "paid": "pay", "saw": "see", "seen": "see", "stole": "steal", "stolen": "steal",
    "thought": "think", "understood": "understand", "sought": "seek", "stuck": "stick",
    "fought": "fight", "flew": "fly", "flown": "fly", "forgot": "forget",
    "forgotten": "forget", "hid": "hide", "hidden": "hide", "shook": "shake",
    "shaken": "shake", "hung": "hang", "undid": "undo", "undone": "undo", "loss": "lose",
}

HALF = 0.5  # weight of a term added beside a one-word variant


@functools.cache
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """One word's stem, remembered: the catalog repeats its words many times over. An
    irregular form is first read as its verb (IRREGULAR). Snowball leaves a verb in -ify
    apart from its noun in -ification ('amplifi', 'amplif'): the verb's stem loses its
    last letter, so 'retries amplify' meets the retry storm's 'retry amplification'."""
    found = str(_stemmer().stemWord(IRREGULAR.get(word, word)))
    return found[:-1] if found.endswith("ifi") else found


def stems(text: str) -> list[str]:
    """Every word of `text`, lowercased and stemmed, stop words kept."""
    return [stem(word) for word in _WORD.findall(_normal(text))]


def _normal(text: str) -> str:
    text = _HIGH_SHARE.sub(_share, text.casefold())
    return _MULTIPLIER.sub(" x ", text)


def _share(match: re.Match[str]) -> str:
    return " most " if float(match.group(1)) >= HIGH_SHARE else match.group(0)


def clauses(text: str) -> list[int]:
    """For each of `stems(text)`, the number of its clause (see _CLAUSE_END)."""
    normal = _normal(text)
    ends = [match.start() for match in _CLAUSE_END.finditer(normal)]
    return [sum(end <= word.start() for end in ends) for word in _WORD.finditer(normal)]


def terms(text: str) -> list[str]:
    """The comparable terms of `text`: stems without stop words."""
    return [s for s in stems(text) if not _stopped(s)]


def name_words(name: str) -> list[str]:
    """The words of a catalog name: its terms, and the nouns among its stop words
    (NAME_NOUNS: 'Pattern Overload' is two words)."""
    return [word for word in stems(name) if word in NAME_NOUNS or not _stopped(word)]


def _stopped(word: str) -> bool:
    """Whether a stem carries no meaning of its own: a stop word or a negation (they say
    what is not wanted, not what is)."""
    return word in _stop_stems() or word in NEGATIONS or word.endswith("n't")


@functools.cache
def _stop_stems() -> frozenset[str]:
    return frozenset(stem(word) for word in STOPWORDS)


@functools.cache
def _synonym_table() -> dict[str, list[str]]:
    return TypeAdapter(dict[str, list[str]]).validate_python(
        read_yaml(packaged_root("synonyms.yaml")))


@functools.cache
def synonyms() -> tuple[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]], ...]:
    """(term stems, its variants' stems), longest variants first."""
    return tuple((tuple(terms(term)), tuple(sorted((tuple(stems(v)) for v in variants),
                                                   key=len, reverse=True)))
                 for term, variants in _synonym_table().items())


@functools.cache
def _phrase_texts() -> dict[tuple[str, ...], str]:
    """Every phrase of several words in synonyms.yaml, terms and variants, as stems with stop
    words kept, and its shortest wording there ('hot partition' for 'hot partitions')."""
    found: dict[tuple[str, ...], str] = {}
    for term, variants in _synonym_table().items():
        for text in sorted([term, *variants], key=len):
            phrase = tuple(stems(text))
            if len(phrase) > 1:
                found.setdefault(phrase, text)
    return found


@functools.cache
def phrases() -> tuple[tuple[str, ...], ...]:
    """The recognised phrases: said whole, a phrase is matched as one token (`phrase_token`),
    so 'at least once' (all stop words but 'least') is not the 'least' of 'least
    privilege'."""
    return tuple(sorted(_phrase_texts()))


def phrase_token(phrase: tuple[str, ...]) -> str:
    """A phrase as one index token, in its words and quoted, so it is never taken for one."""
    return f'"{_phrase_texts()[phrase]}"'


def is_phrase(term: str) -> bool:
    return term.startswith('"')


def phrase_tokens(words: list[str]) -> list[str]:
    """One token per occurrence of a recognised phrase in `words` (stems, stop words kept)."""
    starting = _phrases_by_first_word()
    return [phrase_token(phrase) for at, word in enumerate(words)
            for phrase in starting.get(word, ()) if tuple(words[at:at + len(phrase)]) == phrase]


@functools.cache
def _phrases_by_first_word() -> dict[str, list[tuple[str, ...]]]:
    """The phrases by their first word: the catalog's text is scanned once, not per phrase."""
    found: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases():
        found.setdefault(phrase[0], []).append(phrase)
    return found


@dataclass(frozen=True)
class Expansion:
    """A query as weighted terms, and for each added term the query words that brought it.

    `recognised` holds every synonym term whose variant the query says, and `negated` the
    query's own words inside a negation ('without distributed transactions'), stop words
    kept. `runs` are the stretches of the query's stems outside every phrase variant: a
    word inside a phrase means the phrase ('writes' in 'reads are 10x writes' is not about
    write load, 'no' in 'no downtime' negates nothing). `phrased` are the query's words it
    says only inside phrase variants ('doubl' and 'charg' of 'must not double-charge')."""

    weights: dict[str, float]
    because: dict[str, str]
    recognised: frozenset[tuple[str, ...]]
    negated: tuple[str, ...]
    runs: tuple[tuple[str, ...], ...]
    phrased: frozenset[str] = frozenset()
    said: frozenset[str] = frozenset()
    """Every stem of the query, stop words included: whether it says a name whole."""


def expand(query: str, names: Iterable[tuple[str, ...]] = ()) -> Expansion:
    """The query's own terms (weight 1); a phrase variant brings its term at weight 1 and its
    own words drop to HALF; a one-word variant brings its term's words at HALF. A recognised
    phrase (`phrases`) also stands for itself, as one token at weight 1. `names`
    (stems) are phrases too, for negation only: 'no' in a name ('no caching') negates
    nothing."""
    words = stems(query)
    consumed: set[int] = set()
    for name in names:
        at = find(words, name)
        if at is not None:
            consumed.update(range(at, at + len(name)))
    added: dict[str, tuple[float, str]] = {}
    recognised: set[tuple[str, ...]] = set()
    phrased: set[int] = set()
    for term, variants in synonyms():
        for variant in variants:
            at = find(words, variant)
            if at is None:
                continue
            recognised.add(term)
            weight = 1.0 if len(variant) > 1 else HALF
            if len(variant) > 1:
                phrased.update(range(at, at + len(variant)))
            for t in term:
                if added.get(t, (0.0, ""))[0] < weight:
                    added[t] = (weight, " ".join(variant))
            break
    for said in phrases():
        at = find(words, said)
        if at is not None:  # its words mean the phrase, as a phrase variant's do
            added[phrase_token(said)] = (1.0, " ".join(said))
            phrased.update(range(at, at + len(said)))
    consumed |= phrased
    weights: dict[str, float] = {}
    for n, word in enumerate(words):
        if not _stopped(word):
            weights[word] = max(weights.get(word, 0.0), HALF if n in consumed else 1.0)
    because: dict[str, str] = {}
    for t, (weight, phrase) in added.items():
        if weights.get(t, 0.0) < weight:
            weights[t] = weight
            because[t] = phrase
    apart = {word for n, word in enumerate(words) if n not in phrased}
    return Expansion(weights, because, frozenset(recognised),
                     _negated(words, clauses(query), consumed), _runs(words, consumed),
                     frozenset(words[n] for n in phrased) - apart, frozenset(words))


def _negated(words: list[str], clause: list[int], consumed: set[int]) -> tuple[str, ...]:
    """The words (stems, stop words kept) that follow a negation in its clause, outside
    phrases, in order: what the description says it does not want ('avoid two-phase
    commit'). Stop words stay so that a name is matched whole: 'write-through' is not
    'write'. A later negation in the same clause adds nothing new."""
    found: set[int] = set()
    for n, word in enumerate(words):
        if n not in consumed and (word in NEGATIONS or word.endswith("n't")):
            found.update(m for m in range(n + 1, len(words))
                         if clause[m] == clause[n] and m not in consumed)
    return tuple(words[m] for m in sorted(found))


def _runs(words: list[str], consumed: set[int]) -> tuple[tuple[str, ...], ...]:
    runs: list[list[str]] = [[]]
    for n, word in enumerate(words):
        if n in consumed:
            runs.append([])
        else:
            runs[-1].append(word)
    return tuple(tuple(run) for run in runs if run)


def find(words: list[str], phrase: tuple[str, ...]) -> int | None:
    """Where `phrase` first stands whole in `words`, or None."""
    n = len(phrase)
    return next((i for i in range(len(words) - n + 1) if tuple(words[i:i + n]) == phrase), None)
