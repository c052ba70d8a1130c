"""Benchmarks: cold start (fresh `assistant ask` against the import floor), import time, query and batch
embedding on both backends (onnx, torch), chat-page ready time, warm latency by stage, memory, scale-out
indexing and query latency, a plain LangChain baseline, and the indexing path's overhead over a raw encode.

    assistant bench                         # everything but the 10,000-document index
    assistant bench --large                 # also 10,000 synthetic documents (slow: ~300k texts)
    assistant bench --only cold imports embed chat --quick

Prints rich tables and writes ``evals/reports/bench.json`` and ``bench.md``. Nothing here is asserted:
timings depend on the machine and its load, so every part records the 1-minute load average beside its
numbers (2 cores: a load above ~2 means another process competed for the CPU).

Synthetic documents are the real article re-mixed reproducibly (seeded): paragraphs re-filled with its
sentences in random order, names, places and numbers swapped, and a few words replaced, so every
text is new to the embedding model (no cache hits) yet of article length and style.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from .servers import free_port, percentile, rss_mib
from .settings import PROJECT_DIR, Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np
    from langchain_chroma import Chroma

    from .answer import Answer
    from .core import Assistant
    from .generation import Draft

REPORT_DIR = PROJECT_DIR / "evals" / "reports"
CORPUS = Settings.model_fields["corpus_dir"].default
ARTICLE = CORPUS / "korea-cambodia-summit.txt"
BACKENDS = ["onnx", "torch"]
PARTS = ["cold", "imports", "embed", "chat", "warm", "scale", "baseline", "overhead"]
COLD_QUESTION = "How much has trade grown since 1997?"
# What a bare process needs to answer from the index with an ONNX MiniLM: the floor a cold `ask` is held to.
FLOOR_IMPORTS = "import chromadb, onnxruntime, tokenizers"
HEAVY = ("torch", "transformers", "sentence_transformers", "gradio", "sklearn")
TARGETS = {  # name: (limit, unit), lower is better
    "cold_ask_s": (2.0, "s"),
    "cold_ask_x_floor": (2.0, "×"),
    "cold_ask_peak_rss_mib": (400.0, "MiB"),
    "page_ask_s": (2.0, "s"),
    "chat_ready_s": (3.0, "s"),
    "query_embed_p50_ms": (5.0, "ms"),
    "warm_p50_ms": (150.0, "ms"),
    "retrieve_p50_ms@1": (10.0, "ms"),
    "retrieve_p50_ms@10000": (50.0, "ms"),
    "indexing_overhead_x": (1.2, "×"),
    "rss_gib": (1.5, "GiB"),
}
console = Console(width=None if sys.stdout.isatty() else 200)


# -- small helpers ---------------------------------------------------------------------------------
def load() -> float:
    return round(os.getloadavg()[0], 2)


def ms(seconds: float) -> float:
    return round(1000 * seconds, 2)


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) if Path(path).exists() else 0


def forget_query(bot: Assistant, question: str) -> float:
    """Drop ``question``'s embeddings from the in-process cache, so the next ``ask`` pays for embedding it
    as a never-seen question would, and return how long embedding its retrieval query takes (ms).
    Sentence/clause vectors of the article stay cached, as they are in a serving process."""
    parsed = bot.scorer.analyser.analyse(question)
    keys = {question, parsed.query, parsed.resolved}
    cache = bot.embeddings._cache
    for key in keys:
        cache.pop(key, None)
    t = time.perf_counter()
    bot.embeddings.encoder.encode([parsed.query], 1)
    spent = time.perf_counter() - t
    for key in keys:
        cache.pop(key, None)
    return spent


def questions(quick: bool) -> list[dict[str, Any]]:
    from .evaluation import load_suite

    items = load_suite("main")
    return items[::4] if quick else items


# -- synthetic corpus ------------------------------------------------------------------------------
PEOPLE = [
    "Lee Min-jun",
    "Park Ji-woo",
    "Choi Seo-yeon",
    "Sok Dara",
    "Chan Vuthy",
    "Nguyen Van An",
    "Tran Thi Mai",
    "Somchai Prasert",
    "Maria Santos",
    "Aung Kyaw",
    "Siti Rahma",
    "Kenji Watanabe",
    "Lim Wei Ming",
    "Ravi Menon",
]
PLACES = [
    "Vietnam",
    "Laos",
    "Thailand",
    "Malaysia",
    "Indonesia",
    "the Philippines",
    "Singapore",
    "Myanmar",
    "Japan",
    "Mongolia",
    "Bangladesh",
    "Sri Lanka",
    "Nepal",
    "Brunei",
    "Timor-Leste",
    "Australia",
]
CITIES = [
    "Hanoi",
    "Vientiane",
    "Bangkok",
    "Kuala Lumpur",
    "Jakarta",
    "Manila",
    "Yangon",
    "Tokyo",
    "Ulaanbaatar",
    "Dhaka",
    "Colombo",
    "Kathmandu",
    "Busan",
    "Incheon",
    "Siem Reap",
    "Battambang",
]
NOUNS = [
    "railway",
    "harbour",
    "vaccine",
    "textile",
    "fishery",
    "satellite",
    "battery",
    "rice",
    "pipeline",
    "bridge",
    "curriculum",
    "reservoir",
    "festival",
    "museum",
    "semiconductor",
    "forest",
    "airport",
    "hospital",
    "tariff",
    "census",
    "orchestra",
    "telescope",
    "vineyard",
    "glacier",
    "monsoon",
    "highway",
    "tramway",
    "library",
    "observatory",
    "refinery",
    "laboratory",
    "stadium",
    "cooperative",
    "shipyard",
    "pharmacy",
    "granary",
]
ENTITIES = {
    "people": ["Yoon Suk Yeol", "Hun Manet", "Kim Tae-hyo", "Yoon"],
    "places": ["South Korea", "Cambodia", "North Korea", "Korean Peninsula"],
    "cities": ["Seoul", "Phnom Penh"],
}


def _article_sentences() -> list[str]:
    from .corpus import parse_document

    text = ARTICLE.read_text(encoding="utf-8")
    return [s.text for s in parse_document("article", text, ARTICLE).sentences]


def synthetic_document(i: int, sentences: list[str], paragraphs: int = 11) -> str:
    """Document ``i`` (deterministic): the article's sentences re-mixed, entities/numbers/words swapped."""
    rng = random.Random(1_000_003 * (i + 1))
    pool = {k: rng.sample(v, len(ENTITIES[k])) for k, v in (("people", PEOPLE), ("places", PLACES), ("cities", CITIES))}
    swap = {old: pool[k][n] for k, olds in ENTITIES.items() for n, old in enumerate(olds)}
    pattern = re.compile("|".join(sorted(map(re.escape, swap), key=len, reverse=True)))
    order = sentences[:]
    rng.shuffle(order)
    cuts = sorted(rng.sample(range(1, len(order)), paragraphs - 1))
    out = [f"# Synthetic report {i}: {pool['places'][0]} and {pool['places'][1]} in {pool['cities'][0]}"]
    for start, end in zip([0, *cuts], [*cuts, len(order)], strict=True):
        para = []
        for s in order[start:end]:
            s = pattern.sub(lambda m: swap[m.group(0)], s)
            s = re.sub(
                r"\d[\d,]*",
                lambda m: str(
                    rng.randint(2, 9) * 10 ** max(0, len(m.group(0).replace(",", "")) - 1) + rng.randint(0, 9)
                ),
                s,
            )
            words = s.split(" ")
            for _ in range(2):  # two content words replaced: every sentence text is new to the model
                spots = [n for n, w in enumerate(words) if w.isalpha() and w.islower() and len(w) >= 6]
                if spots:
                    words[rng.choice(spots)] = rng.choice(NOUNS)
            para.append(" ".join(words))
        out.append(" ".join(para))
    return "\n\n".join(out) + "\n"


def write_corpus(folder: Path, n: int, with_article: bool = True) -> Path:
    """``n`` documents: the real article (when ``with_article``) plus synthetic ones up to ``n``."""
    folder.mkdir(parents=True, exist_ok=True)
    sentences = _article_sentences()
    if with_article:
        shutil.copy(ARTICLE, folder / ARTICLE.name)
        meta = ARTICLE.with_suffix(".meta.json")
        if meta.exists():
            shutil.copy(meta, folder / meta.name)
    for i in range(n - (1 if with_article else 0)):
        (folder / f"synthetic-{i:05d}.md").write_text(synthetic_document(i, sentences), encoding="utf-8")
    return folder


# -- parts -----------------------------------------------------------------------------------------
def _cli(data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "assistant.cli", "--data-dir", str(data), "--corpus-dir", str(CORPUS), *args]


def _env(backend: str) -> dict[str, str]:
    return {**os.environ, "ASSISTANT_LLM": "extractive", "ASSISTANT_EMBEDDING_BACKEND": backend}


def _timed(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``command`` to its end: wall seconds and peak RSS of that one process (its own rusage), its output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as errors:
        t = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=errors, env=env)
        _, status, usage = os.wait4(proc.pid, 0)  # reaps it: Popen.wait would drop the child's rusage
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        errors.seek(0)
        if proc.returncode:
            raise RuntimeError(f"{' '.join(command[:6])}… failed: {errors.read().decode(errors='replace')[-2000:]}")
        return {
            "wall_s": round(wall, 3),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "stdout": out.read().decode(errors="replace"),
        }


def _prepared(work: Path) -> Path:
    """A data dir with the index built and the ONNX model exported (neither is what a cold start measures)."""
    data = work / "cold-data"
    if not (data / "prepared").exists():
        _timed(_cli(data, "index"), _env("onnx"))
        (data / "prepared").touch()
    return data


def run_cold(quick: bool, work: Path) -> dict[str, Any]:
    """Fresh processes, index built: the floor (a bare import of what an ONNX query needs), `assistant ask --local`
    on each backend and `assistant ask` answered by a running chat page, in turn run after run so a drift of the
    machine's speed hits them all alike."""
    data = _prepared(work)
    port = free_port()
    commands = {"floor": ([sys.executable, "-c", FLOOR_IMPORTS], _env("onnx"))}
    commands |= {f"ask ({b})": (_cli(data, "ask", "--local", COLD_QUESTION), _env(b)) for b in BACKENDS}
    # The warm path: a fresh `ask` process handing its question to a chat page already running.
    commands["ask (page)"] = (_cli(data, "ask", COLD_QUESTION), {**_env("onnx"), "ASSISTANT_PORT": str(port)})
    runs = []
    with _page(data, port):
        for command, env in commands.values():  # warm-up: the OS file cache and the page's engine, not counted
            _timed(command, env)
        for n in range(3 if quick else 5):
            for name, (command, env) in commands.items():
                load_before = load()
                result = _timed(command, env)
                runs.append(
                    {
                        "run": n + 1,
                        "command": name,
                        "wall_s": result["wall_s"],
                        "peak_rss_mib": result["peak_rss_mib"],
                        "ok": name == "floor" or "twentyfold" in result["stdout"].lower(),
                        "load": load_before,
                    }
                )
    summary = {}
    for name in commands:
        mine = [r for r in runs if r["command"] == name]
        summary[name] = {
            "median_s": round(statistics.median(r["wall_s"] for r in mine), 3),
            "min_s": min(r["wall_s"] for r in mine),
            "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in mine),
            "all_ok": all(r["ok"] for r in mine),
        }
        # The ratio run by run (each against the floor of the same round), then its median.
        floors = {r["run"]: r["wall_s"] for r in runs if r["command"] == "floor"}
        summary[name]["x_floor"] = round(statistics.median(r["wall_s"] / floors[r["run"]] for r in mine), 2)
    return {"question": COLD_QUESTION, "runs": runs, "summary": summary}


def _top_imports(report: str, n: int = 12) -> tuple[list[dict[str, Any]], float]:
    """The ``n`` packages of a ``-X importtime`` report whose own modules took longest to import (self time
    summed per top-level package, so the rows never count a nested import twice), and the total (seconds)."""
    spent: dict[str, int] = {}
    for line in report.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \| *(\S+)", line)
        if match:
            package = match.group(2).split(".")[0]
            spent[package] = spent.get(package, 0) + int(match.group(1))
    rows = [{"package": k, "self_s": round(v / 1e6, 3)} for k, v in sorted(spent.items(), key=lambda kv: -kv[1])]
    return rows[:n], round(sum(spent.values()) / 1e6, 3)


def run_imports(work: Path) -> dict[str, Any]:
    """`python -X importtime` of a cold `assistant ask` on each backend: the costliest top-level imports, their
    total, and which heavy packages the process loaded at all."""
    data = _prepared(work)
    out = {}
    for backend in BACKENDS:
        command = [sys.executable, "-X", "importtime", *_cli(data, "ask", COLD_QUESTION)[1:]]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=600, env=_env(backend))
        top, total = _top_imports(proc.stderr)
        heavy = [m for m in HEAVY if re.search(rf"\|\s+{m}$", proc.stderr, re.M)]
        out[backend] = {"top": top, "total_s": total, "heavy_loaded": heavy}
    return out


def run_embed(quick: bool) -> dict[str, Any]:
    """Each backend in this process: load time, one question at a time (p50/p95 over up to 200 eval questions,
    every one new to the encoder), and batch throughput over the article's sentences (all cores, as a build)."""
    import numpy as np

    from .corpus import load_corpus
    from .embeddings import load_encoder

    settings = Settings()
    asked = list(dict.fromkeys(item["question"] for item in questions(False)))
    asked = asked[: 50 if quick else 200]
    batch = [s.text for s in load_corpus(CORPUS).sentences] * (4 if quick else 16)
    out, vectors = {}, {}
    for backend in BACKENDS:
        t = time.perf_counter()
        encoder = load_encoder(backend, settings.models_dir)
        loaded = time.perf_counter() - t
        encoder.encode(asked[:3], 1)  # first-call allocations
        single = []
        for question in asked:
            t = time.perf_counter()
            encoder.encode([question], 1)
            single.append(time.perf_counter() - t)
        with encoder.all_cores():
            t = time.perf_counter()
            encoder.encode(batch, 64)
            spent = time.perf_counter() - t
        vectors[backend] = encoder.encode(asked, 64)
        out[backend] = {
            "load_s": round(loaded, 3),
            "questions": len(asked),
            "query_p50_ms": ms(percentile(single, 0.5)),
            "query_p95_ms": ms(percentile(single, 0.95)),
            "batch_texts": len(batch),
            "batch_texts_per_s": round(len(batch) / spent, 1),
            "load": load(),
        }
    agreement = (vectors["onnx"] * vectors["torch"]).sum(axis=1)
    return {"backends": out, "min_cosine": round(float(np.min(agreement)), 7)}


@contextlib.contextmanager
def _page(data: Path, port: int) -> Iterator[tuple[str, float]]:
    """`assistant chat` on ``port`` until the block ends: its URL and the seconds to its "Ready … Open URL"."""
    t = time.perf_counter()
    proc = subprocess.Popen(
        _cli(data, "chat", "--port", str(port)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_env("onnx"),
    )
    try:
        line = ""
        assert proc.stderr is not None  # stderr=PIPE
        while "Ready" not in line:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                raise RuntimeError(f"assistant chat exited with {proc.returncode}")
        yield line.split("Open ", 1)[1].strip(), time.perf_counter() - t
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run_chat(quick: bool, work: Path) -> dict[str, Any]:
    """`assistant chat` from the command to its "Ready … Open URL" line, the page then fetched once."""
    import httpx

    data = _prepared(work)
    runs = []
    for n in range(2 if quick else 4):
        load_before = load()
        with _page(data, free_port()) as (url, ready):
            status = httpx.get(url, timeout=10).status_code
        runs.append({"run": n + 1, "ready_s": round(ready, 3), "page_status": status, "load": load_before})
    return {"runs": runs, "ready_s": round(statistics.median(r["ready_s"] for r in runs), 3)}


def _bot(**overrides: Any) -> Assistant:
    from . import Assistant

    return Assistant(Settings(**{"llm": "extractive", **overrides}))


def run_warm(quick: bool, work: Path, backend: str) -> dict[str, Any]:
    from .evaluation import judge

    bot = _bot(data_dir=work / "warm-data", corpus_dir=CORPUS, embedding_backend=backend)
    items = questions(quick)
    for item in items:  # warm-up pass: caches, lazy imports, Chroma pages
        bot.ask(item["question"])
    passes = 1 if quick else 3
    stages: dict[str, list[float]] = {}
    totals, cached, embed, correct = [], [], [], []
    load_before = load()
    for _ in range(passes):
        for item in items:
            embed.append(forget_query(bot, item["question"]))
            t = time.perf_counter()
            answer = bot.ask(item["question"])
            totals.append(time.perf_counter() - t)
            for stage, seconds in answer.timings.items():
                stages.setdefault(stage, []).append(seconds)
            correct.append(judge(item, answer))
            t = time.perf_counter()
            bot.ask(item["question"])  # the same question again: its embedding is cached now
            cached.append(time.perf_counter() - t)

    def row(v: list[float]) -> dict[str, Any]:
        return {"p50_ms": ms(percentile(v, 0.5)), "p95_ms": ms(percentile(v, 0.95)), "mean_ms": ms(statistics.fmean(v))}

    table = {stage: row(v) for stage, v in stages.items()}
    table["(query embedding, inside retrieve)"] = row(embed)
    table["total"] = row(totals)
    table["total, repeated question"] = row(cached)
    return {
        "questions": len(items),
        "passes": passes,
        "stages": table,
        "accuracy": round(sum(correct) / len(correct), 4),
        "backend": backend,
        "load_before": load_before,
        "load_after": load(),
        **rss_mib(),
    }


SCALE_CHILD = "scale-worker"


def scale_worker(n: int, work: Path, quick: bool) -> dict[str, Any]:
    """One corpus size, in its own process (clean memory numbers): build, size on disk, query latency."""
    from .core import shared_embeddings
    from .corpus import load_corpus
    from .evaluation import judge
    from .index import open_index

    folder = work / f"corpus-{n}"
    if len(list(folder.glob("*.md"))) + len(list(folder.glob("*.txt"))) != n:  # a kept work dir holds it already
        write_corpus(folder, n)
    settings = Settings(data_dir=work / f"data-{n}", corpus_dir=folder, llm="extractive")
    load_before = load()
    t = time.perf_counter()
    corpus = load_corpus(folder)
    t_load = time.perf_counter() - t
    embeddings = shared_embeddings(settings)
    t = time.perf_counter()
    index = open_index(corpus, embeddings, settings)
    t_build = time.perf_counter() - t
    load_build = load()
    build_file = settings.data_dir / "bench-build.json"
    if index.stats is not None:  # built by this call (a reused index has no build stats)
        build = {
            "records": index.stats.records,
            "build_s": round(t_build, 2),
            "chunks_per_s": round(index.chunk_count / t_build, 1),
            "records_per_s": round(index.stats.records / t_build, 1),
            "index_mib": round(du(settings.index_dir) / 2**20, 2),
            "load_build": max(load_before, load_build),
            "built_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        build_file.write_text(json.dumps(build))
    else:  # re-measuring queries on an index a kept work dir holds: report the build as it was measured then
        build = {**json.loads(build_file.read_text()), "reopen_s": round(t_build, 2)}
    bot = _bot(data_dir=settings.data_dir, corpus_dir=folder)
    assert not bot.index.built
    items = questions(quick or n >= 10_000)
    bot.ask(items[0]["question"])
    retrieve, total, correct, embed = [], [], [], []
    load_query = load()
    for item in items:
        embed.append(forget_query(bot, item["question"]))
        t = time.perf_counter()
        answer = bot.ask(item["question"])
        total.append(time.perf_counter() - t)
        retrieve.append(answer.timings["retrieve"])
        correct.append(judge(item, answer))
    return {
        "documents": len(corpus.documents),
        "chunks": index.chunk_count,
        "sentences": len(corpus.sentences),
        "load_corpus_s": round(t_load, 2),
        **build,
        "assistant_open_s": round(bot.startup_seconds, 2),
        "questions": len(items),
        "retrieve_p50_ms": ms(percentile(retrieve, 0.5)),
        "retrieve_p95_ms": ms(percentile(retrieve, 0.95)),
        "embed_query_p50_ms": ms(percentile(embed, 0.5)),
        "search_p50_ms": ms(percentile([r - e for r, e in zip(retrieve, embed, strict=True)], 0.5)),
        "answer_p50_ms": ms(percentile(total, 0.5)),
        "answer_p95_ms": ms(percentile(total, 0.95)),
        "accuracy": round(sum(correct) / len(correct), 4),
        "load_query": load_query,
        **rss_mib(),
    }


def run_scale(sizes: list[int], quick: bool, work: Path, keep: bool) -> dict[str, Any]:
    rows = []
    for n in sizes:
        console.print(f"[dim]scale: indexing {n:,} document(s)… (load {load()})[/]")
        out = work / f"scale-{n}.json"
        proc = subprocess.run(
            [sys.executable, "-m", "assistant.bench", SCALE_CHILD, str(n), str(work), "1" if quick else "0", str(out)],
            capture_output=True,
            text=True,
            timeout=6 * 3600,
        )
        if proc.returncode:
            raise RuntimeError(f"scale worker {n} failed: {proc.stderr[-3000:]}")
        rows.append(json.loads(out.read_text()))
        if not keep:
            shutil.rmtree(work / f"corpus-{n}", ignore_errors=True)
            shutil.rmtree(work / f"data-{n}", ignore_errors=True)
    return {"rows": rows}


def _baseline_store(bot: Assistant, chunk_size: int, overlap: int) -> tuple[Chroma, int]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=overlap, add_start_index=True)
    docs = []
    for doc in bot.corpus.documents:
        for chunk in splitter.create_documents([doc.text], metadatas=[{"doc_id": doc.doc_id}]):
            start = chunk.metadata["start_index"]
            end = start + len(chunk.page_content)
            inside = [s for s in doc.sentences if s.start < end and s.end > start]
            if not inside:
                continue
            # What the shared generator needs to find the chunk's sentences (it cites sentences).
            chunk.metadata.update(
                sentence_start=inside[0].index, sentence_end=inside[-1].index + 1, paragraph=inside[0].paragraph
            )
            docs.append(chunk)
    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    store = Chroma(
        collection_name=f"baseline-{chunk_size}-{overlap}",
        embedding_function=bot.embeddings,
        client=client,
        collection_configuration={"hnsw": {"space": "cosine"}},
    )
    store.add_documents(docs)
    return store, len(docs)


def run_baseline(quick: bool, work: Path) -> dict[str, Any]:
    """Plain LangChain RAG (character splitter + same MiniLM + Chroma similarity_search, k=4) feeding the
    same extractive generator, against our pipeline, on the main eval questions."""
    from .evaluation import judge
    from .generation import ExtractiveGenerator

    bot = _bot(data_dir=work / "warm-data", corpus_dir=CORPUS)
    generator = ExtractiveGenerator(bot.scorer, bot.settings.refusal_threshold, bot.settings.max_answer_sentences)
    items = questions(quick)
    passes = 1 if quick else 3

    def measure(answer_fn: Callable[[str], tuple[Answer | Draft, float]]) -> dict[str, Any]:
        for item in items:
            answer_fn(item["question"])
        totals, retrieve, correct = [], [], []
        for _ in range(passes):
            for item in items:
                forget_query(bot, item["question"])  # both pipelines embed the question afresh
                t = time.perf_counter()
                answer, t_retrieve = answer_fn(item["question"])
                totals.append(time.perf_counter() - t)
                retrieve.append(t_retrieve)
                correct.append(judge(item, answer))
        answerable = [
            c
            for c, i in zip(correct, items * passes, strict=True)
            if i["kind"] not in ("unanswerable", "false_premise")
        ]
        return {
            "p50_ms": ms(percentile(totals, 0.5)),
            "p95_ms": ms(percentile(totals, 0.95)),
            "retrieve_p50_ms": ms(percentile(retrieve, 0.5)),
            "accuracy": round(sum(correct) / len(correct), 4),
            "answer_accuracy": round(sum(answerable) / len(answerable), 4),
        }

    def ours(question: str) -> tuple[Answer, float]:
        answer = bot.ask(question)
        return answer, answer.timings["retrieve"] + answer.timings["rerank"]

    load_before = load()
    rows = {"ours (hybrid + rerank)": measure(ours)}
    for size, overlap in ((1000, 200), (400, 40)):
        store, n_chunks = _baseline_store(bot, size, overlap)

        def plain(question: str, store: Chroma = store) -> tuple[Draft, float]:
            t = time.perf_counter()
            hits = store.similarity_search(question, k=4)
            t_retrieve = time.perf_counter() - t
            parsed = bot.scorer.analyser.analyse(question)
            return generator.invoke({"question": parsed, "context": hits, "history": []}), t_retrieve

        rows[f"LangChain baseline ({size}/{overlap} chars, {n_chunks} chunks)"] = measure(plain)
    our = rows["ours (hybrid + rerank)"]
    ratios = [
        {
            "baseline": k,
            "latency_ratio": round(our["p50_ms"] / v["p50_ms"], 2),
            "accuracy_ratio": round(our["accuracy"] / v["accuracy"], 3) if v["accuracy"] else None,
        }
        for k, v in rows.items()
        if k.startswith("LangChain")
    ]
    return {
        "questions": len(items),
        "passes": passes,
        "rows": rows,
        "ratios": ratios,
        "load_before": load_before,
        "load_after": load(),
    }


def run_overhead(docs: int, reps: int, work: Path) -> dict[str, Any]:
    """Same texts, same model: our whole indexing path (chunking, batching, Chroma writes) vs one raw encoder
    call (the default backend's) over all of them."""
    from unittest import mock

    from .core import shared_embeddings
    from .corpus import load_corpus
    from .index import _records, chunk_corpus, open_index

    folder = write_corpus(work / "overhead-corpus", docs, with_article=False)
    corpus = load_corpus(folder)
    emb = shared_embeddings(Settings())
    chunks = chunk_corpus(corpus, emb, Settings())
    _, texts, _ = _records(corpus, chunks)
    emb.encoder.encode(texts[:64], emb.batch_size)  # warm the model
    raw_times, our_times, encode_times = [], [], []
    load_before = load()
    real_encode = emb.encode
    spent = [0.0]  # seconds inside emb.encode during the current rep

    def timed(batch: list[str]) -> np.ndarray:
        t0 = time.perf_counter()
        try:
            return real_encode(batch)
        finally:
            spent[0] += time.perf_counter() - t0

    for rep in range(reps):
        with emb.encoder.all_cores():  # the threads the indexing path encodes with
            t = time.perf_counter()
            emb.encoder.encode(texts, emb.batch_size)
            raw_times.append(time.perf_counter() - t)
        emb._cache.clear()
        spent[0] = 0.0
        with mock.patch.object(emb, "encode", timed):  # this instance only; restored on exit
            t = time.perf_counter()
            open_index(load_corpus(folder), emb, Settings(data_dir=work / f"overhead-data-{rep}", corpus_dir=folder))
            our_times.append(time.perf_counter() - t)
        encode_times.append(spent[0])
        emb._cache.clear()
    raw, ours, enc = min(raw_times), min(our_times), min(encode_times)
    return {
        "documents": docs,
        "texts": len(texts),
        "raw_encode_s": round(raw, 2),
        "our_index_s": round(ours, 2),
        "our_encode_s": round(enc, 2),
        "our_other_s": round(ours - enc, 2),
        "raw_texts_per_s": round(len(texts) / raw, 1),
        "our_texts_per_s": round(len(texts) / ours, 1),
        "overhead_x": round(ours / raw, 3),
        "reps": reps,
        "load_before": load_before,
        "load_after": load(),
    }


# -- report ----------------------------------------------------------------------------------------
def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(name: str, value: float | None, note: str = "") -> None:
        limit, unit = TARGETS[name]
        rows.append(
            {
                "target": name,
                "limit": limit,
                "unit": unit,
                "measured": value,
                "met": None if value is None else value <= limit,
                "note": note,
            }
        )

    cold = results.get("cold")
    if cold:
        ask = cold["summary"]["ask (onnx)"]
        note = f"median of {len(cold['runs']) // len(cold['summary'])} fresh processes, index built"
        add("cold_ask_s", ask["median_s"], note)
        add("cold_ask_x_floor", ask["x_floor"], f"floor `{FLOOR_IMPORTS}` = {cold['summary']['floor']['median_s']} s")
        add("cold_ask_peak_rss_mib", ask["peak_rss_mib"], "whole `assistant ask` process")
        page = cold["summary"]["ask (page)"]
        add(
            "page_ask_s",
            page["median_s"],
            f"`assistant ask` answered by a running chat page ({page['x_floor']}× floor)",
        )
    if "chat" in results:
        add("chat_ready_s", results["chat"]["ready_s"], "command → 'Ready … Open URL' line")
    if "embed" in results:
        add(
            "query_embed_p50_ms",
            results["embed"]["backends"]["onnx"]["query_p50_ms"],
            "onnx backend, one question per call",
        )
    warm = results.get("warm", {}).get("onnx")
    if warm:
        add("warm_p50_ms", warm["stages"]["total"]["p50_ms"], f"load {warm['load_before']}")
    scale = {r["documents"]: r for r in results.get("scale", {}).get("rows", [])}
    if scale:
        add(
            "retrieve_p50_ms@1", scale[min(scale)]["retrieve_p50_ms"] if 1 in scale else None, "hybrid dense+BM25 stage"
        )
        add(
            "retrieve_p50_ms@10000",
            scale[10_000]["retrieve_p50_ms"] if 10_000 in scale else None,
            ""
            if 10_000 in scale
            else f"not run (--large); largest run: {max(scale):,} docs = {scale[max(scale)]['retrieve_p50_ms']} ms",
        )
    over = results.get("overhead")
    if over:
        add("indexing_overhead_x", over["overhead_x"], f"{over['texts']} texts, load {over['load_before']}")
    peaks = [r["peak_rss_mib"] for r in results.get("cold", {}).get("runs", []) if r["command"] == "ask (onnx)"]
    if warm:
        peaks.append(warm.get("peak_rss_mib", 0))
    if peaks:
        add("rss_gib", round(max(peaks) / 1024, 3), "peak RSS serving the article (cold ask / warm process)")
    return rows


def tables(results: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    out = []
    if "cold" in results:
        c = results["cold"]
        cols = ["command", "median_s", "min_s", "x_floor", "peak_rss_mib", "all_ok"]
        out.append(
            (
                f"Cold start: fresh process, index built ('{c['question']}'; each run's time / the floor's of that round)",
                cols,
                [[name, *(v[k] for k in cols[1:])] for name, v in c["summary"].items()],
            )
        )
    if "imports" in results:
        for backend, v in results["imports"].items():
            out.append(
                (
                    f"Imports of a cold `assistant ask`, {backend} backend (python -X importtime, self time by package): "
                    f"total {v['total_s']} s; heavy packages loaded: {', '.join(v['heavy_loaded']) or 'none'}",
                    ["package", "seconds"],
                    [[r["package"], r["self_s"]] for r in v["top"]],
                )
            )
    if "embed" in results:
        e = results["embed"]
        cols = ["load_s", "questions", "query_p50_ms", "query_p95_ms", "batch_texts", "batch_texts_per_s", "load"]
        out.append(
            (
                f"Embedding, both backends side by side (min cosine between them {e['min_cosine']})",
                ["backend", *cols],
                [[b, *(v[k] for k in cols)] for b, v in e["backends"].items()],
            )
        )
    if "chat" in results:
        cols = ["run", "ready_s", "page_status", "load"]
        out.append(
            (
                f"Chat page: command → 'Ready … Open URL' (median {results['chat']['ready_s']} s)",
                cols,
                [[r[c] for c in cols] for r in results["chat"]["runs"]],
            )
        )
    for backend, w in results.get("warm", {}).items():
        rows = [[stage, v["p50_ms"], v["p95_ms"], v["mean_ms"]] for stage, v in w["stages"].items()]
        out.append(
            (
                f"Warm answer latency by stage, {backend} backend ({w['questions']} questions × {w['passes']}, accuracy "
                f"{w['accuracy']}, RSS {w.get('rss_mib')} MiB, peak {w.get('peak_rss_mib')} MiB, load {w['load_before']}→{w['load_after']})",
                ["stage", "p50 ms", "p95 ms", "mean ms"],
                rows,
            )
        )
    if "scale" in results:
        cols = [
            "documents",
            "chunks",
            "records",
            "build_s",
            "chunks_per_s",
            "records_per_s",
            "index_mib",
            "assistant_open_s",
            "retrieve_p50_ms",
            "retrieve_p95_ms",
            "embed_query_p50_ms",
            "search_p50_ms",
            "answer_p50_ms",
            "answer_p95_ms",
            "accuracy",
            "peak_rss_mib",
            "load_build",
            "load_query",
        ]
        out.append(
            (
                "Scale: synthetic documents (ingestion, size on disk, query latency)",
                cols,
                [[r[c] for c in cols] for r in results["scale"]["rows"]],
            )
        )
    if "baseline" in results:
        b = results["baseline"]
        rows = [
            [k, v["p50_ms"], v["p95_ms"], v["retrieve_p50_ms"], v["accuracy"], v["answer_accuracy"]]
            for k, v in b["rows"].items()
        ]
        out.append(
            (
                f"Plain LangChain baseline vs ours ({b['questions']} main questions × {b['passes']}, load {b['load_before']}→{b['load_after']})",
                ["pipeline", "p50 ms", "p95 ms", "retrieval p50 ms", "accuracy", "answer accuracy"],
                rows,
            )
        )
        out.append(
            (
                "Ours / baseline ratios",
                ["baseline", "latency ratio (p50)", "accuracy ratio"],
                [[r["baseline"], r["latency_ratio"], r["accuracy_ratio"]] for r in b["ratios"]],
            )
        )
    if "overhead" in results:
        o = results["overhead"]
        cols = [
            "documents",
            "texts",
            "raw_encode_s",
            "our_index_s",
            "our_encode_s",
            "our_other_s",
            "raw_texts_per_s",
            "our_texts_per_s",
            "overhead_x",
            "load_before",
            "load_after",
        ]
        out.append(("Indexing path vs one raw encoder call (best of reps)", cols, [[o[c] for c in cols]]))
    if results.get("targets"):
        out.append(
            (
                "Targets",
                ["target", "limit", "measured", "met", "note"],
                [
                    [
                        t["target"],
                        f"≤ {t['limit']} {t['unit']}",
                        t["measured"],
                        {True: "yes", False: "NO", None: "n/a"}[t["met"]],
                        t["note"],
                    ]
                    for t in results["targets"]
                ],
            )
        )
    return out


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        f"# Benchmarks ({meta['started']})",
        "",
        f"{meta['cpus']} CPU(s), Python {meta['python']}, {meta['platform']}; load average at start {meta['load_start']}, "
        f"at end {meta.get('load_end')}; default embedding backend {meta.get('embedding_backend')}. Latencies in ms, sizes in MiB. "
        "Every measured question is embedded afresh (its cached embedding dropped) unless marked 'repeated'. "
        "Numbers are not asserted anywhere.",
        "",
    ]
    for title, cols, rows in tables(results):
        lines += [f"## {title}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
        lines.append("")
    return "\n".join(lines)


def show(results: dict[str, Any]) -> None:
    for title, cols, rows in tables(results):
        table = Table(title=title, title_justify="left")
        for n, col in enumerate(cols):
            table.add_column(str(col), justify="left" if n == 0 else "right", overflow="fold")
        for row in rows:
            table.add_row(*(str(c) for c in row))
        console.print(table)


def soak(n: int, minutes: float, work_dir: Path | None, report_dir: Path) -> int:
    from . import soak

    work = work_dir or Path(tempfile.mkdtemp(prefix="summit-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        results = soak.run(n, work, minutes)
    finally:
        if work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    console.print_json(data={"summary": results["summary"], "targets": results["targets"]})
    paths = soak.write(results, report_dir)
    console.print("report: " + ", ".join(str(p) for p in paths))
    return 0 if results["summary"]["errors"] == 0 else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == SCALE_CHILD:  # internal: one scale size in a fresh process
        n, work, quick, out = int(argv[1]), Path(argv[2]), argv[3] == "1", Path(argv[4])
        out.write_text(json.dumps(scale_worker(n, work, quick)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", action="store_true", help="also index 10,000 synthetic documents")
    parser.add_argument("--quick", action="store_true", help="fewer questions, passes and sizes (smoke run)")
    parser.add_argument("--only", nargs="+", choices=PARTS, help="run only these parts")
    parser.add_argument("--sizes", type=int, nargs="+", help="scale sizes (default 1 100 1000 [10000])")
    parser.add_argument("--overhead-docs", type=int, default=60, help="documents for the overhead comparison")
    parser.add_argument("--report-dir", type=Path, default=REPORT_DIR)
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="keep corpora and indexes here; a later run re-measures queries on them without rebuilding",
    )
    parser.add_argument("--name", default="bench", help="report file stem")
    parser.add_argument("--soak", type=int, metavar="N", help="only a soak: N questions through a running chat page")
    parser.add_argument("--soak-minutes", type=float, default=60.0, help="time limit of the soak")
    parser.add_argument(
        "--threads", type=int, help="OMP/MKL threads of the measured child processes (default: one per core)"
    )
    args = parser.parse_args(argv)
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(args.threads)
    if args.soak:
        return soak(args.soak, args.soak_minutes, args.work_dir, args.report_dir)
    parts = args.only or PARTS
    sizes = args.sizes or ([1, 100] if args.quick else [1, 100, 1000]) + ([10_000] if args.large else [])
    results: dict[str, Any] = {
        "meta": {
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(terse=True),
            "load_start": list(os.getloadavg()),
            "parts": parts,
            "sizes": sizes,
            "quick": args.quick,
            "embedding_backend": Settings().embedding_backend,
        }
    }
    keep = args.work_dir is not None
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="summit-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        for part in parts:
            console.print(f"[bold]{part}[/] (load {load()})")
            started = time.perf_counter()
            if part == "cold":
                results["cold"] = run_cold(args.quick, work)
            elif part == "imports":
                results["imports"] = run_imports(work)
            elif part == "embed":
                results["embed"] = run_embed(args.quick)
            elif part == "chat":
                results["chat"] = run_chat(args.quick, work)
            elif part == "warm":
                results["warm"] = {backend: run_warm(args.quick, work, backend) for backend in BACKENDS}
            elif part == "scale":
                results["scale"] = run_scale(sizes, args.quick, work, keep)
            elif part == "baseline":
                results["baseline"] = run_baseline(args.quick, work)
            elif part == "overhead":
                results["overhead"] = run_overhead(
                    max(5, args.overhead_docs // (4 if args.quick else 1)), 1 if args.quick else 2, work
                )
            results["meta"].setdefault("part_seconds", {})[part] = round(time.perf_counter() - started, 1)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    results["meta"]["load_end"] = list(os.getloadavg())
    results["targets"] = targets(results)
    show(results)
    args.report_dir.mkdir(parents=True, exist_ok=True)
    (args.report_dir / f"{args.name}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (args.report_dir / f"{args.name}.md").write_text(markdown(results), encoding="utf-8")
    console.print(f"report: {args.report_dir / (args.name + '.json')}, {args.report_dir / (args.name + '.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
