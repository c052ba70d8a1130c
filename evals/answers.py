"""Record every eval suite's answers (kind, text, support) and compare two recordings: a refactoring that must
not change behaviour is proven by an empty diff.

    python evals/answers.py record before.json
    python evals/answers.py compare before.json after.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant import Assistant
from assistant.evaluation import CONFIGS, DEFAULT_CONFIG, SUITES, bot_for, load_suite, run_items


def record(bot: Assistant, suites: list[str]) -> dict[str, dict[str, list[str]]]:
    """{suite: {item id: [answer kind, answer text, support]}} for the default configuration."""
    answers = {}
    for suite in suites:
        variant = bot_for(bot, suite).configure(**CONFIGS[DEFAULT_CONFIG])
        results = run_items(variant, load_suite(suite), suite, progress=False)
        answers[suite] = {r.id: [r.answer_kind, r.answer, r.support] for r in results}
    return answers


def compare(before: dict, after: dict) -> list[str]:
    """One line per suite or item whose answer differs."""
    lines = [f"{suite}: only in one recording" for suite in sorted(before.keys() ^ after.keys())]
    for suite in sorted(before.keys() & after.keys()):
        for item in sorted(before[suite].keys() | after[suite].keys()):
            if before[suite].get(item) != after[suite].get(item):
                lines.append(f"{suite}/{item}: {before[suite].get(item)} -> {after[suite].get(item)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("out", type=Path)
    rec.add_argument("--suite", action="append", choices=list(SUITES))
    cmp = sub.add_parser("compare")
    cmp.add_argument("before", type=Path)
    cmp.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "record":
        answers = record(Assistant(), args.suite or list(SUITES))
        args.out.write_text(json.dumps(answers, indent=1, ensure_ascii=False), encoding="utf-8")
        print(f"{sum(map(len, answers.values()))} answers in {len(answers)} suites -> {args.out}")
        return 0
    before, after = (json.loads(p.read_text(encoding="utf-8")) for p in (args.before, args.after))
    lines = compare(before, after)
    print("\n".join(lines) or f"identical: {sum(map(len, before.values()))} answers in {len(before)} suites")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
