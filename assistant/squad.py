"""Reader training examples from SQuAD-format files: (question, window) pairs, each either answered by a
span of the window or not answered by it.

A sentence window (``reader.window``: a sentence with the one before it), not a paragraph, is the unit: it
is what the engine hands the reader for each retrieved sentence, and what a 2-core machine can train on in
one session. Sentences are split by the corpus' own splitter, so the reader trains on the text it will
serve. Per question, windows ending at:

- answerable: its answer's sentence (positive, with the span), and the paragraph's other sentence that
  shares the most words with the question (negative: on topic, not the answer; positive when the answer
  is the sentence before it);
- unanswerable (SQuAD 2.0): the sentence of its ``plausible_answers`` span (negative: the near-miss a
  careless reader quotes), and the most overlapping other sentence when that is another one.

``entity_swaps`` adds near-misses made from answerable pairs: the question with one of its names or numbers
that the window holds replaced by another of the same kind from the same article ("When did Beyoncé
leave Destiny's Child?" asked of a window about Kelly Rowland), so the window shares every word but the one
that matters. SQuAD 2.0's crowd-written near-misses are few; these make more of that kind.

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
from .reader import WINDOW_CHARS, window

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
    sentences: tuple[str, ...]  # the paragraph's
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
    best, best_shared = -1, 0
    for i, sentence in enumerate(sentences):
        shared = len(asked & _words(sentence))
        if i != skip and shared > best_shared:
            best, best_shared = i, shared
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


def overlap(question: str, sentence: str) -> float:
    """The share of the question's content words that the sentence holds: SQuAD's crowd workers often copied
    their question's words from its sentence, so a reader can learn to take shared wording for an answer."""
    asked = _words(question)
    return len(asked & _words(sentence)) / len(asked) if asked else 1.0


def _pair(
    question: str,
    qid: str,
    title: str,
    sentences: list[str],
    spans: list[tuple[int, int]],
    i: int,
    answer: tuple[int, int] | None,
    window_chars: int,
) -> Example:
    """The pair of the window ending at sentence ``i``: positive when it holds ``answer`` (a character span
    of the paragraph), with the span's offsets in the window's text."""
    text, offset = window(sentences, i, window_chars)
    if answer is not None:
        held = _sentence_of(spans, *answer)
        if held == i or (held == i - 1 and offset):
            start = answer[0] - spans[held][0] + (offset if held == i else 0)
            return Example(question, text, start, start + answer[1] - answer[0], title, qid)
    return Example(question, text, -1, -1, title, qid)


def examples(articles: list[dict[str, Any]], titles: Iterable[str], window_chars: int = WINDOW_CHARS) -> list[Example]:
    """Training pairs from the ``titles`` articles (see the module's docstring for which), read in windows of
    up to ``window_chars`` (0: a sentence alone)."""
    out: list[Example] = []
    for title, context, spans, qas in _paragraphs(articles, set(titles)):
        sentences = [context[s:e] for s, e in spans]
        for qa in qas:
            question, qid = qa["question"], qa["id"]
            impossible = qa.get("is_impossible", False) or not qa.get("answers")
            spans_given = qa.get("plausible_answers", []) if impossible else qa["answers"]
            first = spans_given[0] if spans_given else None
            given = (first["answer_start"], first["answer_start"] + len(first["text"])) if first else None
            target = _sentence_of(spans, *given) if given else -1
            answer = None if impossible else given  # a plausible answer's span is no answer
            if target < 0 and not impossible:
                continue  # an answer across a sentence boundary: no sentence is its unit
            if target >= 0:
                out.append(_pair(question, qid, title, sentences, spans, target, answer, window_chars))
            other = _most_overlapping(question, sentences, target)
            if other >= 0:
                out.append(_pair(question, qid, title, sentences, spans, other, answer, window_chars))
    return out


def sample(pairs: list[Example], questions: int, max_overlap: float, seed: int) -> list[Example]:
    """The pairs of ``questions`` questions drawn with ``seed`` from those whose answering window holds at most
    ``max_overlap`` of their content words (``overlap``; 1: any question)."""
    wanted = sorted({e.qid for e in pairs if e.answerable and overlap(e.question, e.sentence) <= max_overlap})
    keep = set(random.Random(seed).sample(wanted, min(questions, len(wanted))))
    return [e for e in pairs if e.qid in keep]


# Entity kinds worth swapping: a name, place, date or number the question pins its answer to.
_SWAPPABLE = frozenset(
    "PERSON NORP FAC ORG GPE LOC PRODUCT EVENT WORK_OF_ART LAW LANGUAGE DATE TIME PERCENT MONEY QUANTITY "
    "ORDINAL CARDINAL".split()
)


def entity_swaps(pairs: list[Example], rate: float, seed: int) -> list[Example]:
    """Unanswerable near-misses from a ``rate`` share of the answerable ``pairs`` (see the module's
    docstring): the question with one name or number that its window holds swapped for another of the same
    kind that its article's questions name and the window does not. Questions with no such name are skipped."""
    from . import nlp

    positives = [e for e in pairs if e.answerable]
    rng = random.Random(seed)
    chosen = {id(e) for e in positives if rng.random() < rate}
    entities: dict[str, list[tuple[str, str]]] = {}  # question -> (text, label)
    pool: dict[tuple[str, str], set[str]] = {}
    asked = sorted({e.question for e in positives})
    model = nlp.pipeline()
    for text, doc in zip(asked, model.pipe(asked, batch_size=512, disable=["parser", "lemmatizer"]), strict=True):
        entities[text] = [(ent.text, ent.label_) for ent in doc.ents if ent.label_ in _SWAPPABLE]
    for e in positives:
        for text, label in entities[e.question]:
            pool.setdefault((e.article, label), set()).add(text)
    out = []
    for e in positives:
        if id(e) not in chosen:
            continue
        held = e.sentence.lower()
        anchors = [(t, lab) for t, lab in entities[e.question] if t.lower() in held]
        if not anchors:
            continue
        text, label = rng.choice(anchors)
        others = sorted(o for o in pool[(e.article, label)] if o.lower() not in held and o.lower() != text.lower())
        if others:
            question = e.question.replace(text, rng.choice(others), 1)
            out.append(Example(question, e.sentence, -1, -1, e.article, e.qid + "-swap"))
    return out
