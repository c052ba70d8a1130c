"""The default, offline backend: answers by quoting the best-supported sentences of the article.

Decision order: (1) a value the question presumes but the article never mentions is either corrected
from an aligned value in the evidence ("Seoul, not Phnom Penh") or refused; (2) evidence that lacks the
kind of value asked for (a date, a dollar amount, names) or falls below the calibrated support threshold
is refused, pointing at what the article does say nearby; (3) otherwise the best sentences are quoted,
after a direct first sentence for numbers, years and names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from langchain_core.documents import Document

from ..corpus import Sentence
from ..language import Quantity, Span, capitalized_spans, normalise, quantities, stem, tokens
from ..question import Question
from ..scoring import ScoredSentence, SentenceScorer
from .base import AnswerGenerator, Draft

NEARBY_FACTOR = 0.75  # evidence this close to the threshold is worth pointing at in a refusal
EXTRA_FACTOR = 0.8  # a further sentence must score this share of the best one to be quoted too
_WEEKDAYS_MONTHS = re.compile(
    r"^(monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|july|"
    r"august|september|october|november|december)$",
    re.IGNORECASE,
)
_TITLES = re.compile(r"\b(President|Prime Minister|Minister|King|Chairman|Secretary|Ambassador|Mr|Ms|Dr)\b")


@dataclass(frozen=True)
class Correction:
    wrong: str
    right: str
    evidence: ScoredSentence


def _words(text: str) -> list[str]:
    return [stem(w) for w in re.findall(r"[a-z0-9]+", text.lower())]


def _context(text: str, start: int, end: int, width: int = 4) -> set[str]:
    before = _words(text[:start])[-width:]
    after = _words(text[end:])[:width]
    return {w for w in before + after if len(w) > 2}


def indirect(question: str) -> str:
    """ "What is the exact date of the summit?" -> "what the exact date of the summit is" (or "")."""
    match = re.match(
        r"^(what|who|where|when|which|how many|how much)\s+(is|was|are|were)\s+(.+?)[?.!]*$", question.strip(), re.IGNORECASE
    )
    if match:
        return f"{match.group(1).lower()} {match.group(3)} {match.group(2).lower()}"
    return ""


class ExtractiveGenerator(AnswerGenerator):
    name = "extractive"

    def __init__(self, scorer: SentenceScorer, threshold: float, max_sentences: int = 3) -> None:
        self.scorer = scorer
        self.threshold = threshold
        self.max_sentences = max_sentences
        corpus = scorer.index.corpus
        self._corpus_text = normalise(" ".join(d.text for d in corpus.documents))
        self._corpus_numbers = {q.key for d in corpus.documents for q in quantities(d.text)}

    # -- evidence -------------------------------------------------------------------------------
    def _sentences(self, context: list[Document]) -> list[Sentence]:
        corpus = self.scorer.index.corpus
        out: list[Sentence] = []
        for doc in context:
            meta = doc.metadata
            out.extend(corpus.document(meta["doc_id"]).sentences[meta["sentence_start"] : meta["sentence_end"]])
        return out

    def _unsupported(self, question: Question) -> list[Span | Quantity]:
        """Names and numbers the question presumes that appear nowhere in the article."""
        names = [n for n in question.names if normalise(n.text).removesuffix("'s") not in self._corpus_text]
        numbers = [q for q in question.numbers if q.key not in self._corpus_numbers]
        return [*names, *numbers]

    def _correction(self, question: Question, wrong: Span | Quantity, scored: list[ScoredSentence]) -> Correction | None:
        """The value of the same shape in the evidence that sits in the same context as the wrong one."""
        q_context = _context(question.text, wrong.start, wrong.end)
        wrong_words = set(_words(wrong.surface if isinstance(wrong, Quantity) else wrong.text))
        best: tuple[float, Correction] | None = None
        for candidate_sentence in scored[:3]:
            text = candidate_sentence.sentence.text
            if isinstance(wrong, Quantity):
                candidates = [(q.surface, q.start, q.end, 0.0) for q in quantities(text) if q.unit == wrong.unit and q.key != wrong.key]
            else:
                candidates = []
                for span in capitalized_spans(text, self.scorer.proper):
                    words = span.text.split()
                    shared = len(wrong_words & set(_words(span.text)))
                    if shared and len(words) > len(wrong.text.split()):
                        # "Cambodian Prime Minister Hun Manet" for "Hun Sen": keep the aligned name part.
                        keep = " ".join(words[-len(wrong.text.split()) :])
                        span = Span(keep, span.end - len(keep), span.end)
                    if not _WEEKDAYS_MONTHS.match(span.text):
                        candidates.append((span.text, span.start, span.end, 2.0 * shared))
            for surface, start, end, bonus in candidates:
                if normalise(surface) in normalise(question.text):
                    continue
                overlap = len(q_context & _context(text, start, end)) + bonus
                if overlap <= 0:
                    continue
                value = overlap + candidate_sentence.support
                if best is None or value > best[0]:
                    best = (value, Correction(wrong.surface if isinstance(wrong, Quantity) else wrong.text, surface, candidate_sentence))
        return best[1] if best else None

    def _direct(self, question: Question, top: ScoredSentence) -> str:
        """A short first sentence naming the asked-for number, year or name, when one stands out."""
        text = top.sentence.text
        asked = {normalise(n.text) for n in question.names}
        anchors = [m.start() for t in question.own_terms for m in re.finditer(re.escape(t[:5]), text.lower())] or [0]

        def distance(pos: int) -> int:
            return min(abs(pos - a) for a in anchors)

        if question.answer_type in ("number", "year"):
            asked_keys = {q.key for q in question.numbers}
            found = [q for q in quantities(text) if q.key not in asked_keys and (q.unit == "year") == (question.answer_type == "year")]
            if not found:
                return ""
            q = min(found, key=lambda x: distance(x.start))
            tail = re.match(r"\s+((?:[a-z][a-z-]+\s?){1,2})", text[q.end :])
            unit = ""
            if tail and question.answer_type == "number" and q.unit == "":
                unit = " " + " ".join(w for w in tail.group(1).split() if w not in ("and", "from", "of", "to", "in"))
            return f"{q.surface[:1].upper()}{q.surface[1:]}{unit.rstrip()}."
        if question.answer_type in ("person", "place"):
            spans = [
                s for s in capitalized_spans(text, self.scorer.proper)
                if normalise(s.text) not in asked
                and not any(normalise(s.text) in a or a in normalise(s.text) for a in asked)
                and not _WEEKDAYS_MONTHS.match(s.text)
                and s.text.split("’")[0] not in self.scorer.topic_names
            ]
            if question.answer_type == "person":
                spans = [s for s in spans if _TITLES.search(s.text)] or spans
            if spans:
                return f"{min(spans, key=lambda s: distance(s.start)).text.removesuffix('’s')}."
        return ""

    # -- composing ------------------------------------------------------------------------------
    @staticmethod
    def _quote(cited: list[ScoredSentence]) -> str:
        return " ".join(f"“{c.sentence.text}” [{i}]" for i, c in enumerate(cited, 1))

    def _refusal(self, question: Question, what: str, scored: list[ScoredSentence]) -> Draft:
        nearby = [s for s in scored[:1] if s.support >= self.threshold * NEARBY_FACTOR]
        text = what
        if nearby:
            text += f" The closest it comes: {self._quote(nearby)}"
        return Draft(text, [(s.sentence, s.support) for s in nearby], "refusal", scored[0].support if scored else 0.0)

    def generate(self, question: Question, context: list[Document], history: list[dict]) -> Draft:
        scored = self.scorer.score(question, self._sentences(context))
        if not scored:
            return Draft("The article does not say anything about that.", [], "refusal", 0.0)
        best = scored[0]

        unsupported = self._unsupported(question)
        if unsupported:
            for wrong in unsupported:
                fix = self._correction(question, wrong, scored)
                if fix and fix.evidence.support >= self.threshold * NEARBY_FACTOR:
                    text = f"That premise does not match the article: it says {fix.right}, not {fix.wrong}. {self._quote([fix.evidence])}"
                    return Draft(text, [(fix.evidence.sentence, fix.evidence.support)], "correction", fix.evidence.support)
            names = ", ".join(w.surface if isinstance(w, Quantity) else w.text for w in unsupported)
            return self._refusal(question, f"The article does not mention {names}.", scored)

        typed = [s for s in scored if s.typed]
        if not typed or typed[0].support < self.threshold:
            focus = indirect(question.text)
            what = f"The article does not say {focus}." if focus else "The article does not say."
            return self._refusal(question, what, scored)

        top = typed[0]
        cited = [top]
        covered = set(tokens(top.sentence.text))
        for candidate in scored:
            if len(cited) >= self.max_sentences:
                break
            if candidate in cited or candidate.support < max(self.threshold, top.support * EXTRA_FACTOR):
                continue
            new_terms = set(question.own_terms) & set(tokens(candidate.sentence.text)) - covered
            if new_terms:
                cited.append(candidate)
                covered |= set(tokens(candidate.sentence.text))
        direct = self._direct(question, top)
        text = f"{direct} {self._quote(cited)}" if direct else self._quote(cited)
        return Draft(text, [(c.sentence, c.support) for c in cited], "answer", top.support)

    def stream_text(self, draft: Draft) -> Iterator[str]:
        for piece in re.split(r"(?<=\] )|(?<=\.) (?=“)", draft.text):
            if piece:
                yield piece
