"""Tokens, numbers and names in English news text: the shared vocabulary of lexical search and scoring."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from itertools import pairwise

import Stemmer

STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does done for from had has have he her his how i if
    in into is it its me more most my no nor not of on or our she should so some such than that the their them
    then there these they this those to too us was we were what when where which while who whom whose why will
    with would you your about after also any both each other own same just only over under again further once
    all few many much very s t""".split()
)
QUESTION_WORDS = frozenset("what when where which who whom whose why how".split())
# Letters of any script ("Lübeck", "Holmøy") and digits; not the underscore \w also allows.
_WORD = re.compile(r"[^\W_]+(?:[’'\-.,][^\W_]+)*")
_PLAIN_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """Runs of letters and digits, any script: "Lübeck's 12th-century" -> ["Lübeck", "s", "12th", "century"]."""
    return _PLAIN_WORD.findall(text)


# Words that scale a number before its unit: "240 million kroner".
MAGNITUDES = ("hundred", "thousand", "million", "billion", "trillion")
_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "thousand": 1000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
    "dozen": 12,
    "decade": 10,
}
_NUMBER_WORD = "|".join(sorted(_UNITS, key=len, reverse=True))
# A number expression: digits or a number word, optionally fused with "fold" or followed by "times"/"-fold".
_NUMBER = re.compile(
    rf"\b(?P<num>\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?|(?:{_NUMBER_WORD})(?:[- ](?:{_NUMBER_WORD}))*)"
    rf"(?P<fold>-?fold\b| times\b|-times\b)?(?P<pct>%| percent\b)?",
    re.IGNORECASE,
)
_ORDINALS = {w: i for i, w in enumerate("first second third fourth fifth sixth seventh eighth ninth tenth".split(), 1)}
# Ordinals keep a hyphenated tail ("second-largest") so a correction can quote the whole phrase.
_ORDINAL = re.compile(rf"\b({'|'.join(_ORDINALS)})(-[a-z]+)?\b", re.IGNORECASE)
_MONTHS = "january february march april may june july august september october november december".split()
WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"  # a regex alternation
CALENDAR_WORDS = WEEKDAYS + "|" + "|".join(_MONTHS)
# A weekday or month name: capitalised like a name, but never the name of a party, person or place.
CALENDAR_NAME = re.compile(rf"^({CALENDAR_WORDS})$", re.IGNORECASE)


def bare(word: str) -> str:
    """A word without its possessive: "Korea’s" -> "Korea"."""
    return word.split("’")[0].split("'")[0]


@functools.lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


@functools.lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    stemmed: str = _stemmer().stemWord(word.lower())  # PyStemmer ships no types
    return stemmed


# Words a false premise swaps for their opposite ("Why did Cambodia reject the initiative?" when it endorsed
# it): each article-side group against the words that contradict it. Stemmed once, on first use.
_OPPOSITE_GROUPS = [
    (
        "endorse endorsed backed supported",
        "reject rejected refuse refused oppose opposed resist resisted denounce denounced",
    ),
    ("praise praised", "criticise criticised criticize criticized condemn condemned blame blamed rebuke rebuked"),
    (
        "increase increased grow grew grown expand expanded rise rose risen",
        "decline declined decrease decreased fall fell fallen drop dropped shrink shrank shrunk plunge plunged slump slumped",
    ),
    (
        "elevate elevated upgrade upgraded strengthen strengthened strengthening enhance enhanced",
        "downgrade downgraded lower lowered weaken weakened",
    ),
    ("adherence adhere adhered", "violate violated ignore ignored flout flouted breach breached evade evaded"),
    (
        "commence accelerate accelerating",
        "halt halted cancel cancelled canceled abandon abandoned suspend suspended scrap scrapped postpone postponed",
    ),
    ("reestablish reestablishing reestablished", "sever severed"),
]


@functools.lru_cache(maxsize=1)
def opposites() -> dict[str, frozenset[str]]:
    """Stem of an article-side word -> stems of the words that contradict it."""
    table: dict[str, set[str]] = {}
    for said, contrary in _OPPOSITE_GROUPS:
        for word in said.split():
            table.setdefault(stem(word), set()).update(stem(c) for c in contrary.split())
    return {k: frozenset(v) for k, v in table.items()}


@dataclass(frozen=True)
class Quantity:
    """A number mentioned in text, normalised so "twentyfold", "20-fold" and "20 times" compare equal."""

    value: float
    unit: str  # "fold", "percent", "year" or "" for a plain count
    start: int
    end: int
    surface: str

    @property
    def key(self) -> str:
        return f"{self.value:g}{self.unit}"


def _word_value(text: str) -> float | None:
    total, current = 0.0, 0.0
    for part in re.split(r"[- ]", text.lower()):
        value = _UNITS.get(part)
        if value is None:
            return None
        if value >= 100 and part != "decade":
            current = max(current, 1) * value
            if value >= 1000:
                total, current = total + current, 0
        else:
            current += value
    return total + current


def quantities(text: str) -> list[Quantity]:
    """Numbers in ``text`` with their unit; years (1900–2100 written as four digits) get unit "year"."""
    found = []
    for match in _NUMBER.finditer(text):
        raw = match.group("num")
        fused = raw.lower().endswith("fold")
        value = float(raw.replace(",", "")) if re.fullmatch(r"[\d,.]+", raw) else _word_value(raw)
        if value is None:
            continue
        unit = "fold" if match.group("fold") or fused else "percent" if match.group("pct") else ""
        if not unit and re.fullmatch(r"(19|20)\d\d", raw):
            unit = "year"
        found.append(Quantity(value, unit, match.start(), match.end(), match.group(0)))
    for match in _ORDINAL.finditer(text):
        value = _ORDINALS[match.group(1).lower()]
        found.append(Quantity(value, "ord", match.start(), match.end(), match.group(0)))
    # Fused forms like "twentyfold" are not caught by the word pattern above.
    for match in re.finditer(rf"\b({_NUMBER_WORD})fold\b", text, re.IGNORECASE):
        value = _word_value(match.group(1))
        if value is not None and not any(q.start <= match.start() < q.end for q in found):
            found.append(Quantity(value, "fold", match.start(), match.end(), match.group(0)))
    return sorted(found, key=lambda q: q.start)


def tokens(text: str) -> list[str]:
    """Lower-cased, stemmed content words plus normalised number keys (``#20fold``) for matching."""
    found = words(text.lower().replace("’", "'").replace("'s ", " "))
    # Number words are matched through their number key alone ("two" and "2" both give "#2"); keeping the
    # word as well would count one number twice.
    out = [stem(w) for w in found if w not in STOPWORDS and not w.isdigit() and (w not in _UNITS or w == "decade")]
    out.extend(f"#{q.key}" for q in quantities(text))
    return out


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int


def capitalized_spans(text: str, proper: frozenset[str] = frozenset()) -> list[Span]:
    """Runs of capitalised words (names, places, titles). A sentence-initial word counts only if it is
    in ``proper`` (words seen capitalised mid-sentence), so "During" or "What" is not taken for a name."""
    spans: list[Span] = []
    current: list[re.Match[str]] = []

    def flush() -> None:
        if current:
            spans.append(Span(text[current[0].start() : current[-1].end()], current[0].start(), current[-1].end()))
            current.clear()

    for match in _WORD.finditer(text):
        word = match.group(0).rstrip(".,")
        before = text[: match.start()].rstrip()
        initial = not before or before[-1] in '.!?:"“'
        is_name = word[:1].isupper() and not word.isdigit() and word.lower() not in QUESTION_WORDS
        if initial and is_name and bare(word) not in proper:
            is_name = False
        gap = text[current[-1].end() : match.start()] if current else ""
        if is_name and current and gap.strip() not in ("",):
            flush()
        if is_name:
            current.append(match)
        else:
            flush()
    flush()
    return [s for s in spans if s.text.lower() not in STOPWORDS]


def proper_words(texts: list[str]) -> frozenset[str]:
    """Words that appear capitalised after the start of a sentence somewhere in ``texts``."""
    words = set()
    for text in texts:
        for match in _WORD.finditer(text):
            before = text[: match.start()].rstrip()
            if before and before[-1] not in ".!?" and match.group(0)[:1].isupper():
                words.add(bare(match.group(0)))
    return frozenset(words)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace("’", "'").replace("“", '"').replace("”", '"')).strip()


def has_month(text: str) -> bool:
    return any(re.search(rf"\b{m}\b", text.lower()) for m in _MONTHS) or bool(re.search(r"\b\d{1,2}/\d{1,2}\b", text))


# Clause boundaries: commas/semicolons, and "and" before a new subject+verb ("..., and South Korea has").
_CLAUSE = re.compile(r",\s+(?:and\s+)?|;\s+|\s+and\s+(?=[a-z-]+\s+(?:has|have|had|was|were|is|are)\b)")


def clauses(text: str) -> list[tuple[int, int]]:
    """Character spans of the clauses of a sentence."""
    bounds = [0] + [m.end() for m in _CLAUSE.finditer(text)] + [len(text)]
    return [(a, b) for a, b in pairwise(bounds) if text[a:b].strip()]


def prefix(term: str) -> str:
    """A stem's first five letters: lets "economi" (economy) meet "econom" (economically)."""
    return term[:5] if len(term) >= 5 and not term.startswith("#") else term


def matches(term: str, have: set[str], have_prefixes: set[str]) -> bool:
    return term in have or (len(term) >= 5 and prefix(term) in have_prefixes)
