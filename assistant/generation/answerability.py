"""Whether the evidence answers the question: a logistic regression over general features of the question
and its best evidence sentence, fitted on labelled questions from several documents (``assistant eval
--fit``) and shipped as a small JSON file. It replaces a single global support threshold as the last word on
"answer or refuse"; it never turns a refusal or a correction into an answer.

Serving reads the JSON and takes one dot product: scikit-learn is needed only to fit.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import nlp
from ..question import TYPE_WORDS, Question
from ..scoring import ScoredSentence, SentenceScorer

MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "answerability.json"
# Answer types that ask for a value of a kind (a date, a count, a person), as opposed to an open description.
_OPEN = frozenset({"other", "reason", "statement", "identity", "overview"})
_QUESTION_WORDS = frozenset({"what", "when", "where", "which", "who", "whom", "whose", "why", "how"})
FEATURES = (
    "support",  # blended relevance of the best evidence sentence
    "dense",  # MiniLM cosine of question and that sentence
    "lexical",  # idf-weighted share of the question's terms it contains
    "margin",  # its support minus the next sentence's
    "unknown_terms",  # share of the question's content words the whole corpus never uses
    "lemma_cover",  # share of the question's content lemmas (spaCy) found in the sentence
    "verb_cover",  # whether the question's verbs (lemmas) occur in the sentence (1 when it has none)
    "entity_cover",  # share of the question's named entities found in the sentence
    "typed_question",  # the question asks for a value of a kind, not an open description
    "focus_cover",  # whether the noun the question asks about ("which *king*", "how many *people*") is there
    "missing_idf",  # rarest question word the sentence lacks (idf, relative to the rarest possible)
)


_AUXILIARIES = frozenset({"be", "do", "have"})  # verbs that carry no content of their own


def _content_lemmas(parsed: nlp.Parse, skip: frozenset[str]) -> list[str]:
    return [
        t.lemma.lower()
        for t in parsed.tokens
        if t.pos in ("NOUN", "PROPN", "VERB", "ADJ", "NUM")
        and t.lemma.lower() not in skip
        and t.text.lower() not in _QUESTION_WORDS
    ]


def features(
    question: Question, scored: list[ScoredSentence], top: ScoredSentence, scorer: SentenceScorer
) -> dict[str, float]:
    """The model's inputs for answering ``question`` from ``top`` (one of ``scored``, best first)."""
    asked = nlp.parse(question.text)
    sentence = nlp.parse(top.sentence.text)
    have = {t.lemma.lower() for t in sentence.tokens} | {t.text.lower() for t in sentence.tokens}
    lemmas = _content_lemmas(asked, TYPE_WORDS.get(question.answer_type, frozenset()) | _AUXILIARIES)
    verbs = [t.lemma.lower() for t in asked.tokens if t.pos == "VERB" and t.lemma.lower() not in _AUXILIARIES]
    entities = [
        e.text.lower()
        for e in asked.entities
        if e.label not in ("DATE", "CARDINAL", "ORDINAL") or any(c.isdigit() for c in e.text)
    ]
    own = [t for t in question.own_terms if not t.startswith("#")]
    others = [s.support for s in scored if s is not top]
    text = top.sentence.text.lower()
    return {
        "support": top.support,
        "dense": top.dense,
        "lexical": top.lexical,
        "margin": top.support - max(others, default=0.0),
        "unknown_terms": sum(scorer.document_frequency(t) == 0 for t in own) / len(own) if own else 0.0,
        "lemma_cover": sum(lemma in have for lemma in lemmas) / len(lemmas) if lemmas else 1.0,
        "verb_cover": float(all(v in have for v in verbs)) if verbs else 1.0,
        "entity_cover": sum(e in text for e in entities) / len(entities) if entities else 1.0,
        "typed_question": float(question.answer_type not in _OPEN),
        "focus_cover": float(all(f in have for f in nlp.focus_nouns(asked))),
        "missing_idf": _missing_idf(question, top, scorer),
    }


def _missing_idf(question: Question, top: ScoredSentence, scorer: SentenceScorer) -> float:
    have = scorer.terms(top.sentence)
    missing = [scorer.idf(t) for t in set(question.own_terms) if not t.startswith("#") and t not in have]
    return max(missing, default=0.0) / scorer.max_idf


@dataclass(frozen=True)
class AnswerabilityModel:
    """Standardised logistic regression: P(answering from this evidence is right)."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float  # answer when the probability is at least this
    max_words: int  # the longest question it was fitted on: it does not judge far outside what it has seen

    def judges(self, question: Question) -> bool:
        return len(question.text.split()) <= self.max_words

    def probability(self, values: dict[str, float]) -> float:
        z = self.intercept + sum(
            c * (values[n] - m) / s for n, m, s, c in zip(self.names, self.mean, self.scale, self.coef, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-z))

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> AnswerabilityModel | None:
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            tuple(data["features"]),
            tuple(data["mean"]),
            tuple(data["scale"]),
            tuple(data["coef"]),
            float(data["intercept"]),
            float(data["threshold"]),
            int(data["max_words"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.names),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "threshold": self.threshold,
            "max_words": self.max_words,
        }
