"""The rule contract: a rule reads a ``Context`` (the question, its scored evidence, the article's lexicon)
and returns a decision (a finished ``Draft``) or nothing, and then the next rule reads it.

The context computes the evidence once, on first use, for every rule that needs it. Three rules leave a
finding for the answer the rules fall through to: the unknown-values rule a caveat, the multi-part rule the
evidence of each part, the reader its sentence and span.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from ... import nlp
from ...corpus import Corpus, Sentence
from ...question import Question, QuestionAnalyser
from ...reader import Reading, SpanReader, window
from ...scoring import ScoredSentence, SentenceScorer
from ..base import Draft
from .drafts import Correction, corrected

# Questions whose answer is a passage, not a value.
OPEN_TYPES = frozenset({"other", "statement", "reason"})
TYPED_FACTOR = 0.85  # the sentence holding the asked-for value must be nearly as relevant as the best one,
# ... and, when the best is not specific to the subject, still this share of it: "Who was the Cambodian leader
# who last visited a decade ago?" is not answered by Kim Tae-hyo's sentence at 0.58 of the decade sentence.
TYPED_FACTOR_LOOSE = 0.6
ANCHOR_MAX_DF = 1  # ... or share a word with the question that no other sentence uses
SUBJECT_MAX_DF = 3  # ... or hold a fairly rare question word the best sentence lacks


@dataclass(frozen=True)
class Reader:
    """What every rule reads the article with, the same for every question."""

    scorer: SentenceScorer
    threshold: float  # calibrated support below which evidence does not answer
    max_sentences: int
    span_reader: SpanReader | None = None
    reader_threshold: float = 0.5
    reader_candidates: int = 8
    always_read: bool = False  # read every question (an LLM backend's refusals are arbitrated by the verdict)

    @property
    def reads_every_question(self) -> bool:
        """Whether the reader gives every question its verdict: as a gate (a threshold above 0) or an arbiter;
        otherwise it reads on demand, for a span (``compose``)."""
        return self.span_reader is not None and (self.reader_threshold > 0 or self.always_read)

    @property
    def analyser(self) -> QuestionAnalyser:
        return self.scorer.analyser

    @property
    def corpus(self) -> Corpus:
        return self.scorer.index.corpus

    def window(self, sentence: Sentence) -> tuple[str, int]:
        """What the trained reader reads for ``sentence`` (``reader.window``): it with the sentence before it in
        its paragraph, for a model trained so; and where ``sentence`` starts in that text."""
        limit = self.span_reader.window_chars if self.span_reader else 0
        if sentence.index == 0 or not limit:
            return sentence.text, 0
        before = self.corpus.document(sentence.doc_id).sentences[sentence.index - 1]
        return window([before.text if before.paragraph == sentence.paragraph else "", sentence.text], 1, limit)

    def anchored(self, terms: tuple[str, ...], scored: ScoredSentence) -> bool:
        """Whether the sentence shares a rare (specific) word with ``terms``, e.g. "reestablished"."""
        have = self.scorer.terms(scored.sentence)
        return any(t in have and self.scorer.document_frequency(t) <= ANCHOR_MAX_DF for t in terms)

    def covers_what_best_lacks(self, question: Question, best: ScoredSentence, other: ScoredSentence) -> bool:
        """Whether ``other`` has a word of the question that the best sentence lacks and few sentences use:
        "Who attended the summit?" — the forum sentence has "attended", the summit sentence has "summit"."""
        best_words = self.scorer.terms(best.sentence)
        have = self.scorer.terms(other.sentence)
        return any(
            t in have and t not in best_words and 0 < self.scorer.document_frequency(t) <= SUBJECT_MAX_DF
            for t in question.own_terms
        )


@dataclass(frozen=True)
class Part:
    """One part of a question asking several things, with its own best evidence (None: nothing answers it)
    and the direct answer that evidence gives ("" for none)."""

    question: Question
    evidence: ScoredSentence | None
    direct: str


@dataclass(frozen=True)
class Read:
    """The trained reader's verdict on one candidate sentence."""

    evidence: ScoredSentence
    reading: Reading


@dataclass
class Context:
    """One question as the rules read it; the evidence is scored on first use and shared."""

    question: Question
    sentences: list[Sentence]  # the retrieved passages' sentences, unscored
    history: list[dict[str, Any]]
    reader: Reader
    caveat: str = ""  # left by the unknown-values rule: what the answer must say first (an unmatched circumstance)
    parts: list[Part] = field(default_factory=list)  # left by the multi-part rule; empty: one question
    read: Read | None = None  # left by the reader when it finds the answer: its sentence and span

    @cached_property
    def scored(self) -> list[ScoredSentence]:
        """The evidence, most relevant first."""
        return self.reader.scorer.score(self.question, self.sentences)

    @cached_property
    def by_support(self) -> list[ScoredSentence]:
        """The evidence by support: what refusals point at."""
        return sorted(self.scored, key=lambda s: s.support, reverse=True)

    @cached_property
    def typed(self) -> list[ScoredSentence]:
        """Sentences holding the kind of value asked for that are relevant enough to answer with; failing
        those, the ones in the paragraph a follow-up points back at (``pointed_at``)."""
        return self.pointed_at or self.relevant

    @cached_property
    def pointed_at(self) -> list[ScoredSentence]:
        """When nothing relevant enough holds the asked-for value, the sentences that hold it in the paragraph
        a follow-up points back at ("When was that?" after an answer quoting paragraph 5): "that" is what the
        paragraph reports, so they answer however few of the question's words they share. Only for a value:
        an open question is answered by relevance."""
        relevant = self.relevant
        if self.question.answer_type in OPEN_TYPES or (relevant and relevant[0].support >= self.reader.threshold):
            return []
        leans_on = set(self.question.leans_on)
        return [s for s in self.scored if s.typed and (s.sentence.doc_id, s.sentence.paragraph) in leans_on]

    @cached_property
    def relevant(self) -> list[ScoredSentence]:
        """Sentences holding the kind of value asked for that are relevant enough to answer with.

        When the most relevant sentence is *the* one about the subject (it alone shares a word with the
        question) yet lacks the asked-for value, a weaker sentence that has some value is not the answer.
        The subject may come from an earlier turn ("who organised it?"); the value must answer this turn."""
        reader, question, best = self.reader, self.question, self.by_support[0]
        best_is_specific = reader.anchored(question.terms, best)
        return [
            s
            for s in self.scored
            if s.typed
            and (
                s.support >= best.support * TYPED_FACTOR
                or reader.anchored(question.own_terms, s)
                or (not best_is_specific and s.support >= best.support * TYPED_FACTOR_LOOSE)
                or reader.covers_what_best_lacks(question, best, s)
            )
        ]

    @cached_property
    def best(self) -> ScoredSentence:
        """The best typed sentence (the answer-type rule refuses without one)."""
        return self.typed[0] if self.typed else self.by_support[0]

    @cached_property
    def top(self) -> ScoredSentence:
        """The sentence an answer rests on: ``best``, unless an open question's subject is only one item of a
        list there and another relevant sentence is about it ("What did they agree on defense?": the sentence
        on defense cooperation, not "… politics, national security, defense, economy …")."""
        if self.question.answer_type not in OPEN_TYPES:
            return self.best
        lemmas = {
            t.lemma.lower() for t in nlp.parse(self.question.resolved).tokens if t.pos in ("NOUN", "PROPN", "ADJ")
        }
        listed = lemmas & nlp.listed_only(nlp.parse(self.best.sentence.text))
        if not listed:
            return self.best
        for s in self.scored:
            if s is self.best or s.support < self.reader.threshold:
                continue
            parsed = nlp.parse(s.sentence.text)
            if listed <= {t.lemma.lower() for t in parsed.tokens} - nlp.listed_only(parsed):
                return s  # about every listed word of the question, not listing it
        return self.best

    @cached_property
    def readings(self) -> list[Read]:
        """The reader's verdict on the most relevant candidates (none without a reader), best first. A follow-up
        is read with what it carries over from earlier turns ("When was that?" alone asks about nothing)."""
        model = self.reader.span_reader
        if model is None:
            return []
        candidates = self.scored[: self.reader.reader_candidates]
        asked = self.question.query if self.question.is_follow_up else self.question.text
        windows = [self.reader.window(c.sentence) for c in candidates]
        readings = model.read(asked, [text for text, _ in windows])
        ranked = [Read(c, r.within(w[1])) for c, r, w in zip(candidates, readings, windows, strict=True)]
        return sorted(ranked, key=lambda read: read.reading.probability, reverse=True)


class Rule(ABC):
    """One family of answer rules: a decision the evidence forces, or None to let the next rule decide."""

    name: ClassVar[str]

    @abstractmethod
    def decide(self, ctx: Context) -> Draft | None: ...


class CorrectionRule(Rule):
    """A family that finds a premise the evidence contradicts, and corrects it."""

    @abstractmethod
    def find(self, ctx: Context) -> Correction | None: ...

    def decide(self, ctx: Context) -> Draft | None:
        fix = self.find(ctx)
        return corrected(fix) if fix else None


class NoEvidence(Rule):
    """Nothing retrieved: nothing to answer, correct or point at. Always on: every later rule reads evidence."""

    name = "evidence"

    def decide(self, ctx: Context) -> Draft | None:
        return None if ctx.scored else Draft("The article does not say anything about that.", [], "refusal", 0.0)
