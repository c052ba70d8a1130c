"""Names and numbers the question presumes that the article never mentions: corrected from an aligned value
in the evidence ("Seoul, not Phnom Penh"), or else refused."""

from __future__ import annotations

import re

from ... import nlp
from ...language import (
    CALENDAR_NAME,
    STOPWORDS,
    Quantity,
    Span,
    capitalized_spans,
    normalise,
    quantities,
    stem,
    words,
)
from ...question import Question, is_person_like
from ...scoring import ScoredSentence
from ..base import Draft
from .base import Context, Reader, Rule
from .drafts import NEARBY_FACTOR, Correction, corrected, refusal

MIN_NAME_OVERLAP = 2  # a replacement name must share this much context (or words) with the wrong one
UNIT_MATCH = 0.5  # credit for a number of the same unit (year, n-fold) as the wrong one
_PLACE_PREPOSITIONS = ("in", "at")


class UnknownValues(Rule):
    name = "unknown_values"

    def decide(self, ctx: Context) -> Draft | None:
        unsupported = _unsupported(ctx.reader, ctx.question)
        if not unsupported:
            return None
        for wrong in unsupported:
            fix = _correction(ctx.reader, ctx.question, wrong, ctx.scored)
            if fix and fix.evidence.support >= ctx.reader.threshold * NEARBY_FACTOR:
                return corrected(fix)
        names = ", ".join(_surface(w) for w in unsupported)
        parsed = nlp.parse(ctx.question.resolved)
        # A time (a weekday, a month) is a claim the article can contradict, never mere circumstance.
        if not all(
            isinstance(w, Span) and not CALENDAR_NAME.match(w.text) and parsed.is_adjunct(w.start) for w in unsupported
        ):
            return refusal(f"The article does not mention {names}.", ctx.scored, ctx.reader.threshold)
        # "… during the Second World War": a circumstance the article words otherwise. What it does say about
        # the rest is answered, with the unmatched words named.
        ctx.caveat = f"The article does not mention {names}; what it says:"
        return None


def _unsupported(reader: Reader, question: Question) -> list[Span | Quantity]:
    names = [n for n in question.names if not reader.analyser.known_name(n.text)]
    numbers = [
        q
        for q in question.numbers
        if not reader.analyser.known_number(q)
        and not reader.analyser.spans_known_year(question.resolved, q)
        and not any(n.start <= q.start < n.end for n in names)  # "Second" in "the Second World War"
        and _is_premise(question.resolved, q)
    ]
    return [*names, *numbers]


def _is_premise(text: str, q: Quantity) -> bool:
    """Whether a number in a question asserts something: not "one" (a pronoun), not a number that is
    part of the wh-phrase ("what three qualities"), not part of a compound ("net-zero")."""
    if q.surface.lower() == "one" or text[max(0, q.start - 1) : q.start] == "-":
        return False
    if re.search(r"[=<>+*/^]\s*$", text[: q.start]) or re.match(r"\s*[=<>+*/^]", text[q.end :]):
        return False  # part of a formula or pasted code ("' OR 1=1 --"), not a claim about the world
    return _word_before(text, q.start) not in ("what", "which")


def _word_before(text: str, pos: int) -> str:
    before = words(text[:pos].lower())
    return before[-1] if before else ""


def _surface(value: Span | Quantity) -> str:
    return value.surface if isinstance(value, Quantity) else value.text


def _overlap(wanted: set[str], found: set[str]) -> int:
    """Shared stems, allowing different endings of one word ("attendees"/"attended")."""
    return sum(1 for w in wanted if any(w == f or (len(w) >= 5 and len(f) >= 5 and w[:5] == f[:5]) for f in found))


def _context(text: str, start: int, end: int, width: int = 6) -> set[str]:
    """Content stems within ``width`` words either side of text[start:end]."""
    before = [w for w in words(text[:start].lower()) if w not in STOPWORDS and not quantities(w)][-width:]
    after = [w for w in words(text[end:].lower()) if w not in STOPWORDS and not quantities(w)][:width]
    return {stem(w) for w in before + after}


def _candidates(
    reader: Reader, wrong: Span | Quantity, text: str, place_slot: bool = False
) -> list[tuple[str, int, int, float]]:
    """Values in ``text`` of the same shape as ``wrong``: (surface, start, end, shared-word bonus)."""
    if isinstance(wrong, Quantity):
        return [
            (q.surface, q.start, q.end, 0.0) for q in quantities(text) if q.unit == wrong.unit and q.key != wrong.key
        ]
    wrong_words = {stem(w) for w in words(wrong.text.lower())}
    found = []
    calendar = bool(CALENDAR_NAME.match(wrong.text))
    for span in capitalized_spans(text, reader.analyser.proper):
        if bool(CALENDAR_NAME.match(span.text)) != calendar:
            continue  # a wrong weekday is corrected by a weekday, a wrong name never by one
        if place_slot and _word_before(text, span.start) not in _PLACE_PREPOSITIONS:
            continue  # "held in Phnom Penh" is corrected by a place ("in Seoul"), not by "a Cambodian leader"
        parts = span.text.removesuffix("’s").split()
        shared = len(wrong_words & {stem(w) for w in words(span.text.lower())})
        if shared and len(parts) > len(wrong.text.split()):
            # "Cambodian Prime Minister Hun Manet" for "Hun Sen": keep the aligned name part.
            keep = " ".join(parts[-len(wrong.text.split()) :])
            start = text.index(keep, span.start)
            span = Span(keep, start, start + len(keep))
        # Two weekdays (or months) are the same slot by their shape alone, like two years.
        found.append((span.text.removesuffix("’s"), span.start, span.end, 2.0 * shared + (1.0 if calendar else 0.0)))
    return found


def _speaker(
    reader: Reader, question: Question, wrong: Span | Quantity, evidence: ScoredSentence
) -> list[tuple[str, int, int, float]]:
    """For a wrong person and a sentence led by "He"/"She": the person the previous sentence names, placed
    at the pronoun ("He noted that trade…" after "President Yoon highlighted…"). When the question asks
    what the wrong person said, that speaker fills the same slot (one word's worth of credit)."""
    pronoun = re.match(r"(He|She)\b", evidence.sentence.text)
    if not pronoun or isinstance(wrong, Quantity) or not is_person_like(wrong.text) or evidence.sentence.index == 0:
        return []
    before = reader.corpus.document(evidence.sentence.doc_id).sentences[evidence.sentence.index - 1]
    people = [sp for sp in capitalized_spans(before.text, reader.analyser.proper) if is_person_like(sp.text)]
    if before.paragraph != evidence.sentence.paragraph or not people:
        return []
    return [(people[0].text.removesuffix("’s"), 0, pronoun.end(), 1.0 if question.answer_type == "statement" else 0.0)]


def _correction(
    reader: Reader, question: Question, wrong: Span | Quantity, scored: list[ScoredSentence]
) -> Correction | None:
    """The same-shaped value in the evidence whose surroundings match the question's wording."""
    wanted = set(question.own_terms) | _context(question.resolved, wrong.start, wrong.end)
    best: tuple[float, Correction] | None = None
    for evidence in scored[:5]:
        text = evidence.sentence.text
        place_slot = isinstance(wrong, Span) and _word_before(question.resolved, wrong.start) in _PLACE_PREPOSITIONS
        for surface, start, end, bonus in _candidates(reader, wrong, text, place_slot) + _speaker(
            reader, question, wrong, evidence
        ):
            if normalise(surface) in normalise(question.resolved):
                continue
            if isinstance(wrong, Span) and not nlp.same_kind(
                nlp.parse(question.resolved).label_at(wrong.start, wrong.end), nlp.parse(text).label_at(start, end)
            ):
                continue  # "American" is not corrected by "Minnesota", nor "the Second World War" by "German"
            overlap = _overlap(wanted, _context(text, start, end)) + bonus
            if _word_before(question.resolved, wrong.start) == _word_before(text, start):
                overlap += 1  # "held in Phnom Penh" / "summit in Seoul": the same slot
            if isinstance(wrong, Quantity):
                # A year or an n-fold in the best evidence is the likely subject even without shared words.
                overlap += UNIT_MATCH if wrong.unit else 0.0
                if overlap <= 0:
                    continue
            elif overlap < MIN_NAME_OVERLAP:
                continue
            value = overlap + evidence.support
            if best is None or value > best[0]:
                best = (value, Correction(_surface(wrong), surface, evidence))
    return best[1] if best else None
