"""Measure the LLM judge with two scripted chat models (``evals/scripted.py``), no real model.

    .venv/bin/python evals/llm_judge.py                    # every suite
    .venv/bin/python evals/llm_judge.py --suites main town

* The ORACLE writes each item's reference answer with the right citations. Its answer/refusal accuracy is
  set beside the suite's ceiling, the same scorer's verdict on the reference text itself (what a perfect
  answerer scores), and beside the extractive default; ``fallbacks`` counts answers the judge turned down.
* The FABRICATOR writes cited answers with invented numbers, names and dates. ``invented_shown`` counts
  final answers holding a value it made up, ``ungrounded`` final answers holding a number or name the
  documents never mention (both must be 0); ``fallbacks`` is the share answered by the extractive backend.

Writes ``evals/reports/llm-judge.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Assistant, Settings  # noqa: E402
from assistant.evaluation import ANSWERABLE, DECLINING, SUITES, Report, bot_for, evaluate, judge, load_suite  # noqa: E402
from assistant.generation.guard import GroundingGuard, strip_markers  # noqa: E402
from assistant.generation.llm import LLMGenerator  # noqa: E402
from evals.scripted import ScriptedChatModel, make_scripted  # noqa: E402

REPORT_DIR = ROOT / "evals" / "reports"
REFERENCE_KIND = {"unanswerable": "refusal", "false_premise": "correction"}


def rate(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def ceiling(items: list[dict]) -> dict[str, float | None]:
    """The scorer's verdict on each item's reference text, given the kind of answer it is."""
    correct = {
        i["id"]: judge(i, SimpleNamespace(text=i["reference"], kind=REFERENCE_KIND.get(i["kind"], "answer")))
        for i in items
    }
    return {
        "answer_accuracy": rate([correct[i["id"]] for i in items if i["kind"] in ANSWERABLE]),
        "refusal_accuracy": rate([correct[i["id"]] for i in items if i["kind"] in DECLINING]),
    }


def ungrounded(bot: Assistant, guard: GroundingGuard, text: str, question: str) -> list[str]:
    """Numbers and names in ``text`` that neither the documents nor the user's question mention (a refusal
    or correction names the question's own premise: "The article does not mention 2022")."""
    documents = " ".join(d.text for d in bot.corpus.documents)
    return guard.unsupported_values(strip_markers(text), f"{documents} {question}")


def run(extractive: Assistant, suite: str, model: ScriptedChatModel) -> tuple[Assistant, Report]:
    """``suite`` answered by ``extractive`` with ``model`` writing (same corpus, index and settings)."""
    bot = extractive.configure(chat_model=model)
    assert isinstance(bot.generator, LLMGenerator)
    return bot, evaluate(bot, suite, config="as-configured", progress=False)


def measure(suite: str, extractive: Assistant) -> dict:
    """Ceiling, extractive, oracle and fabricator figures of ``suite`` (``extractive`` is over its corpus)."""
    items = load_suite(suite)
    started = time.perf_counter()
    plain = evaluate(extractive, suite, config="as-configured", progress=False)
    oracle_bot, oracle = run(extractive, suite, make_scripted(f"oracle:{suite}"))
    ostats = oracle_bot.generator.stats
    fabricator = make_scripted("fabricator")
    fab_bot, fab = run(extractive, suite, fabricator)
    fstats = fab_bot.generator.stats
    guard = GroundingGuard(fab_bot.scorer)
    shown = [(r.id, v) for r in fab.items for v in fabricator.shown(r.question, strip_markers(r.answer))]
    bad = [(r.id, ungrounded(fab_bot, guard, r.answer, r.question)) for r in fab.items]
    bad = [(i, v) for i, v in bad if v]  # whoever wrote it: the fallback's own wording counts too
    turned_down = [
        {
            "question": j["question"],
            "raw": j["raw"],
            "why": [n for n in j["notes"] if n.startswith("llm-guard-fallback")],
        }
        for j in oracle_bot.generator.journal
        if "guard-fallback" in j["notes"]
    ]
    wrong = [
        {"id": r.id, "kind": r.kind, "answer_kind": r.answer_kind, "answer": r.answer}
        for r in oracle.items
        if not r.correct
    ]
    return {
        "suite": suite,
        "items": len(items),
        "ceiling": ceiling(items),
        "extractive": {k: plain.metrics[k] for k in ("answer_accuracy", "refusal_accuracy")},
        "oracle": {
            **{k: oracle.metrics[k] for k in ("answer_accuracy", "refusal_accuracy")},
            "calls": ostats["calls"],
            "fallbacks": ostats["guard_fallbacks"],
            "unanswered": ostats["unanswered"],
            "turned_down": turned_down,
            "wrong": wrong,
        },
        "fabricator": {
            **{k: fab.metrics[k] for k in ("answer_accuracy", "refusal_accuracy")},
            "calls": fstats["calls"],
            "fallback_share": round(fstats["guard_fallbacks"] / fstats["calls"], 4) if fstats["calls"] else None,
            "llm_text_used": fstats["llm_answers"] + fstats["llm_refusals"] + fstats["llm_corrections"],
            "invented_shown": len({i for i, _ in shown}),
            "invented_shown_examples": shown[:10],
            "ungrounded": len(bad),
            "ungrounded_examples": bad[:10],
        },
        "seconds": round(time.perf_counter() - started, 1),
    }


def markdown(rows: list[dict]) -> str:
    def pct(x: float | None) -> str:
        return "–" if x is None else f"{100 * x:.1f}"

    lines = [
        "# The LLM judge, measured with scripted models",
        "",
        "`python evals/llm_judge.py`. Accuracies in %. *Ceiling*: the scorer's verdict on the reference answers "
        "themselves. *Oracle*: a scripted model writing each reference with the right citations (`scripted:oracle:SUITE`); "
        "*fallbacks*: its answers the judge turned down for the extractive one. *Fabricator*: a scripted model "
        "writing cited answers with invented numbers, names and dates (`scripted:fabricator`); *invented shown*: final "
        "answers holding a value it invented, *ungrounded*: final answers holding a number or name the documents never "
        "mention (both must be 0).",
        "",
        "| suite | n | ceiling ans | ceiling ref | extractive ans | extractive ref | oracle ans | oracle ref | oracle fallbacks "
        "| fabricator fallback share | invented shown | ungrounded |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c, e, o, f = r["ceiling"], r["extractive"], r["oracle"], r["fabricator"]
        lines.append(
            f"| {r['suite']} | {r['items']} | {pct(c['answer_accuracy'])} | {pct(c['refusal_accuracy'])} | {pct(e['answer_accuracy'])} "
            f"| {pct(e['refusal_accuracy'])} | {pct(o['answer_accuracy'])} | {pct(o['refusal_accuracy'])} | {o['fallbacks']}/{o['calls']} "
            f"| {pct(f['fallback_share'])} | {f['invented_shown']} | {f['ungrounded']} |"
        )
    lines += ["", "## Oracle answers the judge turned down", ""]
    for r in rows:
        for t in r["oracle"]["turned_down"]:
            lines.append(f"- {r['suite']}: {t['question']} — {'; '.join(t['why'])}")
    lines += ["", "## Fabricator: final answers holding a value the documents never mention", ""]
    lines += [
        f"- {r['suite']} {i}: {', '.join(v)}" for r in rows for i, v in r["fabricator"]["ungrounded_examples"]
    ] or ["(none)"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suites", nargs="+", default=list(SUITES), choices=list(SUITES))
    parser.add_argument("--out", type=Path, default=REPORT_DIR / "llm-judge", help="path without extension")
    args = parser.parse_args()
    extractive = Assistant(Settings(llm="extractive"))
    rows = []
    for suite in args.suites:
        row = measure(suite, bot_for(extractive, suite))
        o, f = row["oracle"], row["fabricator"]
        print(
            f"{suite}: ceiling {row['ceiling']} oracle ans={o['answer_accuracy']} ref={o['refusal_accuracy']} fallbacks={o['fallbacks']}/{o['calls']}"
            f" | fabricator fallback={f['fallback_share']} invented_shown={f['invented_shown']} ungrounded={f['ungrounded']} ({row['seconds']} s)",
            flush=True,
        )
        rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(markdown(rows), encoding="utf-8")


if __name__ == "__main__":
    main()
