"""Eval reports on disk: JSON for machines, Markdown for people, a PNG bar chart for comparisons."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .evaluation import BESIDE, HELD_OUT, Report

TABLE_METRICS = [
    "answer_accuracy",
    "refusal_accuracy",
    "unanswerable_accuracy",
    "false_premise_accuracy",
    "refusal_precision",
    "refusal_recall",
    "hit_at_1",
    "hit_at_3",
    "mrr",
    "token_f1",
    "latency_p50_ms",
    "latency_p95_ms",
]
# The columns of the all-suites overview: what the suites are judged by.
OVERVIEW_METRICS = ["answer_accuracy", "refusal_accuracy", "false_premise_accuracy", "hit_at_3", "latency_p50_ms"]
OVERVIEW_HEADER = ["suite", "config", "items", "answer", "refusal", "false premise", "hit@3", "p50 ms"]
CHART_METRICS = ["answer_accuracy", "refusal_accuracy", "hit_at_1", "hit_at_3", "mrr", "token_f1"]


def overview_rows(reports: list[Report]) -> list[list[str]]:
    """One row per (suite, config): the suite (marked when held out), its size and ``OVERVIEW_METRICS``."""
    return [
        [
            r.suite + (" (held out)" if r.suite.removesuffix(BESIDE) in HELD_OUT else ""),
            r.config,
            f"{r.metrics['items']:g}",
        ]
        + [f"{r.metrics[m]:g}" for m in OVERVIEW_METRICS]
        for r in reports
    ]


def markdown(reports: list[Report]) -> str:
    header = OVERVIEW_HEADER
    lines = ["### All suites", "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in overview_rows(reports)]
    lines.append("")
    for suite in dict.fromkeys(r.suite for r in reports):
        rows = [r for r in reports if r.suite == suite]
        lines += [f"### Suite `{suite}` ({rows[0].metrics['items']} questions)", ""]
        lines.append("| config | " + " | ".join(TABLE_METRICS) + " |")
        lines.append("|---" * (len(TABLE_METRICS) + 1) + "|")
        for r in rows:
            lines.append(f"| {r.config} | " + " | ".join(f"{r.metrics[m]:g}" for m in TABLE_METRICS) + " |")
        kinds = sorted({k for r in rows for k in r.by_kind})
        lines += [
            "",
            "Accuracy by kind of question:",
            "",
            "| config | " + " | ".join(f"{k} (n={rows[0].by_kind.get(k, {}).get('n', 0)})" for k in kinds) + " |",
        ]
        lines.append("|---" * (len(kinds) + 1) + "|")
        for r in rows:
            lines.append(
                f"| {r.config} | "
                + " | ".join(f"{r.by_kind.get(k, {}).get('accuracy', float('nan')):g}" for k in kinds)
                + " |"
            )
        lines.append("")
    return "\n".join(lines)


def chart(reports: list[Report], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only; no display on servers or CI
    import matplotlib.pyplot as plt
    import numpy as np

    suites = list(dict.fromkeys(r.suite for r in reports))
    fig, axes = plt.subplots(len(suites), 1, figsize=(11, 3.6 * len(suites)), squeeze=False)
    for ax, suite in zip(axes[:, 0], suites, strict=True):
        rows = [r for r in reports if r.suite == suite]
        width = 0.8 / len(rows)
        x = np.arange(len(CHART_METRICS))
        for i, r in enumerate(rows):
            values = [r.metrics[m] for m in CHART_METRICS]
            bars = ax.bar(x + i * width - 0.4 + width / 2, values, width, label=r.config)
            ax.bar_label(bars, fmt="%.2f", fontsize=6, padding=1)
        ax.set_xticks(x, CHART_METRICS)
        ax.set_ylim(0, 1.1)
        ax.set_title(f"suite: {suite}")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write(
    reports: list[Report], directory: Path, name: str, with_chart: bool = False, extra: dict[str, Any] | None = None
) -> dict[str, Path]:
    """Write ``name``.json/.md (and .png) under ``directory``; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    paths = {"json": directory / f"{name}.json", "md": directory / f"{name}.md"}
    payload = {"generated": stamp, **(extra or {}), "reports": [r.to_dict() for r in reports]}
    paths["json"].write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    body = f"# Eval report: {name}\n\nGenerated {stamp}.\n\n{markdown(reports)}"
    if with_chart:
        paths["png"] = chart(reports, directory / f"{name}.png")
        body += f"\n![{name}]({paths['png'].name})\n"
    paths["md"].write_text(body, encoding="utf-8")
    return paths
