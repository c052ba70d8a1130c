"""The direct first sentence of an answer: the asked-for number, year or name, when one stands out."""

from __future__ import annotations

import re

from ...language import (
    CALENDAR_NAME,
    MAGNITUDES,
    STOPWORDS,
    Span,
    capitalized_spans,
    clauses,
    normalise,
    quantities,
)
from ...question import (
    RELATIVE_YEAR,
    TITLE,
    Question,
    acting_parties,
    is_country_like,
    is_person_like,
    is_topical,
    money_span,
)
from ...scoring import ScoredSentence
from .base import Reader

# Questions about more than one person: "Who met …?", "Which leaders …?".
_SEVERAL = re.compile(
    r"\b(met|meet|meeting|talked|leaders|officials|people|both|two|together|each other)\b", re.IGNORECASE
)


def direct(reader: Reader, question: Question, top: ScoredSentence) -> str:
    """A short first sentence naming the asked-for number, year or name, when one stands out.

    The sentence is cut into clauses and the value is taken from the clause closest in meaning to the
    question, so "How much has trade grown?" picks "twentyfold" (trade) over "150-fold" (exchanges)."""
    text = top.sentence.text
    parts = clauses(text)
    closeness = reader.scorer.dense(question, [text[a:b] for a, b in parts])

    def clause_score(pos: int) -> float:
        return max((float(c) for (a, b), c in zip(parts, closeness, strict=True) if a <= pos < b), default=0.0)

    asked = {normalise(n.text) for n in question.names} | {normalise(n) for n in question.context_names}
    asked_keys = {q.key for q in question.numbers}
    if question.answer_type in ("number", "year", "fold", "time"):
        wanted_unit = {"year": "year", "fold": "fold", "time": "year"}.get(question.answer_type)  # "when" → a year
        found = [
            q
            for q in quantities(text)
            if q.key not in asked_keys
            and q.unit != "ord"
            and (q.unit == wanted_unit if wanted_unit else q.unit != "year")
        ]
        counted = re.search(r"\bhow many ([a-z-]+)", question.resolved, re.IGNORECASE)
        if counted:
            # "How many agreements": a count, never a span of time like "a decade".
            found = [q for q in found if q.surface.lower() != "decade"]
        if not found:
            if question.answer_type != "time":
                return ""
            relative = RELATIVE_YEAR.search(text)
            day = re.search(r"\bon (\w+day)\b", text)  # "a summit in Seoul on Thursday"
            return f"{relative.group(0).capitalize()}." if relative else f"On {day.group(1)}." if day else ""
        q = max(found, key=lambda x: clause_score(x.start))
        if q.surface.lower() == "decade":
            return "A decade."
        unit = ""
        tail = re.match(r"\s+((?:[a-z][a-z-]+\s?){1,2})", text[q.end :])
        if tail and question.answer_type == "number" and q.unit == "":
            words = []
            for w in tail.group(1).split():
                if w in STOPWORDS:
                    break
                words.append(w)
            unit = " " + " ".join(words) if words else ""
        return f"{q.surface[:1].upper()}{q.surface[1:]}{unit}."
    if question.answer_type == "money":
        # "240 million kroner", "$5 billion": the amount from its number (or symbol) to its currency.
        amounts = [
            span
            for q in quantities(text)
            if q.surface.lower() not in MAGNITUDES
            and q.key not in asked_keys
            and (span := money_span(text, q, reader.analyser.currencies))
        ]
        if not amounts:
            return ""
        start, end = max(amounts, key=lambda span: clause_score(span[0]))
        return f"{text[start:end]}."
    if question.answer_type in ("person", "place", "country"):
        titles = {t for n in question.names for t in TITLE.findall(n.text)}
        spans = []
        for s in capitalized_spans(text, reader.analyser.proper):
            # "Cambodian Prime Minister Hun Manet" for "Who is the Cambodian Prime Minister?": the name
            # after the asked-for title is the answer, not a repeat of the question.
            titled = bool(titles & set(TITLE.findall(s.text)))
            name = TITLE.split(s.text)[-1].strip() if titled else s.text
            if name and not any(normalise(name) in a or a in normalise(name) for a in asked):
                spans.append((Span(name, s.start, s.end), titled))
        topic, people = reader.analyser.topic_words, reader.analyser.person_words
        if question.answer_type == "country":
            # The two countries are the article's topic, and so the answer only to "which country".
            spans = [(s, titled) for s, titled in spans if is_country_like(s.text, topic, people)]
        named = [s for s, _ in spans if not CALENDAR_NAME.match(s.text)]
        spans = [
            (s, titled)
            for s, titled in spans
            if not CALENDAR_NAME.match(s.text) and (question.answer_type == "country" or not is_topical(s.text, topic))
        ]
        if question.answer_type == "person":
            spans = [
                (s, titled)
                for s, titled in spans
                if titled or is_person_like(s.text) or s.text in reader.analyser.person_words
            ]
            if not spans:  # no person: the country doing what is asked ("Who endorsed it?" -> Cambodia)
                spans = [(s, False) for s in acting_parties(text, named, question, topic, people)]
        if spans:
            # The holder of the title the question names comes first ("the Prime Minister" -> Hun Manet).
            best, titled = max(spans, key=lambda st: (st[1], clause_score(st[0].start)))
            # "Who met in Seoul?": a pair joined by "and" ("between X and Y") answers together when the
            # question asks about more than one ("met", "leaders") and names no title it wants.
            several = bool(_SEVERAL.search(question.resolved)) and not titled
            pair = [s for s, _ in spans if several and re.fullmatch(r"\s+and\s+", text[best.end : s.start])]
            return " and ".join(n.text.removesuffix("’s") for n in [best, *pair[:1]]) + "."
    return ""
