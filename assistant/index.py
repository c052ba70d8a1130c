"""Chroma index (embedded on disk or a server) of chunks and sentences, keyed by a build fingerprint.

A build goes into a temporary collection that is renamed to its final name only when complete, so a
crash mid-build never leaves a half index in use. A corrupted embedded store is moved aside (never
deleted) and rebuilt.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout
from langchain_chroma import Chroma
from tqdm import tqdm

from .chunking import Chunk, chunk_document
from .corpus import Corpus, Sentence
from .embeddings import MiniLMEmbeddings
from .settings import Settings

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
BATCH = 256


class IndexUnavailable(Exception):
    """The index cannot be opened or built; the message says why and what to do."""


def sentence_id(sentence: Sentence) -> str:
    digest = hashlib.sha256(sentence.text.encode()).hexdigest()[:12]
    return f"{sentence.doc_id}#s{sentence.index}:{digest}"


def _client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_mode == "server":
        scheme = "https" if settings.chroma_ssl else "http"
        where = f"{scheme}://{settings.chroma_host}:{settings.chroma_port}"
        try:
            # chromadb's HTTP client waits forever; a bounded TCP probe fails fast instead.
            socket.create_connection((settings.chroma_host, settings.chroma_port), settings.chroma_timeout).close()
            return chromadb.HttpClient(
                host=settings.chroma_host,
                port=settings.chroma_port,
                ssl=settings.chroma_ssl,
                headers=settings.chroma_headers or None,
                settings=chroma_settings,
            )
        except Exception as exc:
            raise IndexUnavailable(
                f"cannot reach the Chroma server at {where} ({type(exc).__name__}: {exc}); start one with "
                f"`chroma run --path DIR --port {settings.chroma_port}` or set ASSISTANT_CHROMA_MODE=embedded"
            ) from exc
    path = settings.index_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexUnavailable(f"cannot create the index directory {path}: {exc.strerror or exc}") from exc
    if not os.access(path, os.W_OK):
        raise IndexUnavailable(f"the index directory {path} is not writable (set ASSISTANT_DATA_DIR)")
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def _forget_clients() -> None:
    # chromadb caches one system per path; drop it before a directory is moved or re-created.
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


@dataclass
class Index:
    """The open index: a LangChain ``Chroma`` store plus the chunks and sentences it holds."""

    store: Chroma
    corpus: Corpus
    chunks: list[Chunk]
    collection_name: str
    built: bool  # True when this call built it, False when reused
    seconds: float
    notes: list[str] = field(default_factory=list)
    _vectors: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def chunk_count(self) -> int:
        return len(self.chunks)

    def sentence_vectors(self, sentences: list[Sentence]) -> np.ndarray:
        """Stored embeddings of ``sentences`` (fetched from Chroma once, then kept in memory)."""
        ids = [sentence_id(s) for s in sentences]
        missing = [i for i in dict.fromkeys(ids) if i not in self._vectors]
        if missing:
            got = self.store._collection.get(ids=missing, include=["embeddings"])
            for sid, vector in zip(got["ids"], got["embeddings"]):
                self._vectors[sid] = np.asarray(vector, dtype=np.float32)
        unknown = [i for i in ids if i not in self._vectors]
        if unknown:
            raise IndexUnavailable(f"index is missing {len(unknown)} sentence vectors; run `assistant index --rebuild`")
        return np.stack([self._vectors[i] for i in ids])


def fingerprint(corpus: Corpus, embeddings: MiniLMEmbeddings, settings: Settings) -> str:
    parts = [str(SCHEMA_VERSION), corpus.fingerprint, embeddings.model_id, str(settings.chunk_tokens), str(settings.chunk_overlap)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _records(corpus: Corpus, chunks: list[Chunk]) -> tuple[list[str], list[str], list[dict]]:
    ids, texts, metas = [], [], []
    for chunk in chunks:
        ids.append(chunk.chunk_id)
        texts.append(chunk.text)
        metas.append({"kind": "chunk", **chunk.metadata()})
    for s in corpus.sentences:
        ids.append(sentence_id(s))
        texts.append(s.text)
        metas.append({"kind": "sentence", "doc_id": s.doc_id, "paragraph": s.paragraph,
                      "sentence_index": s.index, "char_start": s.start, "char_end": s.end})
    return ids, texts, metas


def _store(client, name: str, embeddings: MiniLMEmbeddings) -> Chroma:
    return Chroma(
        client=client,
        collection_name=name,
        embedding_function=embeddings,
        collection_configuration={"hnsw": {"space": "cosine"}},
    )


def _build(client, name: str, corpus: Corpus, chunks: list[Chunk], embeddings: MiniLMEmbeddings, progress: bool) -> None:
    ids, texts, metas = _records(corpus, chunks)
    temp = f"{name}-tmp-{uuid.uuid4().hex[:8]}"
    store = _store(client, temp, embeddings)
    try:
        bar = tqdm(total=len(ids), desc="Embedding", unit="text", disable=not progress)
        for i in range(0, len(ids), BATCH):
            vectors = embeddings.encode(texts[i : i + BATCH]).tolist()
            store._collection.add(ids=ids[i : i + BATCH], embeddings=vectors, documents=texts[i : i + BATCH], metadatas=metas[i : i + BATCH])
            bar.update(len(texts[i : i + BATCH]))
        bar.close()
        store._collection.modify(metadata={"complete": True, "records": len(ids), "chunks": len(chunks), "built_at": time.time()})
        try:
            client.delete_collection(name)  # a stale or incomplete copy under the final name
        except Exception:
            pass
        store._collection.modify(name=name)  # the switch: readers only ever open complete collections
    except BaseException:
        try:
            client.delete_collection(temp)
        finally:
            raise


def _is_complete(client, name: str, expected: int) -> bool:
    try:
        collection = client.get_collection(name)
    except Exception:
        return False
    meta = collection.metadata or {}
    return bool(meta.get("complete")) and meta.get("records") == expected and collection.count() == expected


def _drop_others(client, prefix: str, keep: str) -> None:
    for collection in client.list_collections():
        name = collection if isinstance(collection, str) else collection.name
        if name.startswith(f"{prefix}-") and name != keep and "-tmp-" not in name:
            log.info("dropping outdated collection %s", name)
            client.delete_collection(name)


def _is_store_error(exc: BaseException) -> bool:
    import sqlite3

    return isinstance(exc, sqlite3.DatabaseError) or type(exc).__module__.startswith("chromadb")


def _quarantine(path: Path) -> Path:
    _forget_clients()
    target = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}")
    shutil.move(str(path), str(target))
    return target


def open_index(
    corpus: Corpus,
    embeddings: MiniLMEmbeddings,
    settings: Settings,
    rebuild: bool = False,
    progress: bool = False,
) -> Index:
    """Reuse the index built from this exact corpus/model/chunking, or build it."""
    started = time.perf_counter()
    chunks = [c for d in corpus.documents for c in chunk_document(d, embeddings.count_tokens, settings.chunk_tokens, settings.chunk_overlap)]
    name = f"{settings.collection_prefix}-{fingerprint(corpus, embeddings, settings)}"
    expected = len(chunks) + len(corpus.sentences)
    notes: list[str] = []
    lock = None
    if settings.chroma_mode == "embedded":
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(settings.data_dir / "index.lock"), timeout=600)
            lock.acquire()
        except Timeout as exc:
            raise IndexUnavailable(f"another process has held {settings.data_dir / 'index.lock'} for 10 minutes") from exc
        except OSError as exc:
            raise IndexUnavailable(f"cannot use the data directory {settings.data_dir}: {exc.strerror or exc}") from exc
    try:
        try:
            client = _client(settings)
            reuse = not rebuild and _is_complete(client, name, expected)
        except IndexUnavailable:
            raise
        except Exception as exc:
            if settings.chroma_mode != "embedded":
                raise IndexUnavailable(f"the Chroma server failed: {exc}") from exc
            moved = _quarantine(settings.index_dir)
            notes.append(f"the index at {settings.index_dir} was unreadable ({type(exc).__name__}); moved to {moved.name} and rebuilt")
            log.warning(notes[-1])
            client, reuse = _client(settings), False
        if not reuse:
            try:
                _build(client, name, corpus, chunks, embeddings, progress)
            except Exception as exc:
                # Only a damaged store is worth moving aside; any other failure leaves the old index alone.
                if settings.chroma_mode != "embedded" or notes or not _is_store_error(exc):
                    raise IndexUnavailable(f"building the index failed: {type(exc).__name__}: {exc}") from exc
                moved = _quarantine(settings.index_dir)
                notes.append(f"the index at {settings.index_dir} could not be written ({type(exc).__name__}); moved to {moved.name} and rebuilt")
                log.warning(notes[-1])
                client = _client(settings)
                _build(client, name, corpus, chunks, embeddings, progress)
            _drop_others(client, settings.collection_prefix, keep=name)
        return Index(_store(client, name, embeddings), corpus, chunks, name, not reuse, time.perf_counter() - started, notes)
    finally:
        if lock is not None:
            lock.release()
