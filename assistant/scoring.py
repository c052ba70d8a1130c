"""Sentence-level relevance: dense similarity to the question blended with idf-weighted term coverage.

This is the reranker (no cross-encoder ships its weights in a PyPI package, so none loads offline here)
and the generator's evidence scorer: one definition of "this sentence supports this question".
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .corpus import Sentence
from .embeddings import MiniLMEmbeddings
from .index import Index
from .language import clauses, matches, prefix, tokens
from .question import TYPE_WORDS, Question, QuestionAnalyser

TYPE_BONUS = 0.08  # lifts sentences holding the asked-for kind of value above near-ties
CARRIED_WEIGHT = 0.25  # terms borrowed from earlier turns count a quarter
CLAUSE_DISCOUNT = 0.9  # a clause match counts slightly less than a whole-sentence match
CLAUSE_MIN_WORDS = 4  # shorter fragments ("and joint drills") match too much by accident
FOLLOW_UP_OWN = 0.75  # share of a follow-up's dense score that comes from its own words


@dataclass(frozen=True)
class ScoredSentence:
    sentence: Sentence
    dense: float
    lexical: float
    support: float  # blended relevance in [0, 1]; the refusal threshold applies to this
    typed: bool  # holds the kind of value the question asks for

    @property
    def rank_score(self) -> float:
        return self.support + (TYPE_BONUS if self.typed else 0.0)


class SentenceScorer:
    def __init__(self, index: Index, embeddings: MiniLMEmbeddings, dense_weight: float = 0.6) -> None:
        self.index = index
        self.embeddings = embeddings
        self.dense_weight = dense_weight
        index.parse_sentences()  # before the analyser, which reads every sentence's parse
        self.analyser = QuestionAnalyser(index.corpus)
        self._tokens = {(s.doc_id, s.index): set(tokens(s.text)) for s in index.corpus.sentences}
        self._prefixes = {key: {prefix(t) for t in toks} for key, toks in self._tokens.items()}
        df = Counter(t for toks in self._tokens.values() for t in toks)
        n = max(len(self._tokens), 1)
        self._df = df
        self._idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self._default_idf = math.log(1 + n)

    def document_frequency(self, term: str) -> int:
        """How many sentences contain ``term`` (0 for words the corpus never uses)."""
        return self._df.get(term, 0)

    def idf(self, term: str) -> float:
        return self._idf.get(term, self._default_idf)

    def terms(self, sentence: Sentence) -> set[str]:
        """Content tokens of ``sentence``, tokenised once for the corpus's own sentences (do not mutate)."""
        return self._tokens.get((sentence.doc_id, sentence.index)) or set(tokens(sentence.text))

    def lexical(self, question: Question, sentence: Sentence, typed: bool = False) -> float:
        """idf-weighted share of the question's terms the sentence contains; when it holds the asked-for
        kind of value, the words that only name that kind ("day", "week") count as contained."""
        have = self.terms(sentence)
        prefixes = self._prefixes.get((sentence.doc_id, sentence.index)) or {prefix(t) for t in have}
        own = set(question.own_terms)
        type_words = TYPE_WORDS.get(question.answer_type, frozenset()) if typed else frozenset()
        weights = {t: self.idf(t) * (1.0 if t in own else CARRIED_WEIGHT) for t in set(question.terms)}
        total = sum(weights.values())
        return (
            sum(w for t, w in weights.items() if t in type_words or matches(t, have, prefixes)) / total
            if total
            else 0.0
        )

    def clause_similarity(self, query_vectors: np.ndarray, sentences: list[Sentence]) -> np.ndarray:
        """Best clause-level cosine per query vector (rows) and sentence (columns): a long sentence that
        answers in one clause ("during a summit in Seoul on Thursday") should not be diluted by its others."""
        texts, owner = [], []
        for i, s in enumerate(sentences):
            for a, b in clauses(s.text):
                if len(s.text[a:b].split()) >= CLAUSE_MIN_WORDS:
                    texts.append(s.text[a:b])
                    owner.append(i)
        best = np.full((len(query_vectors), len(sentences)), -1.0, dtype=np.float32)
        if texts:
            sims = query_vectors @ self.embeddings.encode(texts).T
            for j, i in enumerate(owner):
                best[:, i] = np.maximum(best[:, i], sims[:, j])
        return best

    def dense(self, question: Question, texts: list[str]) -> np.ndarray:
        """Cosine similarity of the question to arbitrary texts (clauses, answer sentences)."""
        closeness: np.ndarray = self.embeddings.encode(texts) @ self.embeddings.encode([question.query])[0]
        return closeness

    def score(self, question: Question, sentences: list[Sentence]) -> list[ScoredSentence]:
        """Score ``sentences`` for ``question``, best first (duplicates removed)."""
        unique = list({(s.doc_id, s.index): s for s in sentences}.values())
        if not unique:
            return []
        vectors = self.index.sentence_vectors(unique)
        # Both wordings are embedded: the resolved one ("trade") meets the article's words, the user's own
        # ("commerce") keeps the phrasing MiniLM was trained on; a sentence is as close as the closer one.
        query_vectors = self.embeddings.encode(list(dict.fromkeys([question.query, question.raw_query])))
        whole = query_vectors @ vectors.T
        dense = np.maximum(whole, CLAUSE_DISCOUNT * self.clause_similarity(query_vectors, unique)).max(axis=0)
        if question.is_follow_up:
            # The follow-up's own words say what is asked now; the carried turn only says about what.
            own = vectors @ self.embeddings.encode([question.resolved])[0]
            dense = FOLLOW_UP_OWN * own + (1 - FOLLOW_UP_OWN) * dense
        scored = []
        for s, d in zip(unique, dense, strict=True):
            typed = self.analyser.satisfies(
                question.answer_type, s.text, question, leaned_on=(s.doc_id, s.paragraph) in question.leans_on
            )
            lex = self.lexical(question, s, typed)
            support = self.dense_weight * max(float(d), 0.0) + (1 - self.dense_weight) * lex
            scored.append(ScoredSentence(s, float(d), lex, support, typed))
        return sorted(scored, key=lambda x: x.rank_score, reverse=True)
