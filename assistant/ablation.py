"""Rule ablation (``assistant eval --ablation``): every suite with all answer rules, then with each rule
family switched off; a family earns its place by what answers are lost without it, on suites other than
the one it was written on."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .core import Assistant
from .evaluation import (
    BESIDE,
    CONFIGS,
    DEFAULT_CONFIG,
    DOCUMENT_SUITES,
    HELD_OUT,
    ItemResult,
    bot_for,
    load_suite,
    run_items,
    summarise,
)
from .generation.rules import RULE_NAMES

METRICS = ("answer_accuracy", "refusal_accuracy")


def held_out(suite: str) -> bool:
    """Reported, never used to decide: a held-out suite, alone or beside the summit article."""
    return suite.removesuffix(BESIDE) in HELD_OUT


@dataclass(frozen=True)
class Cell:
    """One suite without one family: the metrics' change against all rules, and how many answers differ."""

    deltas: dict[str, float]
    changed: int


@dataclass
class Ablation:
    suites: list[str]
    baseline: dict[str, dict[str, float]]  # suite -> metric -> value with every rule on
    cells: dict[str, dict[str, Cell]]  # family -> suite -> cell

    def helps(self, rule: str) -> list[str]:
        """Development suites (never held-out ones) on which switching ``rule`` off loses accuracy."""
        return [s for s in self.suites if not held_out(s) and any(d < 0 for d in self.cells[rule][s].deltas.values())]

    def hurts(self, rule: str) -> list[str]:
        """Development suites on which switching ``rule`` off gains accuracy."""
        return [s for s in self.suites if not held_out(s) and any(d > 0 for d in self.cells[rule][s].deltas.values())]

    def summit_only(self) -> list[str]:
        """Families written on the summit article that help no development suite of another document."""
        return [
            rule for rule in self.cells if not any(s.removesuffix(BESIDE) in DOCUMENT_SUITES for s in self.helps(rule))
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": list(METRICS),
            "suites": self.suites,
            "held_out": [s for s in self.suites if held_out(s)],
            "baseline": self.baseline,
            "cells": {r: {s: asdict(c) for s, c in row.items()} for r, row in self.cells.items()},
        }


def ablate(bot: Assistant, suites: list[str], rules: tuple[str, ...] = RULE_NAMES, progress: bool = True) -> Ablation:
    baseline: dict[str, dict[str, float]] = {}
    cells: dict[str, dict[str, Cell]] = {rule: {} for rule in rules}
    for suite in tqdm(suites, desc="ablation", disable=not progress):
        items = load_suite(suite)
        runner = bot_for(bot, suite)
        metrics, reference = _run(runner, items, suite, [])
        baseline[suite] = {m: metrics[m] for m in METRICS}
        for rule in rules:
            without, results = _run(runner, items, suite, [rule])
            changed = sum(
                (a.answer_kind, a.answer) != (b.answer_kind, b.answer) for a, b in zip(reference, results, strict=True)
            )
            cells[rule][suite] = Cell({m: round(without[m] - metrics[m], 4) for m in METRICS}, changed)
    return Ablation(suites, baseline, cells)


def _run(
    bot: Assistant, items: list[dict[str, Any]], suite: str, disabled: list[str]
) -> tuple[dict[str, float], list[ItemResult]]:
    results = run_items(bot.configure(**CONFIGS[DEFAULT_CONFIG], disabled_rules=disabled), items, suite, progress=False)
    return summarise(results, items), results


def _signed(value: float) -> str:
    return "·" if value == 0 else f"{value:+.3f}"


def markdown(result: Ablation) -> str:
    heads = [f"{s} (held out)" if held_out(s) else s for s in result.suites]
    lines = [
        "Each cell: change in answer accuracy / refusal accuracy when the family is switched off "
        "(`assistant eval --without RULE`), against all rules on; · is no change; (n) answers that differ. "
        "Negative: the family helps that suite. Held-out suites are reported, never used to decide.",
        "",
        "| family | " + " | ".join(heads) + " | helps (dev suites) | hurts (dev suites) |",
        "|---" * (len(heads) + 3) + "|",
        "| *all rules* | "
        + " | ".join(" / ".join(f"{result.baseline[s][m]:.3f}" for m in METRICS) for s in result.suites)
        + " | | |",
    ]
    for rule, row in result.cells.items():
        cells = [
            " / ".join(_signed(row[s].deltas[m]) for m in METRICS) + (f" ({row[s].changed})" if row[s].changed else "")
            for s in result.suites
        ]
        lines.append(
            f"| `{rule}` | "
            + " | ".join(cells)
            + f" | {', '.join(result.helps(rule)) or '—'} | {', '.join(result.hurts(rule)) or '—'} |"
        )
    lines += [
        "",
        "Families that help no development suite beyond the summit article's: "
        + (", ".join(f"`{rule}`" for rule in result.summit_only()) or "none")
        + ".",
    ]
    return "\n".join(lines) + "\n"


def write(result: Ablation, directory: Path, name: str = "ablation") -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    paths = {"json": directory / f"{name}.json", "md": directory / f"{name}.md"}
    paths["json"].write_text(json.dumps({"generated": stamp, **result.to_dict()}, indent=2), encoding="utf-8")
    paths["md"].write_text(f"# Answer-rule ablation\n\nGenerated {stamp}.\n\n{markdown(result)}", encoding="utf-8")
    return paths
