"""The judge of an LLM's own answer: what the grounding guard kept, read as an answer to the question asked.

The guard (``guard.py``) has already proved each kept sentence against the article sentences it cites:
similar to them, every number and name in it present in them. The judge adds what a supported sentence
still needs in order to *answer*, without consulting the extractive reading:

* a refusal ("The article does not say.") is a refusal: it claims nothing about the article;
* a sentence that says the premise is wrong ("Correction: …", "…, not 120", "It was not; …") makes a
  correction, and so does an answer replacing a number the question presumes and the article never
  mentions ("thirtyfold" → "twentyfold"); its right value is in the sentence it cites (the guard saw to that);
* an answer must answer the asked type (``Question.answer_type``): a cited sentence or the answer satisfies
  it (``QuestionAnalyser.satisfies``: a person for "who", a year for "which year" …) or the answer names a
  new value of its kind; where the type is a number, the answer itself must state a number the question
  does not.

``judge`` returns the draft and None, or None/the draft and the reason it may not be used.
"""

from __future__ import annotations

import re

from ..answer import AnswerKind
from ..corpus import Sentence
from ..language import capitalized_spans, has_month, normalise, quantities
from ..question import Question
from ..scoring import SentenceScorer
from .base import Draft
from .guard import Verdict, strip_markers

# Types whose answer is a number: naming it is the answer, pointing at the sentence that holds it is not.
NUMBER_TYPES = frozenset({"number", "fold", "money", "year"})
NUMBER_UNITS = {"year": "year", "fold": "fold"}  # a year answers "which year", an n-fold "how many times"
NAME_TYPES = frozenset({"person", "company", "names", "country", "place"})  # answered by naming something new
TIME_TYPES = frozenset({"date", "day", "time"})  # answered by a date, a weekday or a month


class AnswerJudge:
    def __init__(self, scorer: SentenceScorer) -> None:
        self.scorer = scorer
        self.analyser = scorer.analyser

    def judge(self, question: Question, verdict: Verdict) -> tuple[Draft | None, str | None]:
        """The answer ``verdict``'s kept sentences make, and why it may not be used (None: it may)."""
        if verdict.refusal is not None:
            text, sentences = compose(verdict)
            text = f"{verdict.refusal.rstrip('.')}." + (f" {text}" if text else "")
            cited, support = self._cite(question, sentences)
            return Draft(text, cited, "refusal", support), None
        if not verdict.kept:
            return None, "no supported sentence"
        text, sentences = compose(verdict)
        cited, support = self._cite(question, sentences)
        kind: AnswerKind = "answer"
        wrong = self._wrong_numbers(question, text)
        if verdict.corrects_premise or wrong:
            kind = "correction"
            if not verdict.corrects_premise:
                text = f"The article does not mention {', '.join(wrong)}. {text}"
            elif not re.match(r"\s*correction\b", text, re.IGNORECASE):
                text = f"Correction: {text}"
        draft = Draft(text, cited, kind, support)
        return draft, (self.unanswered(question, text, sentences) if kind == "answer" else None)

    def unanswered(self, question: Question, text: str, sentences: list[Sentence]) -> str | None:
        """Why supported ``text`` citing ``sentences`` does not answer the asked type, or None.

        The analyser's ``satisfies`` was written to pick the extractive answer among article sentences and
        reads their wording closely ("the rebuilding was completed in 1794" does not tell it *which*
        reconstruction finished); a model restates in its own words. So a cited sentence or the answer's own
        text satisfying it will do, and so will the answer naming a new value of the asked kind."""
        wanted = question.answer_type
        asked = {q.key for q in question.numbers}
        plain = strip_markers(text)
        numbers = [q for q in quantities(plain) if q.key not in asked]
        if wanted in NUMBER_TYPES and not numbers:
            return f"states no {wanted}"
        if any(self.analyser.satisfies(wanted, t, question) for t in [*(s.text for s in sentences), plain]):
            return None
        unit = NUMBER_UNITS.get(wanted)
        if (
            (wanted in NUMBER_TYPES and any(unit in (None, q.unit) for q in numbers))
            or (wanted in NAME_TYPES and self._new_names(question, plain))
            or (wanted in TIME_TYPES and (numbers or has_month(plain)))
        ):
            return None
        return f"no cited sentence holds the {wanted} asked for"

    def _new_names(self, question: Question, text: str) -> list[str]:
        asked = normalise(question.text)
        return [s.text for s in capitalized_spans(text, self.analyser.proper) if normalise(s.text) not in asked]

    def _wrong_numbers(self, question: Question, answer: str) -> list[str]:
        """Numbers the question presumes that the article never mentions ("thirtyfold", "2005") and the
        answer replaces with a value of the same kind ("twentyfold", "1997")."""
        units = {q.unit for q in quantities(strip_markers(answer))}
        known = self.analyser.known_number
        return [
            q.surface
            for q in question.numbers
            if not known(q) and not self.analyser.spans_known_year(question.resolved, q) and q.unit in units
        ]

    def _cite(self, question: Question, sentences: list[Sentence]) -> tuple[list[tuple[Sentence, float]], float]:
        """``Draft.cited`` pairs in marker order, scored like the extractive backend scores evidence."""
        if not sentences:
            return [], 0.0
        support = {(x.sentence.doc_id, x.sentence.index): x.support for x in self.scorer.score(question, sentences)}
        cited = [(s, support.get((s.doc_id, s.index), 0.0)) for s in sentences]
        return cited, max(score for _, score in cited)


def compose(verdict: Verdict) -> tuple[str, list[Sentence]]:
    """Kept sentences with markers renumbered to their evidence, in order of first citation."""
    order: dict[tuple[str, int], int] = {}
    sentences = {}
    pieces = []
    for kept in verdict.kept:
        numbers = []
        for s in kept.evidence:
            key = (s.doc_id, s.index)
            if key not in order:
                order[key] = len(order) + 1
                sentences[key] = s
            numbers.append(order[key])
        body = kept.claim.text.rstrip()
        end = body[-1] if body[-1] in ".!?" else "."
        body = body.rstrip(".!?").rstrip()
        pieces.append(f"{body} {''.join(f'[{n}]' for n in numbers)}{end}")
    return " ".join(pieces), [sentences[k] for k in order]
