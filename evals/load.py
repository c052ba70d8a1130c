"""Load test of the chat page: N concurrent ``gradio_client`` sessions asking M questions each through ``/respond``.

    .venv/bin/python evals/load.py --clients 50 --questions 10
    .venv/bin/python evals/load.py --clients 50 --questions 10 --concurrency 1 2 4   # one run per queue limit

The app is served in this process on a free loopback port (127.0.0.1 only) for each concurrency level; the
clients are threads of this process. Every run is bounded: ``clients × questions`` requests at most, and a
hard ``--timeout`` (default 600 s) for the whole script, after which it stops and exits non-zero.

Reported per run: requests, errors (exceptions, timeouts, the page's generic error reply or a reply without
its sources block), p50/p95/max latency of one ``/respond`` call (queue wait included), throughput, and the
process's RSS before and after. A rich table goes to stdout and everything to ``evals/reports/load.json``.
Exit status: 0 when every request succeeded within the time limit, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before gradio_client imports huggingface_hub
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from assistant.servers import free_port, percentile, rss_mib  # noqa: E402

console = Console(width=None if sys.stdout.isatty() else 150)  # the table stays readable in logs and CI
LOOPBACK = "127.0.0.1"
CONNECT_TIMEOUT_S = 60.0


def load_questions(path: Path) -> list[str]:
    questions = [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not questions:
        raise SystemExit(f"no questions in {path}")
    return questions


def run_level(
    bot, concurrency: int, clients: int, per_client: int, questions: list[str], deadline: float, seed: int
) -> dict:
    """Serve the page with queue limit ``concurrency`` and drive it with ``clients`` sessions; one run's report."""
    from gradio_client import Client

    from assistant.ui import ERROR_REPLY, SOURCES_MARKER, launch

    level_bot = bot.configure(concurrency=concurrency)
    rss_before = rss_mib()["rss_mib"]
    app = launch(level_bot, host=LOOPBACK, port=free_port(), share=False, prevent_thread_lock=True, quiet=True)
    auth = tuple(bot.settings.auth.split(":", 1)) if bot.settings.auth else None  # ASSISTANT_AUTH guards the page
    url = app.local_url
    assert url.startswith(f"http://{LOOPBACK}:"), url  # loopback only, never anything else
    latencies: list[float] = []
    connects: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)
    rng = random.Random(seed)
    plans = [[questions[(c * per_client + j) % len(questions)] for j in range(per_client)] for c in range(clients)]
    for plan in plans:
        rng.shuffle(plan)

    def client_thread(number: int) -> None:
        session = None
        try:
            try:
                began = time.perf_counter()
                # 50 sessions opening at once on a busy 2-core box can take longer than httpx's default 5 s to
                # fetch the page config; the connect time is reported separately, the requests are what we measure.
                session = Client(
                    url,
                    auth=auth,
                    verbose=False,
                    download_files=False,
                    analytics_enabled=False,
                    httpx_kwargs={"timeout": CONNECT_TIMEOUT_S},
                )
                with lock:
                    connects.append(time.perf_counter() - began)
            except Exception as exc:  # a client that cannot even connect fails all its questions
                with lock:
                    errors.extend([f"client {number}: connect: {type(exc).__name__}: {exc}"] * per_client)
                return
            finally:
                start_gate.wait(timeout=max(1.0, deadline - time.monotonic()))
            for question in plans[number]:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    with lock:
                        errors.append(f"client {number}: not sent (time limit)")
                    continue
                began = time.perf_counter()
                try:
                    reply = session.submit(question, api_name="/respond").result(timeout=remaining)
                    problem = None
                    if not isinstance(reply, str) or not reply.strip():
                        problem = f"empty reply {reply!r}"
                    elif ERROR_REPLY in reply:
                        problem = "the page's error reply"
                    elif SOURCES_MARKER not in reply:
                        problem = f"reply without its sources block: {reply[:80]!r}"
                except Exception as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                elapsed = time.perf_counter() - began
                with lock:
                    if problem:
                        errors.append(f"client {number}: {question[:50]!r}: {problem}")
                    else:
                        latencies.append(elapsed)
        except threading.BrokenBarrierError:
            with lock:
                errors.append(f"client {number}: start barrier broken")
        finally:
            if session is not None:
                with contextlib.suppress(Exception):
                    session.close()

    threads = [
        threading.Thread(target=client_thread, args=(n,), daemon=True, name=f"load-client-{n}") for n in range(clients)
    ]
    for t in threads:
        t.start()
    timed_out = False
    with contextlib.suppress(threading.BrokenBarrierError):
        start_gate.wait(timeout=max(1.0, deadline - time.monotonic()))
    rss_connected = rss_mib()["rss_mib"]  # every session open, no question asked yet: the clients' own share of the RSS
    began = time.perf_counter()
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
        timed_out = timed_out or t.is_alive()
    wall = time.perf_counter() - began
    app.close()
    rss_after = rss_mib()["rss_mib"]
    total = clients * per_client
    with lock:
        done_ok, errs = list(latencies), list(errors)
    if timed_out:
        errs.append(f"hard time limit reached with {total - len(done_ok) - len(errs)} request(s) unfinished")
    return {
        "concurrency": concurrency,
        "clients": clients,
        "questions_per_client": per_client,
        "requests": total,
        "ok": len(done_ok),
        "errors": total - len(done_ok),
        "error_samples": errs[:10],
        "timed_out": timed_out,
        "wall_s": round(wall, 3),
        "throughput_rps": round(len(done_ok) / wall, 3) if wall > 0 else 0.0,
        "latency_s": {
            "p50": round(percentile(done_ok, 0.5), 3),
            "p95": round(percentile(done_ok, 0.95), 3),
            "max": round(max(done_ok, default=0.0), 3),
            "mean": round(statistics.fmean(done_ok), 3) if done_ok else 0.0,
        },
        "connect_s": {"p50": round(percentile(connects, 0.5), 3), "max": round(max(connects, default=0.0), 3)},
        "rss_mb": {
            "before": round(rss_before, 1),
            "connected": round(rss_connected, 1),
            "after": round(rss_after, 1),
            "growth": round(rss_after - rss_before, 1),
        },
    }


def print_table(runs: list[dict], startup: float) -> None:
    table = Table(title=f"/respond under load (assistant ready in {startup:.1f} s)")
    for column in [
        "concurrency",
        "requests",
        "ok",
        "errors",
        "p50 s",
        "p95 s",
        "max s",
        "req/s",
        "wall s",
        "connect max s",
        "RSS before MB",
        "RSS connected MB",
        "RSS after MB",
        "RSS growth MB",
    ]:
        table.add_column(column, justify="right")
    for r in runs:
        table.add_row(
            str(r["concurrency"]),
            str(r["requests"]),
            str(r["ok"]),
            f"[red]{r['errors']}[/]" if r["errors"] else "0",
            f"{r['latency_s']['p50']:.2f}",
            f"{r['latency_s']['p95']:.2f}",
            f"{r['latency_s']['max']:.2f}",
            f"{r['throughput_rps']:.2f}",
            f"{r['wall_s']:.1f}",
            f"{r['connect_s']['max']:.2f}",
            f"{r['rss_mb']['before']:.0f}",
            f"{r['rss_mb']['connected']:.0f}",
            f"{r['rss_mb']['after']:.0f}",
            f"{r['rss_mb']['growth']:+.1f}",
        )
    console.print(table)
    for r in runs:
        for sample in r["error_samples"]:
            console.print(f"[red]error[/] (concurrency {r['concurrency']}): {sample}", markup=True, highlight=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50, help="concurrent client sessions (threads)")
    parser.add_argument("--questions", type=int, default=10, help="questions each client asks, in turn")
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        help="queue limit(s) to measure, one run each (default: ASSISTANT_CONCURRENCY / the settings default)",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="hard limit in seconds for the whole script")
    parser.add_argument(
        "--suite", type=Path, default=ROOT / "evals" / "main.jsonl", help="JSONL with a 'question' field"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "evals" / "reports" / "load.json")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-warmup",
        dest="warmup",
        action="store_false",
        help="skip the unreported warm-up round (first server start, lazy imports, caches) before measuring",
    )
    args = parser.parse_args(argv)
    if args.clients < 1 or args.questions < 1 or args.timeout <= 0:
        parser.error("--clients and --questions must be at least 1 and --timeout positive")
    if args.clients * args.questions > 100_000:
        parser.error("at most 100,000 requests per run")
    deadline = time.monotonic() + args.timeout

    # A watchdog: whatever hangs, the script ends at the hard limit (plus a grace period to write its report).
    def watchdog() -> None:
        time.sleep(args.timeout + 30)
        console.print(f"[red]hard time limit of {args.timeout:.0f} s exceeded; exiting[/]")
        os._exit(3)

    threading.Thread(target=watchdog, daemon=True, name="load-watchdog").start()

    questions = load_questions(args.suite)
    from assistant import Assistant

    started = time.perf_counter()
    bot = Assistant()
    startup = time.perf_counter() - started
    levels = args.concurrency or [bot.settings.concurrency]
    bot.ask(questions[0])  # warm caches so the first run does not pay for them alone
    warmup = None
    if args.warmup:  # one-time costs (Gradio's first launch, lazy imports) would otherwise count as RSS growth
        console.print("warm-up: 5 clients × 2 questions (not reported as a run) …", highlight=False)
        warmup = run_level(bot, levels[0], min(5, args.clients), 2, questions, deadline, args.seed + 1)
    runs = []
    for level in levels:
        if time.monotonic() >= deadline:
            console.print(f"[red]time limit reached before concurrency {level}[/]")
            break
        console.print(f"concurrency {level}: {args.clients} clients × {args.questions} questions …", highlight=False)
        runs.append(run_level(bot, level, args.clients, args.questions, questions, deadline, args.seed))
    print_table(runs, startup)
    report = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "clients": args.clients,
        "questions_per_client": args.questions,
        "timeout_s": args.timeout,
        "suite": str(args.suite),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": list(os.getloadavg())},
        "startup_s": round(startup, 2),
        "settings": {"llm": bot.settings.llm, "retriever": bot.settings.retriever, "rerank": bot.settings.rerank},
        "warmup": warmup,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    console.print(f"report: {args.out}", highlight=False)
    failed = len(runs) < len(levels) or any(r["errors"] or r["timed_out"] for r in runs + ([warmup] if warmup else []))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
