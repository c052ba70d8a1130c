"""Reader training examples from SQuAD-format files: (question, sentence) pairs, each either answered by a
span of the sentence or not answered by it.

A sentence, not a paragraph, is the unit: it is what the engine's retrieval hands the reader, and what a
2-core machine can train on in one session. Sentences are split by the corpus' own splitter, so the
reader trains on the sentences it will serve. Per question:

- answerable: its answer's sentence (positive, with the span), and the paragraph's other sentence that
  shares the most words with the question (negative: on topic, not the answer);
- unanswerable (SQuAD 2.0): the sentence of its ``plausible_answers`` span (negative: the near-miss a
  careless reader quotes), and the most overlapping other sentence when that is another one.

Articles, never questions, are split between training and validation: questions on one paragraph share
its wording.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .corpus import split_sentences

_WORD = re.compile(r"\w+")
# Words too common to say a sentence is about the question (a negative chosen by overlap must share content).
_STOP = frozenset(
    "a an the of in on at to for by with from and or as is was were are be been what which who whom whose when "
    "where why how did do does that this these those it its their his her they he she there than into".split()
)


@dataclass(frozen=True)
class Example:
    question: str
    sentence: str
    answer_start: int  # character span of the answer in ``sentence``; -1 when the sentence does not answer
    answer_end: int
    article: str
    qid: str

    @property
    def answerable(self) -> bool:
        return self.answer_start >= 0


@dataclass(frozen=True)
class Question:
    """One SQuAD question with its paragraph's sentences, for validation (the reader scores every sentence)."""

    qid: str
    article: str
    question: str
    sentences: tuple[str, ...]
    answers: tuple[str, ...]  # empty: unanswerable
    answer_sentence: int  # index of the first answer's sentence; -1 when unanswerable


class SquadFormatError(ValueError):
    """A file that is not SQuAD JSON (``{"data": [{"title", "paragraphs": [{"context", "qas"}]}]}``)."""


def load_articles(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SquadFormatError(f"{path}: not a readable SQuAD JSON file ({exc})") from exc
    if not isinstance(data, list) or not all("paragraphs" in a and "title" in a for a in data):
        raise SquadFormatError(f"{path}: 'data' must be a list of articles with 'title' and 'paragraphs'")
    return data


def split_articles(titles: Iterable[str], validation: int, seed: int) -> tuple[list[str], list[str]]:
    """(training, validation) article titles: ``validation`` of them drawn with ``seed``."""
    ordered = sorted(set(titles))
    held = set(random.Random(seed).sample(ordered, min(validation, len(ordered) - 1)))
    return [t for t in ordered if t not in held], [t for t in ordered if t in held]


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _sentence_of(spans: list[tuple[int, int]], start: int, end: int) -> int:
    """The sentence holding the character span [start, end), or -1 when it crosses a boundary."""
    for i, (s, e) in enumerate(spans):
        if s <= start and end <= e:
            return i
    return -1


def _most_overlapping(question: str, sentences: list[str], skip: int) -> int:
    asked = _words(question)
    best, best_overlap = -1, 0
    for i, sentence in enumerate(sentences):
        overlap = len(asked & _words(sentence))
        if i != skip and overlap > best_overlap:
            best, best_overlap = i, overlap
    return best


def _paragraphs(
    articles: list[dict[str, Any]], titles: set[str]
) -> Iterator[tuple[str, str, list[tuple[int, int]], list[dict[str, Any]]]]:
    for article in articles:
        if article["title"] not in titles:
            continue
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            yield article["title"], context, split_sentences(context), paragraph["qas"]


def questions(articles: list[dict[str, Any]], titles: Iterable[str]) -> list[Question]:
    """Every question of the ``titles`` articles, with its paragraph split into sentences."""
    out: list[Question] = []
    for title, context, spans, qas in _paragraphs(articles, set(titles)):
        sentences = tuple(context[s:e] for s, e in spans)
        for qa in qas:
            answers = tuple(a["text"] for a in qa.get("answers", []))
            index = -1
            if answers and not qa.get("is_impossible", False):
                first = qa["answers"][0]
                index = _sentence_of(spans, first["answer_start"], first["answer_start"] + len(first["text"]))
            else:
                answers = ()
            out.append(Question(qa["id"], title, qa["question"], sentences, answers, index))
    return out


def examples(articles: list[dict[str, Any]], titles: Iterable[str]) -> list[Example]:
    """Training pairs from the ``titles`` articles (see the module's docstring for which)."""
    out: list[Example] = []
    for title, context, spans, qas in _paragraphs(articles, set(titles)):
        sentences = [context[s:e] for s, e in spans]
        for qa in qas:
            question, qid = qa["question"], qa["id"]
            impossible = qa.get("is_impossible", False) or not qa.get("answers")
            spans_given = qa.get("plausible_answers", []) if impossible else qa["answers"]
            start = spans_given[0]["answer_start"] if spans_given else -1
            length = len(spans_given[0]["text"]) if spans_given else 0
            target = _sentence_of(spans, start, start + length) if spans_given else -1
            if target >= 0:
                if impossible:
                    out.append(Example(question, sentences[target], -1, -1, title, qid))
                else:
                    offset = start - spans[target][0]
                    out.append(Example(question, sentences[target], offset, offset + length, title, qid))
            elif not impossible:
                continue  # an answer across a sentence boundary: no sentence is its unit
            other = _most_overlapping(question, sentences, target)
            if other >= 0:
                out.append(Example(question, sentences[other], -1, -1, title, qid))
    return out
