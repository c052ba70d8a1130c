"""`assistant bench --soak N`: one chat page answering N questions in a row; its memory and latency over them.

Starts `assistant chat` on a fresh data folder and a loopback port, then asks questions one after another
through the page's API, alternating ``/answer`` (what `assistant ask` uses) and the chat endpoint
``/respond``, cycling through the summit suites' questions (after a warm-up that asks each once). Every call is
a Gradio session of its own, as an API call is. Records each request's latency and the page process's RSS,
stops after N requests or the time limit, whichever comes first, and writes ``soak.json`` and ``soak.png``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .remote import completed_data
from .servers import answers, free_port, percentile, rss_mib, serving

if TYPE_CHECKING:
    import httpx

SUITES = ("main", "paraphrase-dev", "paraphrase-dev2", "paraphrase", "paraphrase-fresh", "dialogues")
ENDPOINTS = ("answer", "respond")
WINDOW = 500  # requests per latency point of the report
RSS_EVERY = 100  # requests between RSS samples
EDGE = 1_000  # the first and last this many requests are compared
TARGETS = {  # name: (limit, unit), lower is better
    "errors": (0, ""),
    "rss_growth_after_first_1000_mib": (50.0, "MiB"),
    "p50_change_last_vs_first_1000": (0.2, ""),  # |last / first - 1|
    "rss_after_1000_answers_mib": (600.0, "MiB"),
    "first_answer_s": (5.0, "s"),
}


def questions() -> list[str]:
    from .evaluation import load_suite

    return list(dict.fromkeys(item["question"] for suite in SUITES for item in load_suite(suite)))


def ask(client: httpx.Client, endpoint: str, question: str) -> str | None:
    """One question through ``/gradio_api/call/ENDPOINT``: None when answered, else what went wrong."""
    response = client.post(f"/gradio_api/call/{endpoint}", json={"data": [question]})
    if response.status_code != 200:
        return f"POST {response.status_code}"
    stream = client.get(f"/gradio_api/call/{endpoint}/{response.json()['event_id']}")
    data = completed_data(stream.text)
    if not isinstance(data, list) or not data:
        return f"no completed result: {stream.text[-300:]!r}"
    if endpoint == "answer":
        return None if isinstance(data[0], dict) and "answer" in data[0] else f"no answer: {str(data[0])[:300]}"
    from .ui import ERROR_REPLY, escape_markdown

    reply = data[0] if isinstance(data[0], str) else ""
    return None if reply.strip() and reply != escape_markdown(ERROR_REPLY) else f"failed reply: {reply[:300]!r}"


def torch_loaded(pid: int) -> bool:
    """Whether torch's native library is mapped into process ``pid``: importing torch loads it."""
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


def run(n: int, work: Path, minutes: float) -> dict[str, Any]:
    import httpx

    asked = questions()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data_dir = work / "soak-data"  # fresh: the page builds its index, as on a new clone
    command = [sys.executable, "-m", "assistant.cli", "--data-dir", str(data_dir), "chat", "--port", str(port)]
    env = {**os.environ, "ASSISTANT_LLM": "extractive"}
    latencies: list[float] = []
    rss: list[tuple[int, float]] = []
    errors: list[str] = []
    started = time.perf_counter()
    with (
        serving(command, answers(url), work / "soak-page.log", "the chat page", env=env) as page,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        deadline = time.monotonic() + 60 * minutes

        def request(endpoint: str, question: str, label: str) -> float:
            t = time.perf_counter()
            try:
                problem = ask(client, endpoint, question)
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if problem:
                errors.append(f"{label} ({endpoint}): {problem}")
            return time.perf_counter() - t

        ready_s = time.perf_counter() - started
        request("answer", asked[0], "first answer")
        first_answer_s = time.perf_counter() - started
        # Warm-up, not counted: every distinct question once, so the first counted requests meet the caches
        # (embeddings, parses) as the last ones do and the two compare the page's own drift.
        for number, question in enumerate(asked[1:], 2):
            if time.monotonic() > deadline:
                break
            request("answer", question, f"warm-up {number}")
        warm_rss = rss_mib(page.pid)["rss_mib"]
        for i in range(n):
            if time.monotonic() > deadline:
                break
            latencies.append(request(ENDPOINTS[i % 2], asked[i % len(asked)], f"request {i + 1}"))
            if (i + 1) % RSS_EVERY == 0:
                rss.append((i + 1, rss_mib(page.pid)["rss_mib"]))
        startup = {
            "ready_s": round(ready_s, 2),
            "first_answer_s": round(first_answer_s, 2),
            "warm_up_answers": len(asked),
            "rss_after_warm_up_mib": warm_rss,
            "torch_loaded": torch_loaded(page.pid),
        }
    return summarise(n, latencies, rss, errors, startup, minutes)


def median_ms(seconds: list[float]) -> float | None:
    """None without counted requests (a time limit reached in the warm-up: only the start-up is measured)."""
    return round(1000 * statistics.median(seconds), 2) if seconds else None


def summarise(
    n: int,
    latencies: list[float],
    rss: list[tuple[int, float]],
    errors: list[str],
    startup: dict[str, Any],
    minutes: float,
) -> dict[str, Any]:
    done = len(latencies)
    windows = [
        {
            "end": min(start + WINDOW, done),
            "p50_ms": round(1000 * percentile(latencies[start : start + WINDOW], 0.5), 2),
            "p95_ms": round(1000 * percentile(latencies[start : start + WINDOW], 0.95), 2),
        }
        for start in range(0, done, WINDOW)
    ]
    at = dict(rss)
    first, last = median_ms(latencies[:EDGE]), median_ms(latencies[-EDGE:])
    summary: dict[str, Any] = {
        "requests": done,
        "stopped_by": "count" if done == n else f"time limit ({minutes} min)",
        "errors": len(errors),
        **startup,
        "rss_after_1000_answers_mib": at.get(EDGE),
        "rss_end_mib": rss[-1][1] if rss else None,
        "rss_growth_after_first_1000_mib": round(rss[-1][1] - at[EDGE], 1) if EDGE in at else None,
        "p50_first_1000_ms": first,
        "p50_last_1000_ms": last,
        "p50_change_last_vs_first_1000": round(abs(last / first - 1), 3) if first and last else None,
    }
    targets = [
        {"target": name, "limit": limit, "unit": unit, "measured": summary[name], "met": summary[name] <= limit}
        for name, (limit, unit) in TARGETS.items()
        if summary[name] is not None
    ]
    return {
        "meta": {
            "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
            "cpus": os.cpu_count(),
            "load_end": list(os.getloadavg()),
            "endpoints": list(ENDPOINTS),
        },
        "summary": summary,
        "targets": targets,
        "windows": windows,
        "rss": [{"requests": i, "rss_mib": mib} for i, mib in rss],
        "error_samples": errors[:20],
    }


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only
    import matplotlib.pyplot as plt

    fig, (memory, latency) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    memory.plot([r["requests"] for r in results["rss"]], [r["rss_mib"] for r in results["rss"]], color="tab:blue")
    memory.set_ylabel("page RSS (MiB)")
    memory.set_ylim(bottom=0)
    ends = [w["end"] for w in results["windows"]]
    latency.plot(ends, [w["p50_ms"] for w in results["windows"]], label="p50", color="tab:green")
    latency.plot(ends, [w["p95_ms"] for w in results["windows"]], label="p95", color="tab:orange")
    latency.set_ylabel(f"latency per {WINDOW} requests (ms)")
    latency.set_ylim(bottom=0)
    latency.set_xlabel("requests (alternately /answer and /respond)")
    latency.legend()
    s = results["summary"]
    fig.suptitle(
        f"Chat page soak: {s['requests']:,} requests, {s['errors']} errors, "
        f"RSS +{s['rss_growth_after_first_1000_mib']} MiB after the first 1,000"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(results: dict[str, Any], report_dir: Path, name: str = "soak") -> list[Path]:
    report_dir.mkdir(parents=True, exist_ok=True)
    data, image = report_dir / f"{name}.json", report_dir / f"{name}.png"
    data.write_text(json.dumps(results, indent=2), encoding="utf-8")
    chart(results, image)
    return [data, image]
