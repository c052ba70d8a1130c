"""The ``assistant`` console script: chat, ask, index, eval — thin callers of ``Assistant``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast, overload

from pydantic import ValidationError
from rich.console import Console, JustifyMethod
from rich.table import Table

from . import remote
from .errors import QuestionError, UserError
from .settings import Settings, explain

if TYPE_CHECKING:
    from . import Assistant
    from .evaluation import Report
    from .index import Index

console = Console()
err = Console(stderr=True)


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        key: value
        for key, value in {
            "data_dir": args.data_dir,
            "corpus_dir": args.corpus_dir,
            "llm": getattr(args, "llm", None),
            "k": getattr(args, "k", None),
            "disabled_rules": getattr(args, "without", None),
        }.items()
        if value is not None
    }
    return Settings(**overrides)


def _assistant(args: argparse.Namespace, **kwargs: Any) -> Assistant:
    from . import Assistant

    with err.status("Loading the model and index…", spinner="dots"):
        return Assistant(_settings(args), **kwargs)


def cmd_ask(args: argparse.Namespace) -> int:
    question = " ".join(args.question)
    settings = _settings(args)
    # A chat page already running with these settings answers at once; otherwise load the engine here.
    record = None if args.local else remote.ask_page(settings, question)
    if record is not None:
        if "error" in record:
            raise QuestionError(record["error"])  # the page's message, shown as a local one would be
        answer, several = record["answer"], bool(record["several"])
    else:
        bot = _assistant(args)
        answer, several = bot.ask(question).to_dict(), bot.corpus.several_documents
    _print_answer(answer, several, args)
    if record is not None:
        note = f"answered by the chat page at {remote.page_url(settings)} (--local answers here)"
        # Under the answer, on stdout with it: a reader of the two streams one after the other would see a
        # stderr note glued to the answer's last line. With --json stdout stays pure JSON.
        (err if args.json else console).print(f"[dim]{note}[/]", highlight=False)
    return 0


def _print_answer(answer: dict[str, Any], several: bool, args: argparse.Namespace) -> None:
    """``answer`` is ``Answer.to_dict()``, whichever process answered."""
    if args.json:
        print(json.dumps(answer, indent=2, ensure_ascii=False))
        return
    label = {
        "answer": "",
        "refusal": "[yellow](not in the article)[/] ",
        "correction": "[magenta](premise corrected)[/] ",
    }[answer["kind"]]
    if label:
        console.print(label, end="")
    console.print(answer["text"], markup=False, highlight=False)
    if answer["citations"]:
        console.print("\n[bold]Sources[/]")
        for c in answer["citations"]:
            source = f"{c['title']}, paragraph {c['paragraph']}" if several else f"paragraph {c['paragraph']}"
            console.print(f"  \\[{c['marker']}] {source}: ", end="", highlight=False)
            console.print(c["text"], markup=False, highlight=False)
    if args.timings:
        console.print(f"\n[dim]timings: {answer['timings']}[/]")


def cmd_index(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    from . import Assistant

    bot = Assistant(_settings(args), rebuild=args.rebuild, progress=True)
    ix = bot.index
    for note in ix.notes + [f"skipped {s}" for s in bot.corpus.skipped]:
        err.print(f"[yellow]warning:[/] {note}", highlight=False)
    action = "built" if ix.built else "reused"
    console.print(
        f"{action} index [bold]{ix.collection_name}[/]: {len(bot.corpus.documents)} document(s), {ix.chunk_count} chunks, "
        f"{len(bot.corpus.sentences)} sentences in {ix.seconds:.2f} s (total {time.perf_counter() - started:.2f} s)",
        highlight=False,
    )
    where = (
        bot.settings.index_dir
        if bot.settings.chroma_mode == "embedded"
        else f"{bot.settings.chroma_host}:{bot.settings.chroma_port}"
    )
    console.print(f"store: {bot.settings.chroma_mode} Chroma at {where}", highlight=False)
    return 0


def _process_seconds(fallback_start: float) -> float:
    """Seconds since this process started (Linux /proc), imports included; since ``fallback_start`` elsewhere."""
    try:
        started_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - started_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - fallback_start


def cmd_chat(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    from . import heap
    from .corpus import load_corpus

    heap.compact()  # before the page's threads: a process serving for days keeps its heap compact
    from .ui import PendingAssistant, launch

    settings = _settings(args)
    # The page is served first, built from the corpus alone; the engine (index, models) loads next, while the
    # newcomer opens the link. "Ready" means the page is there: a question asked before the engine is up
    # waits for it.
    pending = PendingAssistant(settings, load_corpus(settings.corpus_dir, extra_dirs=[settings.library_dir]))
    app = launch(
        cast("Assistant", pending), host=args.host, port=args.port, share=args.share or None, prevent_thread_lock=True
    )
    err.print(f"Ready in {_process_seconds(started):.1f} s. Open {app.local_url}")
    try:
        bot = _assistant(args, corpus=pending.corpus)  # the corpus the page was built from, not read again
    except BaseException:
        app.close()  # an engine that cannot start (a damaged index, say) ends the command, as before the page
        raise
    # The loads the first answer needs (spaCy, the embedding session) happen once, here: a question asked
    # meanwhile waits for them rather than starting the same loads beside them on the one interpreter.
    bot.warm_up()
    heap.release()  # what start-up freed (the index build's session and batches) goes back to the system
    pending.ready(bot)
    err.print(f"[dim]Answering (engine loaded in {_process_seconds(started):.1f} s).[/]")
    app.block_thread()
    return 0


def _print_table(reports: list[Report]) -> None:
    from .reports import OVERVIEW_HEADER, TABLE_METRICS, overview_rows

    for suite in dict.fromkeys(r.suite for r in reports):
        table = Table(title=f"suite: {suite}")
        table.add_column("metric")
        rows = [r for r in reports if r.suite == suite]
        for r in rows:
            table.add_column(r.config, justify="right")
        for metric in ["items", *TABLE_METRICS]:
            table.add_row(metric, *(f"{r.metrics[metric]:g}" for r in rows))
        console.print(table)
    overview = Table(title="all suites")
    for column in OVERVIEW_HEADER:
        overview.add_column(column, justify="left" if column in ("suite", "config") else "right", no_wrap=True)
    for row in overview_rows(reports):
        overview.add_row(*row)
    console.print(overview)


def cmd_eval(args: argparse.Namespace) -> int:
    from . import evaluation, reports

    bot = _assistant(args)
    if args.calibrate:
        result = evaluation.calibrate(bot, args.suite[0] if args.suite else "main")
        table = Table(title=f"refusal threshold sweep on {result['suite']}")
        for col in result["sweep"][0]:
            table.add_column(col, justify="right")
        for row in result["sweep"]:
            table.add_row(*(f"{v:g}" for v in row.values()), style="bold green" if row == result["best"] else None)
        console.print(table)
        out = Path(args.report_dir) / "calibration.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2), encoding="utf-8")
        console.print(f"best threshold {result['best']['threshold']} → set ASSISTANT_REFUSAL_THRESHOLD; sweep in {out}")
        return 0
    if args.calibrate_reader:
        from .reader import MODEL_DIR, set_threshold

        result = evaluation.calibrate_reader(
            bot, tuple(args.suite) if args.suite else evaluation.READER_CALIBRATION_SUITES
        )
        best = result["best"]
        out = Path(args.report_dir) / "reader-calibration.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2), encoding="utf-8")
        folder = bot.settings.reader_dir or MODEL_DIR
        set_threshold(folder, best["threshold"], f"assistant eval --calibrate-reader on {', '.join(result['suites'])}")
        for suite, metrics in best["suites"].items():
            console.print(
                f"{suite:>16}: answer {metrics['answer_accuracy']:.3f}, refusal {metrics['refusal_accuracy']:.3f}"
            )
        console.print(
            f"reader threshold {best['threshold']} (balanced {best['balanced_accuracy']}) → {folder}; sweep in {out}"
        )
        return 0
    if args.ablation:
        from . import ablation

        ablated = ablation.ablate(bot, args.suite or list(evaluation.SUITES))
        paths = ablation.write(ablated, Path(args.report_dir))
        console.print(ablation.markdown(ablated), markup=False, highlight=False)
        console.print("report: " + ", ".join(str(p) for p in paths.values()), highlight=False)
        return 0
    configs = args.compare or [args.config]
    unknown = [c for c in configs if c not in evaluation.CONFIGS]
    if unknown:
        err.print(f"unknown config {', '.join(unknown)}; choose from {', '.join(evaluation.CONFIGS)}")
        return 2
    suites = args.suite or list(evaluation.SUITES)
    results = [evaluation.evaluate(bot, suite, config) for config in configs for suite in suites]
    _print_table(results)
    name = "compare-" + "-vs-".join(configs) if args.compare else f"eval-{configs[0]}"
    name += "".join(f"-without-{rule}" for rule in args.without or [])  # never overwrite the all-rules report
    paths = reports.write(
        results,
        Path(args.report_dir),
        name,
        with_chart=bool(args.compare),
        extra={"settings": bot.settings.model_dump(mode="json")},
    )
    console.print("report: " + ", ".join(str(p) for p in paths.values()), highlight=False)
    thresholds = evaluation.load_thresholds()
    # Thresholds are the default configuration's contract; compared alternatives are reported, not judged.
    # An ablation (--without) measures a rule family; it is not the contract's configuration either.
    judged = set() if args.without else {evaluation.DEFAULT_CONFIG} if args.compare else set(configs)
    failed = [
        f"{r.config}/{r.suite}: {f}"
        for r in results
        if r.suite == "main" and r.config in judged
        for f in evaluation.failures(r, thresholds)
    ]
    for line in failed:
        err.print(f"[red]below threshold[/] {line}", highlight=False)
    return 1 if failed else 0


def _open_library_index(settings: Settings, progress: bool) -> Index:
    """Corpus folder + ingest library, and the index over them (built incrementally when they changed)."""
    from .core import shared_embeddings
    from .index import open_index
    from .ingest import load_all

    corpus = load_all(settings)
    return open_index(corpus, shared_embeddings(settings), settings, progress=progress)


def cmd_ingest(args: argparse.Namespace) -> int:
    from .ingest import ingest, library_dir

    settings = _settings(args)
    result = ingest(args.paths, settings, progress=True)
    for source, target, title in result.added:
        console.print(f"[green]added[/] {source} → {target.name} ({title})", highlight=False)
    for source, what in result.duplicates:
        console.print(f"[yellow]already ingested[/] {source} (same text as {what}); nothing added", highlight=False)
    for source, reason in result.unsupported:
        err.print(f"[yellow]skipped[/] {source}: {reason}", highlight=False)
    for source, reason in result.failed:
        err.print(f"[red]failed[/] {source}: {reason}", highlight=False)
    if not result.added:
        console.print("Nothing new to index.")
        return 0 if (result.duplicates and not result.failed) else 1
    console.print(f"{len(result.added)} document(s) added to {library_dir(settings)}", highlight=False)
    if args.no_index:
        return 0
    ix = _open_library_index(settings, progress=True)
    stats = ix.stats
    detail = f" (embedded {stats.encoded}, reused {stats.reused} records)" if stats else ""
    console.print(
        f"index [bold]{ix.collection_name}[/]: {len(ix.corpus.documents)} document(s), {ix.chunk_count} chunks{detail}",
        highlight=False,
    )
    return 0 if not result.failed else 1


def cmd_sources(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with err.status("Opening the index…", spinner="dots"):
        ix = _open_library_index(settings, progress=False)
    chunks: dict[str, int] = {}
    for chunk in ix.chunks:
        chunks[chunk.doc_id] = chunks.get(chunk.doc_id, 0) + 1
    rows: list[dict[str, Any]] = [  # JSON-shaped: printed as is with --json
        {
            "doc_id": d.doc_id,
            "title": d.title,
            "source": d.source,
            "paragraphs": d.paragraph_count,
            "sentences": len(d.sentences),
            "chunks": chunks.get(d.doc_id, 0),
        }
        for d in ix.corpus.documents
    ]
    if args.json:
        print(
            json.dumps(
                {"collection": ix.collection_name, "documents": rows, "skipped": ix.corpus.skipped},
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    table = Table(title=f"{len(rows)} indexed document(s) in {ix.collection_name}")
    columns: list[tuple[str, JustifyMethod]] = [
        ("doc id", "left"),
        ("title", "left"),
        ("source", "left"),
        ("paragraphs", "right"),
        ("sentences", "right"),
        ("chunks", "right"),
    ]
    for col, justify in columns:
        table.add_column(col, justify=justify, overflow="fold")
    for r in rows:
        table.add_row(r["doc_id"], r["title"], r["source"], *(str(r[k]) for k in ("paragraphs", "sentences", "chunks")))
    console.print(table)
    for note in ix.corpus.skipped:
        err.print(f"[yellow]skipped[/] {note}", highlight=False)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from . import bench

    argv = (
        (["--large"] if args.large else [])
        + (["--quick"] if args.quick else [])
        + (["--only", *args.only] if args.only else [])
    )
    argv += ["--threads", str(args.threads)] if args.threads else []
    argv += ["--soak", str(args.soak), "--soak-minutes", str(args.soak_minutes)] if args.soak else []
    return bench.main([*argv, "--report-dir", args.report_dir])


def cmd_train(args: argparse.Namespace) -> int:
    from .squad import SquadFormatError
    from .train import TrainConfig, run

    given = {
        k: getattr(args, k)
        for k in ("seed", "squad1_questions", "squad1_max_overlap", "window_chars", "swap_rate", "minutes")
        if getattr(args, k) is not None
    }
    config = TrainConfig(
        squad2=args.squad2,
        squad1=args.squad1,
        out=args.out or Settings().data_dir / "reader",
        max_steps=args.max_steps,
        validation_questions=args.validation_questions,
        **given,  # the rest: TrainConfig's defaults, named once there
    )
    try:
        report = run(config, command="assistant " + " ".join(sys.argv[1:]), progress=not args.quiet)
    except SquadFormatError as exc:
        raise UserError(str(exc)) from exc
    row = report["int8"]["at_threshold"]
    console.print(
        f"reader written to {config.out}: validation overall {row['overall']:.3f} (answerable {row['has_answer']:.3f}, "
        f"unanswerable {row['no_answer']:.3f}) at threshold {row['threshold']:.2f}; model card {config.out / 'MODEL_CARD.md'}"
    )
    return 0


class _Choices(Sequence[str]):
    """Names a flag accepts (eval suites, answer rules), read from the engine only when the flag is used or
    its help shown: building the parser must not import the engine (``ask`` may not need it)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def _names(self) -> list[str]:
        if self.kind == "suites":
            from .evaluation import SUITES

            return list(SUITES)
        from .generation.rules import RULE_NAMES

        return list(RULE_NAMES)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Grounded answers about a set of documents (by default the South Korea–Cambodia summit article).",
    )
    parser.add_argument("--data-dir", type=Path, help="index/feedback/report state (ASSISTANT_DATA_DIR)")
    parser.add_argument("--corpus-dir", type=Path, help="folder of .txt/.md articles (ASSISTANT_CORPUS_DIR)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the pipeline does")
    sub = parser.add_subparsers(dest="command", required=True)
    # Options several commands share, declared once (argparse parent parsers).
    llm = argparse.ArgumentParser(add_help=False)
    llm.add_argument("--llm", help="answer backend: extractive | llamacpp:PATH | ollama:MODEL | openai:MODEL")
    reports = argparse.ArgumentParser(add_help=False)
    reports.add_argument("--report-dir", default=str(Path(__file__).resolve().parent.parent / "evals" / "reports"))

    chat = sub.add_parser("chat", parents=[llm], help="serve the chat page")
    chat.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    chat.add_argument("--port", type=int, help="port (default 7860)")
    chat.add_argument("--share", action="store_true", help="also open a public Gradio share link")
    chat.set_defaults(func=cmd_chat)

    ask = sub.add_parser("ask", parents=[llm], help="answer one question with numbered sources")
    ask.add_argument("question", nargs="+")
    ask.add_argument("--json", action="store_true", help="print the full Answer as JSON")
    ask.add_argument("--timings", action="store_true", help="print per-stage timings")
    ask.add_argument("-k", type=int, help="passages handed to the generator")
    ask.add_argument(
        "--local", action="store_true", help="answer in this process even when a chat page with the same settings runs"
    )
    ask.set_defaults(func=cmd_ask)

    index = sub.add_parser("index", help="build the index (reused when the corpus is unchanged)")
    index.add_argument("--rebuild", action="store_true", help="rebuild even if an up-to-date index exists")
    index.set_defaults(func=cmd_index)

    ev = sub.add_parser(
        "eval", parents=[llm, reports], help="run the eval suite; exit 1 when below evals/thresholds.json"
    )
    ev.add_argument(
        "--config", default="hybrid-rerank", help="named configuration (dense, bm25, hybrid, hybrid-rerank)"
    )
    ev.add_argument("--compare", nargs="+", metavar="CONFIG", help="run several configurations into one report")
    ev.add_argument(
        "--suite",
        action="append",
        choices=_Choices("suites"),
        metavar="SUITE",
        help="suite(s) to run (default: all): %(choices)s",
    )
    ev.add_argument("--calibrate", action="store_true", help="fit the refusal threshold on the suite")
    ev.add_argument(
        "--calibrate-reader",
        action="store_true",
        help="fit the reader's threshold on the development suites (or --suite) and store it with the model",
    )
    ev.add_argument(
        "--without",
        action="append",
        choices=_Choices("rules"),
        metavar="RULE",
        help="switch an answer-rule family off (repeatable): %(choices)s",
    )
    ev.add_argument(
        "--ablation",
        action="store_true",
        help="each suite with all rules, then without each family → ablation.{md,json}",
    )
    ev.set_defaults(func=cmd_eval)

    ing = sub.add_parser("ingest", help="add .txt/.md/.html/.pdf files or folders to the library, then index them")
    ing.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ing.add_argument("--no-index", action="store_true", help="only convert into the library; index on next start")
    ing.set_defaults(func=cmd_ingest)

    src = sub.add_parser("sources", help="list the indexed documents (corpus folder + ingest library)")
    src.add_argument("--json", action="store_true", help="print the list as JSON")
    src.set_defaults(func=cmd_sources)

    bench = sub.add_parser(
        "bench", parents=[reports], help="latency/throughput/scale benchmarks → evals/reports/bench.{json,md}"
    )
    bench.add_argument("--large", action="store_true", help="also index 10,000 synthetic documents (slow)")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions and sizes, for a smoke run")
    bench.add_argument(
        "--only",
        nargs="+",
        metavar="PART",
        help="run only these parts (cold, imports, embed, chat, warm, scale, baseline, overhead)",
    )
    bench.add_argument(
        "--threads", type=int, help="OMP/MKL threads of the measured child processes (default: one per core)"
    )
    bench.add_argument(
        "--soak", type=int, metavar="N", help="only a soak: N questions through a running chat page → soak.{json,png}"
    )
    bench.add_argument("--soak-minutes", type=float, default=60.0, help="time limit of the soak (default 60)")
    bench.set_defaults(func=cmd_bench)

    train = sub.add_parser(
        "train", help="fine-tune the reader on SQuAD-format data → ONNX model, validation report and model card"
    )
    train.add_argument("--squad2", type=Path, required=True, help="SQuAD 2.0-format JSON (with unanswerable questions)")
    train.add_argument("--squad1", type=Path, help="SQuAD 1.1-format JSON (answerable questions) to sample from")
    train.add_argument("--out", type=Path, help="output folder (default DATA_DIR/reader)")
    train.add_argument("--seed", type=int, help="random seed (default 13)")
    train.add_argument("--squad1-questions", type=int, help="questions sampled from --squad1 (default 20,000)")
    train.add_argument(
        "--squad1-max-overlap",
        type=float,
        help="draw only --squad1 questions whose answer's window holds at most this share of their words (default 1)",
    )
    train.add_argument(
        "--window-chars", type=int, help="read a sentence with the one before it up to this length; 0: alone (400)"
    )
    train.add_argument(
        "--swap-rate", type=float, help="share of answering pairs given an entity-swapped near-miss (default 0.35)"
    )
    train.add_argument("--minutes", type=float, help="stop training after this long (default 70)")
    train.add_argument("--max-steps", type=int, help="stop after this many batches (a smoke run)")
    train.add_argument("--validation-questions", type=int, help="validate on at most this many questions")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=cmd_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        code: int = args.func(args)  # the chosen subcommand's cmd_* function
        return code
    except UserError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        return 2
    except ValidationError as exc:  # invalid settings from env vars or flags
        err.print(f"[red]invalid configuration:[/] {explain(exc)}", highlight=False)
        return 2
    except ValueError as exc:
        err.print(f"[red]invalid configuration:[/] {exc}", highlight=False)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
