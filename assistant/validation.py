"""How well the reader alone does on SQuAD-format questions with their paragraph given: the threshold sweep,
the chosen threshold and the reliability curve. Used by ``assistant train`` for the model card."""

from __future__ import annotations

import re
import string
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .reader import SpanReader, window
from .squad import Question

_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalise_answer(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(c for c in text.lower() if c not in string.punctuation)
    return " ".join(_ARTICLES.sub(" ", text).split())


def span_f1(predicted: str, reference: str) -> float:
    """SQuAD's token F1 between two answers."""
    got, want = normalise_answer(predicted).split(), normalise_answer(reference).split()
    common = sum((Counter(got) & Counter(want)).values())
    if not got or not want or common == 0:
        return float(got == want)
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class Outcome:
    """The reader on one question: its best sentence's probability, and whether answering from it is right."""

    probability: float
    answerable: bool
    right_sentence: bool  # the best sentence is the answer's
    f1: float  # the best sentence's span against the references (0 for an unanswerable question)

    @property
    def right(self) -> bool:
        """Whether answering (rather than refusing) would be right."""
        return self.answerable and self.f1 >= 0.5


def read_questions(reader: SpanReader, questions: list[Question]) -> list[Outcome]:
    out = []
    for q in questions:
        windows = [window(q.sentences, i, reader.window_chars) for i in range(len(q.sentences))]
        readings = reader.read(q.question, [text for text, _ in windows])
        best = max(range(len(readings)), key=lambda i: readings[i].probability)
        # The span names the sentence: the window's own, or the one before it.
        cited = best if readings[best].start >= windows[best][1] else best - 1
        f1 = max((span_f1(readings[best].text, a) for a in q.answers), default=0.0)
        out.append(Outcome(readings[best].probability, bool(q.answers), cited == q.answer_sentence, f1))
    return out


def sweep(outcomes: list[Outcome], steps: int = 41) -> dict[str, Any]:
    """Accuracy at thresholds 0 … 1: overall, on answerable questions (answered right) and unanswerable ones
    (refused)."""
    answerable = [o for o in outcomes if o.answerable]
    impossible = [o for o in outcomes if not o.answerable]
    curve = []
    for threshold in np.linspace(0.0, 1.0, steps):
        has = sum(o.probability >= threshold and o.right for o in answerable)
        no = sum(o.probability < threshold for o in impossible)
        curve.append(
            {
                "threshold": round(float(threshold), 3),
                "overall": (has + no) / len(outcomes) if outcomes else 0.0,
                "has_answer": has / len(answerable) if answerable else 0.0,
                "no_answer": no / len(impossible) if impossible else 0.0,
            }
        )
    return {
        "questions": len(outcomes),
        "answerable": len(answerable),
        "sentence_accuracy": float(np.mean([o.right_sentence for o in answerable])) if answerable else 0.0,
        "span_f1": float(np.mean([o.f1 for o in answerable])) if answerable else 0.0,
        "curve": curve,
    }


def choose_threshold(curve: list[dict[str, float]]) -> dict[str, float]:
    """The sweep's row with the best overall accuracy (the lower threshold on a tie)."""
    return max(curve, key=lambda row: (row["overall"], -row["threshold"]))


def reliability_plot(outcomes: list[Outcome], path: Path, title: str, bins: int = 10) -> None:
    """Predicted probability against how often answering was right, per probability bin, with the counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = np.array([o.probability for o in outcomes])
    right = np.array([o.right for o in outcomes], dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    centres, rates, counts = [], [], []
    for b in range(bins):
        members = which == b
        if members.any():
            centres.append(float(p[members].mean()))
            rates.append(float(right[members].mean()))
            counts.append(int(members.sum()))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5.5, 6), height_ratios=[3, 1], sharex=True)
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfectly calibrated")
    top.plot(centres, rates, marker="o", label="reader")
    top.set_ylabel("share where answering is right")
    top.set_title(title, fontsize=10)
    top.legend(loc="upper left")
    bottom.bar(centres, counts, width=0.08)
    bottom.set_xlabel("reader probability of the best sentence")
    bottom.set_ylabel("questions")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
