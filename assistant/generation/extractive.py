"""The default, offline backend: answers by quoting the best-supported sentences of the article.

The decisions are rules (``rules/``, one family per module), tried in order until one decides: the
article's overview; a value the question presumes but the article never mentions, corrected from an aligned
value in the evidence ("Seoul, not Phnom Penh") or refused; other false premises (owner, rank or year,
opposite verb, title) corrected; another instance of what the article reports once, refused; evidence that
lacks the kind of value asked for or falls below the calibrated support threshold, refused; a multi-part
question no part of which is answered, refused. What none of them decides is answered: a direct first
sentence for numbers, years and names, then the best sentences quoted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from langchain_core.documents import Document

from ..corpus import Sentence
from ..question import Question
from ..reader import SpanReader
from ..scoring import SentenceScorer
from .base import AnswerGenerator, Draft
from .rules import Context, Reader, compose, configured


class ExtractiveGenerator(AnswerGenerator):
    name = "extractive"

    def __init__(
        self,
        scorer: SentenceScorer,
        threshold: float,
        max_sentences: int = 3,
        disabled_rules: Iterable[str] = (),
        span_reader: SpanReader | None = None,
        reader_threshold: float | None = None,
        reader_candidates: int = 8,
        always_read: bool = False,
    ) -> None:
        """``span_reader``: the trained reader, deciding at ``reader_threshold`` (default: its calibrated one);
        ``always_read``: give every answer its verdict (for an LLM backend's arbitration)."""
        self.scorer = scorer
        verdict_at = reader_threshold if reader_threshold is not None else span_reader.threshold if span_reader else 1.0
        self.reader = Reader(scorer, threshold, max_sentences, span_reader, verdict_at, reader_candidates, always_read)
        self.rules = configured(disabled_rules)

    def _sentences(self, context: list[Document]) -> list[Sentence]:
        corpus = self.scorer.index.corpus
        out: list[Sentence] = []
        for doc in context:
            meta = doc.metadata
            out.extend(corpus.document(meta["doc_id"]).sentences[meta["sentence_start"] : meta["sentence_end"]])
        return out

    def generate(self, question: Question, context: list[Document], history: list[dict[str, Any]]) -> Draft:
        ctx = Context(question, self._sentences(context), history, self.reader)
        for rule in self.rules:
            decision = rule.decide(ctx)
            if decision is not None:
                return decision
        return compose(ctx)

    def stream_text(self, text: str) -> Iterator[str]:
        """A sentence at a time: the direct answer, then each quoted sentence with its marker."""
        for piece in re.findall(r".*?(?:\]\s+|\.\s+(?=“)|$)", text, flags=re.DOTALL):
            if piece:
                yield piece
