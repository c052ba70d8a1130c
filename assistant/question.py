"""What a question asks for: its content terms, the type of answer it expects, the values it presumes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .language import Quantity, Span, capitalized_spans, has_month, quantities, tokens

# Expected answer types, checked in order; the first pattern that matches wins.
_TYPES: list[tuple[str, re.Pattern]] = [
    ("money", re.compile(r"\b(how much money|dollars?|usd|\$|won\b|budget|cost|costs|price|worth|funding|monetary value|value of the)\b")),
    ("date", re.compile(r"\b(exact date|what date|which date|on what date|calendar date|date of|day and month|precise date)\b")),
    ("names", re.compile(r"\b(names? of|what (are|were) (the )?(documents|agreements|titles)( called)?|titles? of|what is the name|called)\b")),
    ("year", re.compile(r"\b(what|which) year\b|\bin what year\b|\bby when\b")),
    ("number", re.compile(r"\bhow many\b|\bhow much\b|\bwhat (number|percentage|share|proportion|factor)\b|\bby (what|how much) (factor|multiple)\b|\bhow (large|big|fast)\b|\bnumber of\b|\bhow long\b")),
    ("person", re.compile(r"^\W*(who|whom)\b|\bwhich (leader|official|president|minister|person|people)\b|\bwhose\b")),
    ("place", re.compile(r"^\W*where\b|\bin (what|which) (city|country|place|capital)\b|\bwhat (city|country|venue|location|capital)\b")),
    ("time", re.compile(r"^\W*when\b|\bwhat time\b|\bwhat day\b|\bwhich day\b")),
    ("reason", re.compile(r"^\W*why\b")),
]
_FOLLOW_UP = re.compile(
    r"^\W*(and|also|what about|how about|then|so|but)\b|\b(it|its|they|them|their|this|that|these|those|he|she|his|her|there|the same)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Question:
    text: str  # what the user typed (trimmed)
    query: str  # what retrieval searches for: the text, plus context carried over from the history
    terms: tuple[str, ...]  # content tokens of ``query``
    own_terms: tuple[str, ...]  # content tokens of ``text`` alone
    answer_type: str
    names: tuple[Span, ...] = field(default=())  # capitalised spans the question mentions
    numbers: tuple[Quantity, ...] = field(default=())

    @property
    def is_follow_up(self) -> bool:
        return self.query != self.text


def answer_type(text: str) -> str:
    lowered = text.lower()
    for name, pattern in _TYPES:
        if pattern.search(lowered):
            return name
    return "other"


def _previous_question(history: list[dict]) -> str:
    for message in reversed(history or []):
        if message.get("role") == "user" and isinstance(message.get("content"), str) and message["content"].strip():
            return message["content"].strip()
    return ""


def analyse(text: str, history: list[dict] | None = None, proper: frozenset[str] = frozenset()) -> Question:
    """Analyse ``text``; a short or pronoun-led follow-up borrows the previous user turn as context.

    The rewrite is deliberately simple and documented: when the question starts with a connective
    ("and", "what about") or leans on a pronoun, or has at most three content words, the previous user
    question is appended to the retrieval query so its subject and entities are searched too.
    """
    text = " ".join(text.split())
    own = tokens(text)
    previous = _previous_question(history or [])
    query = text
    if previous and (_FOLLOW_UP.search(text) or len(own) <= 3):
        query = f"{text} {previous}"
    return Question(
        text=text,
        query=query,
        terms=tuple(tokens(query)),
        own_terms=tuple(own),
        answer_type=answer_type(text),
        names=tuple(capitalized_spans(text, proper)),
        numbers=tuple(quantities(text)),
    )


def satisfies(
    answer_type: str, sentence: str, question: Question, topic_names: frozenset[str] = frozenset(), proper: frozenset[str] = frozenset()
) -> bool:
    """Whether ``sentence`` holds the kind of value the question asks for (a number for "how many" …)."""
    if answer_type in ("other", "reason"):
        return True
    asked = {n.text.lower() for n in question.names}
    nums = [q for q in quantities(sentence) if q.key not in {n.key for n in question.numbers}]
    new_names = [s for s in capitalized_spans(sentence, proper) if s.text.lower() not in asked and not any(s.text.lower() in a or a in s.text.lower() for a in asked)]
    if answer_type == "money":
        return bool(re.search(r"[$€£₩]|\b(dollars?|usd|won|riel|euros?)\b", sentence, re.IGNORECASE))
    if answer_type == "date":
        return has_month(sentence)
    if answer_type == "names":
        specific = [s for s in new_names if s.text.split("’")[0] not in topic_names]
        return bool(specific) or "“" in sentence
    if answer_type == "year":
        return any(q.unit == "year" for q in nums) or bool(re.search(r"\b(this|next|last) year\b", sentence))
    if answer_type == "number":
        return bool(nums)
    if answer_type in ("person", "place"):
        return bool(new_names)
    if answer_type == "time":
        return bool(nums) or has_month(sentence) or bool(
            re.search(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|this year|next year|decade|since)\b", sentence, re.IGNORECASE)
        )
    return True
