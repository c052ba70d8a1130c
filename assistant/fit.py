"""Fit the answerability model (``assistant eval --fit``) on the development suites of several documents,
report it with leave-one-document-out predictions and a reliability curve, and save it for serving.

Held-out suites are never read here: the model is measured on them only through ordinary eval runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .core import Assistant
from .evaluation import ANSWERABLE, DOCUMENT_SUITES, HELD_OUT, bot_for, history_of, judge, load_suite
from .generation.answerability import FEATURES, MODEL_PATH, AnswerabilityModel

# Development suites of three documents: the summit, a town's history, a ferry news story.
KEEP_RIGHT = 0.975
FIT_SUITES = ("main", "paraphrase-dev", "paraphrase-dev2", "dialogues", "town", "ferry")


@dataclass
class Sample:
    suite: str
    id: str
    features: dict[str, float]
    label: int  # 1 when answering from this evidence is right
    words: int  # length of the question


def _document(suite: str) -> str:
    return suite if suite in DOCUMENT_SUITES else "summit"


def collect(bot: Assistant, suites: tuple[str, ...] = FIT_SUITES) -> list[Sample]:
    """Ask every question with the model off; each one the rules answer becomes a sample, labelled by
    whether that answer is right (an unanswerable or false-premise question answered is wrong)."""
    if HELD_OUT & set(suites):
        raise ValueError(f"held-out suites are never fitted on: {sorted(HELD_OUT & set(suites))}")
    samples = []
    for suite in suites:
        runner = bot_for(bot, suite).configure(answerability=False)
        for item in load_suite(suite):
            answer = runner.chat(item["question"], history_of(item, runner))
            if answer.kind == "answer" and answer.features:
                label = int(item["kind"] in ANSWERABLE and judge(item, answer))
                samples.append(Sample(suite, item["id"], answer.features, label, len(item["question"].split())))
    return samples


def fit(samples: list[Sample], c: float = 1.0) -> tuple[AnswerabilityModel, dict[str, Any]]:
    """A standardised, class-balanced logistic regression, with each document's samples also predicted by a
    model fitted on the other documents (that is what the report's calibration shows)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x = np.array([[s.features[n] for n in FEATURES] for s in samples])
    y = np.array([s.label for s in samples])
    docs = np.array([_document(s.suite) for s in samples])

    def train(mask: np.ndarray) -> tuple[StandardScaler, LogisticRegression]:
        scaler = StandardScaler().fit(x[mask])
        return scaler, LogisticRegression(C=c, max_iter=1000).fit(scaler.transform(x[mask]), y[mask])

    held = np.zeros(len(y))
    for doc in sorted(set(docs)):
        scaler, model = train(docs != doc)
        held[docs == doc] = model.predict_proba(scaler.transform(x[docs == doc]))[:, 1]
    scaler, model = train(np.ones(len(y), dtype=bool))
    threshold = operating_threshold(y, held)
    fitted = AnswerabilityModel(
        FEATURES,
        tuple(float(v) for v in scaler.mean_),
        tuple(float(v) for v in scaler.scale_),
        tuple(float(v) for v in model.coef_[0]),
        float(model.intercept_[0]),
        threshold,
        max(s.words for s in samples),
    )
    report = {
        "samples": len(y),
        "positives": int(y.sum()),
        "by_document": {d: int((docs == d).sum()) for d in sorted(set(docs))},
        "coefficients": dict(zip(FEATURES, (round(float(v), 4) for v in model.coef_[0]), strict=True)),
        "threshold": threshold,
        "keep_right_at_least": KEEP_RIGHT,
        "leave_one_document_out": _scores(y, held, docs, threshold),
        "predictions": [
            {"suite": s.suite, "id": s.id, "label": s.label, "held_out_probability": round(float(p), 4)}
            for s, p in zip(samples, held, strict=True)
        ],
    }
    return fitted, report


def operating_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The highest threshold that still keeps ``KEEP_RIGHT`` of the right answers in the leave-one-document-out
    predictions: a right answer refused costs as much as a wrong one kept, and right answers are the many."""
    grid = [round(0.05 * i, 2) for i in range(1, 20)]
    kept = [t for t in grid if (y[p >= t].sum() / max(y.sum(), 1)) >= KEEP_RIGHT]
    return max(kept, default=grid[0])


def _scores(y: np.ndarray, p: np.ndarray, docs: np.ndarray, threshold: float) -> dict[str, Any]:
    out = {}
    for doc in [*sorted(set(docs)), "all"]:
        mask = np.ones(len(y), dtype=bool) if doc == "all" else docs == doc
        keep, drop = (p >= threshold) & mask, (p < threshold) & mask
        out[doc] = {
            "n": int(mask.sum()),
            "right_answers_kept": round(float(y[keep].sum() / max(y[mask].sum(), 1)), 4),
            "wrong_answers_dropped": round(float((1 - y[drop]).sum() / max((1 - y[mask]).sum(), 1)), 4),
            "brier": round(float(np.mean((p[mask] - y[mask]) ** 2)), 4),
        }
    return out


def reliability_plot(report: dict[str, Any], path: Path) -> Path:
    """Reliability curve of the leave-one-document-out probabilities (predicted vs observed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import calibration_curve

    y = np.array([r["label"] for r in report["predictions"]])
    p = np.array([r["held_out_probability"] for r in report["predictions"]])
    observed, predicted = calibration_curve(y, p, n_bins=8, strategy="quantile")
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfectly calibrated")
    ax.plot(predicted, observed, "o-", label=f"answerability (leave one document out, n={len(y)})")
    ax.set_xlabel("predicted probability that answering is right")
    ax.set_ylabel("observed share of right answers")
    ax.set_title("Answerability model: reliability")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def fit_and_save(bot: Assistant, report_dir: Path, model_path: Path = MODEL_PATH) -> dict[str, Any]:
    fitted, report = fit(collect(bot))
    model_path.parent.mkdir(parents=True, exist_ok=True)
    model_path.write_text(json.dumps(fitted.to_dict(), indent=2) + "\n", encoding="utf-8")
    (report_dir / "answerability-fit.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    reliability_plot(report, report_dir / "answerability-reliability.png")
    return report
