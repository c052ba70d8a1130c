"""all-MiniLM-L6-v2 on onnxruntime and ``tokenizers``: the serving path, no torch.

The ONNX file is exported once per machine from the installed weights (``minilm_torch.export_onnx``, which
imports torch) into the per-user model cache (``Settings.models_dir``, shared by every data folder), under a
name that carries the weights' SHA-256: other weights, or a changed export, get a file of their own and never
a stale one. ``make install`` exports it (``python -m assistant.minilm_onnx``); a process that finds it
missing exports it in a child process, so torch (about 0.5 GB) never loads into a serving process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .minilm import MAX_WORD_PIECES, MODEL_NAME, load_tokenizer, model_path

if TYPE_CHECKING:
    import onnxruntime

log = logging.getLogger(__name__)

EXPORT_VERSION = 1  # bump when export_onnx writes a different graph
WEIGHTS = "model.safetensors"


def weights_digest(models_dir: Path) -> str:
    """SHA-256 of the installed weights, hashed once per (path, size, mtime) and remembered in ``models_dir``:
    hashing 90 MB on every start would cost a tenth of a cold answer."""
    weights = model_path() / WEIGHTS
    stat = weights.stat()
    key = {"path": str(weights), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    memo = models_dir / "weights.json"
    try:
        known = json.loads(memo.read_text(encoding="utf-8"))
        if {k: known.get(k) for k in key} == key:
            remembered: str = known["sha256"]
            return remembered
    except (OSError, ValueError, KeyError):
        pass
    digest = hashlib.sha256()
    with open(weights, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    sha = digest.hexdigest()
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        memo.write_text(json.dumps({**key, "sha256": sha}), encoding="utf-8")
    except OSError as exc:  # a read-only cache only costs hashing again next start
        log.info("cannot remember the weights' hash in %s: %s", memo, exc)
    return sha


def onnx_file(models_dir: Path) -> Path:
    return models_dir / f"{MODEL_NAME}-{weights_digest(models_dir)[:16]}-v{EXPORT_VERSION}.onnx"


def ensure_onnx(models_dir: Path) -> Path:
    """The exported model, exporting it first when missing (about 15 s in a child process, said on stderr).
    Written beside its final name and renamed into place, so a process never opens half a file."""
    target = onnx_file(models_dir)
    if target.exists():
        return target
    log.warning("exporting %s to ONNX once for this machine (a child process, ~15 s): %s", MODEL_NAME, target)
    temp = target.with_name(f"{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        # The child imports this very package, wherever the parent was started from.
        path = os.pathsep.join(
            filter(None, [str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH")])
        )
        child = subprocess.run(
            [sys.executable, "-m", f"{__package__}.minilm_torch", str(temp)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONPATH": path},
        )
        if child.returncode or not temp.exists():
            raise RuntimeError(f"exporting {MODEL_NAME} to ONNX failed: {child.stderr[-2000:]}")
        temp.rename(target)
    finally:
        temp.unlink(missing_ok=True)
    return target


class OnnxEncoder:
    """Normalized sentence embeddings from the exported graph (pooling and normalisation inside it)."""

    def __init__(self, path: Path) -> None:
        import onnxruntime

        self._ort = onnxruntime
        self._path = path
        self._tokenizer = load_tokenizer(MAX_WORD_PIECES)
        # One intra-op thread for questions, as the torch backend: a question is a tiny batch and the
        # machine's other core serves the page and the other request.
        self._session = self._new_session(1)

    def _new_session(self, threads: int) -> onnxruntime.InferenceSession:
        options = self._ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        return self._ort.InferenceSession(str(self._path), options, providers=["CPUExecutionProvider"])

    @property
    def dimension(self) -> int:
        return int(self._session.get_outputs()[0].shape[-1])

    def _run(self, texts: list[str]) -> np.ndarray:
        pieces = self._tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([p.ids for p in pieces], dtype=np.int64),
            "attention_mask": np.array([p.attention_mask for p in pieces], dtype=np.int64),
            "token_type_ids": np.array([p.type_ids for p in pieces], dtype=np.int64),
        }
        vectors: np.ndarray = self._session.run(None, feed)[0]
        return vectors

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        # Longest first, as sentence-transformers batches: a batch pads to its longest text, so texts of
        # like length together waste the least work on padding.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            part = order[start : start + batch_size]
            out[part] = self._run([texts[i] for i in part])
        return out

    @contextlib.contextmanager
    def all_cores(self) -> Iterator[None]:
        """Encode with a session of one thread per core inside the block (made for the block: an index build's
        big batches), then return to the one-thread session."""
        single = self._session
        self._session = self._new_session(os.cpu_count() or 1)
        try:
            yield
        finally:
            self._session = single


if __name__ == "__main__":  # `make install`: prepare the machine's model cache once
    from .settings import Settings

    print(ensure_onnx(Settings().models_dir))
