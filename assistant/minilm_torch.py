"""all-MiniLM-L6-v2 through sentence-transformers and torch: the reference implementation, and the source
of the ONNX model the serving path runs (``export_onnx``).

Importing this module is cheap; torch and sentence-transformers (5–9 s together) load on first use only.
``python -m assistant.minilm_torch FILE`` exports the ONNX model to ``FILE``: the child process
``minilm_onnx.ensure_onnx`` runs, so the process that serves never imports torch.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .minilm import ONNX_INPUTS, model_path

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

ONNX_OPSET = 17
ONNX_OUTPUT = "sentence_embedding"


@functools.cache
def load_model(path: str | None = None) -> SentenceTransformer:
    """Load the SentenceTransformer once per process, however many assistants are built."""
    import torch
    from sentence_transformers import SentenceTransformer

    # One intra-op thread: a question is a tiny batch, and on a 2-core machine two threads contend with
    # the web server and the other request (measured: 32 ms vs 180 ms p50 under load).
    torch.set_num_threads(1)
    path = path or str(model_path())
    log.info("loading embedding model from %s", path)
    return SentenceTransformer(path, device="cpu", local_files_only=True)


class TorchEncoder:
    """Normalized sentence embeddings from ``SentenceTransformer.encode``."""

    def __init__(self) -> None:
        self.model = load_model()

    @property
    def dimension(self) -> int:
        dimension = self.model.get_embedding_dimension()
        assert dimension is not None, "a pooled sentence model always knows its output size"
        return dimension

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return self.model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        ).astype(np.float32)

    @contextlib.contextmanager
    def all_cores(self) -> Iterator[None]:
        """Let torch use every core for a while: a build encodes big batches (1.45× faster on 2 cores than one
        thread), unlike a question, which ``load_model`` keeps on one thread."""
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(os.cpu_count() or 1)
        try:
            yield
        finally:
            torch.set_num_threads(before)


def export_onnx(target: Path) -> None:
    """Write the installed model as ONNX to ``target``: the whole SentenceTransformer (transformer, mean
    pooling, normalisation), so the ONNX graph returns the very vectors ``encode`` returns.

    sentence-transformers' own ``backend="onnx"`` export needs optimum-onnx, whose only release pins
    transformers < 4.58 while sentence-transformers 6 needs transformers 5: torch's TorchScript exporter
    (plus the ``onnx`` package) exports the same module offline from the installed weights."""
    import torch

    model = load_model()

    class Whole(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            features = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
            embedding: torch.Tensor = self.model(features)[ONNX_OUTPUT]
            return embedding

    # A padded example: tracing an unpadded batch could drop the attention-mask path from the graph.
    example = model.preprocess(["a question", "a longer sentence of the article, padded to the longest"])
    dynamic = {name: {0: "batch", 1: "tokens"} for name in ONNX_INPUTS} | {ONNX_OUTPUT: {0: "batch"}}
    # The exporter's tracer warnings are about Python branches it fixes at trace time; the agreement test
    # (tests/test_embeddings.py) is what shows the graph right for every batch and length.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Whole().eval(),
            tuple(example[name] for name in ONNX_INPUTS),
            str(target),
            input_names=list(ONNX_INPUTS),
            output_names=[ONNX_OUTPUT],
            dynamic_axes=dynamic,
            opset_version=ONNX_OPSET,
            dynamo=False,  # the dynamo exporter needs onnxscript and specialises the traced shapes more
        )


if __name__ == "__main__":
    export_onnx(Path(sys.argv[1]))
