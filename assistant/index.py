"""Chroma index (embedded on disk or a server) of chunks and sentences, keyed by a build fingerprint.

A build goes into a temporary collection that is renamed to its final name only when complete, so a
crash mid-build never leaves a half index in use. A corrupted embedded store is moved aside (never
deleted) and rebuilt.

Builds are incremental: chunk and sentence ids are content-addressed (document id, position and a hash
of the text), so a new build copies the vectors of every record whose id and text it finds in a previous
complete collection of the same prefix and embedding model, and encodes only the new texts.

Server mode (``ASSISTANT_CHROMA_MODE=server``) needs nothing local but the data directory for the
ingest library: no file lock is taken (the lock would only serialise processes on this machine) and a
damaged server store is reported, never moved. Processes racing to build the same collection on one
server settle on whichever finishes first.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import logging
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bm25s
import httpx
import numpy as np
from filelock import FileLock, Timeout
from langchain_chroma import Chroma
from tqdm import tqdm

from . import nlp
from .chunking import Chunk, chunk_document
from .corpus import Corpus, Sentence
from .embeddings import MiniLMEmbeddings
from .errors import IndexUnavailable
from .language import tokens
from .settings import Settings

if TYPE_CHECKING:  # chromadb itself is imported only when a client is made
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import Metadata

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

SCHEMA_VERSION = 1
BATCH = 256  # texts embedded per model call
COPY_BATCH = 1024  # records copied per Chroma get/add when reusing vectors


QUERY_TIMEOUT = 30.0  # seconds a single request to a Chroma server may take once connected


def sentence_id(sentence: Sentence) -> str:
    digest = hashlib.sha256(sentence.text.encode()).hexdigest()[:12]
    return f"{sentence.doc_id}#s{sentence.index}:{digest}"


def _client(settings: Settings) -> ClientAPI:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_mode == "server":
        scheme = "https" if settings.chroma_ssl else "http"
        where = f"{scheme}://{settings.chroma_host}:{settings.chroma_port}"
        try:
            # chromadb's HTTP client waits forever (httpx timeout=None): probe the heartbeat with a deadline
            # first, so a dead or hung server is reported in seconds, then bound the client's own requests.
            httpx.get(
                f"{where}/api/v2/heartbeat", headers=settings.chroma_headers or None, timeout=settings.chroma_timeout
            ).raise_for_status()
            client = chromadb.HttpClient(
                host=settings.chroma_host,
                port=settings.chroma_port,
                ssl=settings.chroma_ssl,
                headers=settings.chroma_headers or None,
                settings=chroma_settings,
            )
            session = getattr(getattr(client, "_server", None), "_session", None)
            if session is not None:
                session.timeout = httpx.Timeout(
                    max(QUERY_TIMEOUT, settings.chroma_timeout), connect=settings.chroma_timeout
                )
            return client
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
    if not (path / "chroma.sqlite3").exists():
        _forget_clients()  # the store was deleted under us: don't reuse the cached system's open files
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def _forget_clients() -> None:
    # chromadb caches one system per path; drop it before a directory is moved or re-created.
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


@dataclass
class BuildStats:
    """What the last build did: how many records it embedded and how many it copied from older builds."""

    records: int = 0
    encoded: int = 0
    reused: int = 0
    reused_from: list[str] = field(default_factory=list)


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
    stats: BuildStats | None = None  # what the build embedded and reused (None when the index was reused)
    bm25_dir: Path | None = None  # where the chunks' BM25 index is kept between processes (None: never saved)
    _vectors: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def parse_sentences(self) -> None:
        """Parse every sentence with spaCy once per collection: read the parses kept beside the BM25 index,
        or parse (in batches) and keep them, so a reopened corpus is read, not parsed again."""
        texts = [s.text for s in self.corpus.sentences]
        path = self.bm25_dir.parent / "nlp" / f"{self.collection_name}-{nlp.MODEL}.pkl" if self.bm25_dir else None
        if path is None:
            nlp.parse_many(texts)
        elif not nlp.load_parses(path):
            nlp.save_parses(path, texts)
            if path.exists():
                _drop_siblings(path, self.collection_name.rsplit("-", 1)[0])

    @functools.cached_property
    def bm25(self) -> bm25s.BM25:
        """Okapi BM25 over the chunks' stemmed tokens: loaded from ``bm25_dir`` when this collection and this
        tokenizer saved it there, else indexed (3 s per 1,000 documents, mostly stemming) and saved."""
        path = self.bm25_dir / f"{self.collection_name}-{_lexical_version()}" if self.bm25_dir else None
        if path is not None and path.is_dir():
            try:
                engine = bm25s.BM25.load(str(path), show_progress=False)
                if engine.scores["num_docs"] == len(self.chunks):
                    return engine
                log.info("BM25 index %s holds another chunk count; re-indexing", path)
            except Exception as exc:  # a damaged copy only costs re-indexing
                log.info("cannot load the BM25 index %s (%s); re-indexing", path, exc)
        engine = bm25s.BM25()
        # An empty token list would break bm25s; "_" keeps such a chunk indexable (it never matches).
        engine.index([tokens(c.text) or ["_"] for c in self.chunks], show_progress=False)
        if path is not None:
            _save_bm25(engine, path, self.collection_name.rsplit("-", 1)[0])
        return engine

    @functools.cached_property
    def chunk_by_id(self) -> dict[str, Chunk]:
        return {c.chunk_id: c for c in self.chunks}

    @functools.cached_property
    def _chunk_of_sentence(self) -> dict[tuple[str, int], Chunk]:
        owner: dict[tuple[str, int], Chunk] = {}
        for c in self.chunks:
            for i in range(c.sentence_start, c.sentence_end):
                owner.setdefault((c.doc_id, i), c)  # the first chunk that holds the sentence
        return owner

    def chunk_of(self, sentence: Sentence) -> Chunk | None:
        return self._chunk_of_sentence.get((sentence.doc_id, sentence.index))

    @property
    def chunk_count(self) -> int:
        return len(self.chunks)

    def sentence_vectors(self, sentences: list[Sentence]) -> np.ndarray:
        """Stored embeddings of ``sentences`` (fetched from Chroma once, then kept in memory)."""
        ids = [sentence_id(s) for s in sentences]
        missing = [i for i in dict.fromkeys(ids) if i not in self._vectors]
        if missing:
            got = self.store._collection.get(ids=missing, include=["embeddings"])
            vectors = got["embeddings"]
            assert vectors is not None  # asked for in ``include``
            for sid, vector in zip(got["ids"], vectors, strict=True):
                self._vectors[sid] = np.asarray(vector, dtype=np.float32)
        unknown = [i for i in ids if i not in self._vectors]
        if unknown:
            raise IndexUnavailable(f"index is missing {len(unknown)} sentence vectors; run `assistant index --rebuild`")
        return np.stack([self._vectors[i] for i in ids])


@functools.lru_cache(maxsize=1)
def _lexical_version() -> str:
    """Changes with the tokenizer's code (and bm25s): a saved BM25 index only fits the tokens it was built from."""
    from . import language

    return hashlib.sha256(Path(language.__file__).read_bytes() + bm25s.__version__.encode()).hexdigest()[:12]


def _save_bm25(engine: bm25s.BM25, path: Path, prefix: str) -> None:
    """Save next to ``path`` and rename into place (a reader never sees half a copy); drop the prefix's
    copies for other collections or tokenizers, which no open can use any more."""
    temp = path.with_name(f"{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        engine.save(str(temp), show_progress=False)
        temp.rename(path)
    except OSError as exc:  # a read-only or full disk only costs re-indexing next time
        log.info("cannot save the BM25 index to %s: %s", path, exc)
        shutil.rmtree(temp, ignore_errors=True)
        return
    _drop_siblings(path, prefix)


def _drop_siblings(path: Path, prefix: str) -> None:
    """Remove what lies beside ``path`` for the prefix's other collections (or an older format): no open can
    use it any more, since the index keeps one collection per prefix."""
    for other in path.parent.iterdir():
        if other != path and other.name.startswith(f"{prefix}-"):
            if other.is_dir():
                shutil.rmtree(other, ignore_errors=True)
            else:
                other.unlink(missing_ok=True)


def chunk_corpus(corpus: Corpus, embeddings: MiniLMEmbeddings, settings: Settings) -> list[Chunk]:
    """Every document's chunks, with the sentences' word pieces counted in one batch."""
    texts = list(dict.fromkeys(s.text for s in corpus.sentences))
    sizes = dict(zip(texts, embeddings.count_tokens_many(texts), strict=True))
    return [
        c
        for d in corpus.documents
        for c in chunk_document(d, sizes.__getitem__, settings.chunk_tokens, settings.chunk_overlap)
    ]


def fingerprint(corpus: Corpus, embeddings: MiniLMEmbeddings, settings: Settings) -> str:
    parts = [
        str(SCHEMA_VERSION),
        corpus.fingerprint,
        embeddings.model_id,
        str(settings.chunk_tokens),
        str(settings.chunk_overlap),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


Records = tuple[list[str], list[str], list["Metadata"]]  # ids, texts, metadatas of the store's records


def _records(corpus: Corpus, chunks: list[Chunk]) -> Records:
    ids: list[str] = []
    texts: list[str] = []
    metas: list[Metadata] = []
    for chunk in chunks:
        ids.append(chunk.chunk_id)
        texts.append(chunk.text)
        metas.append({"kind": "chunk", **chunk.metadata()})
    for s in corpus.sentences:
        ids.append(sentence_id(s))
        texts.append(s.text)
        metas.append(
            {
                "kind": "sentence",
                "doc_id": s.doc_id,
                "paragraph": s.paragraph,
                "sentence_index": s.index,
                "char_start": s.start,
                "char_end": s.end,
            }
        )
    return ids, texts, metas


def _store(client: ClientAPI, name: str, embeddings: MiniLMEmbeddings) -> Chroma:
    return Chroma(
        client=client,
        collection_name=name,
        embedding_function=embeddings,
        collection_configuration={"hnsw": {"space": "cosine"}},
    )


def _name_of(collection: str | Collection) -> str:
    return collection if isinstance(collection, str) else collection.name


def _donors(client: ClientAPI, prefix: str, model_id: str) -> list[Collection]:
    """Complete collections of this prefix built with this embedding model: their vectors are reusable."""
    donors: list[Collection] = []
    for listed in client.list_collections():
        name = _name_of(listed)
        if not name.startswith(f"{prefix}-") or "-tmp-" in name:
            continue
        try:
            collection = client.get_collection(name)
            meta = collection.metadata or {}
            if meta.get("complete") and meta.get("model") == model_id and meta.get("schema") == SCHEMA_VERSION:
                donors.append(collection)
        except Exception as exc:  # an unreadable donor only costs re-encoding
            log.info("not reusing vectors from %s: %s", name, exc)
    return donors


def _copy_reusable(
    donors: list[Collection], collection: Collection, records: Records, dim: int, bar: tqdm[Any], stats: BuildStats
) -> list[int]:
    """Copy into ``collection`` the vectors of records that ``donors`` hold under the same id *and* text
    (ids embed a 12-hex text hash), a batch at a time so memory stays flat; return the positions of the
    records still to embed."""
    ids, texts, metas = records
    todo: list[int] = []
    used: set[str] = set()
    broken: set[str] = set()
    for start in range(0, len(ids), COPY_BATCH):
        part = range(start, min(start + COPY_BATCH, len(ids)))
        found: dict[int, np.ndarray] = {}
        for donor in donors:
            missing = {ids[i]: i for i in part if i not in found}
            if not missing or donor.name in broken:
                continue
            try:
                got = donor.get(ids=list(missing), include=["embeddings", "documents"])
            except Exception as exc:  # an unreadable donor only costs re-encoding
                log.info("not reusing vectors from %s: %s", donor.name, exc)
                broken.add(donor.name)
                continue
            vectors = got.get("embeddings")
            if vectors is None:
                continue
            # strict=False: a donor that returns no documents has nothing to compare, so nothing is copied.
            for rid, vector, text in zip(got["ids"], vectors, got.get("documents") or [], strict=False):
                i = missing.get(rid)
                if i is not None and text == texts[i] and vector is not None and len(vector) == dim:
                    found[i] = np.asarray(vector, dtype=np.float32)
                    used.add(donor.name)
        if found:
            keep = sorted(found)
            collection.add(
                ids=[ids[i] for i in keep],
                embeddings=np.stack([found[i] for i in keep]),
                documents=[texts[i] for i in keep],
                metadatas=[metas[i] for i in keep],
            )
            bar.update(len(keep))
            stats.reused += len(keep)
        todo += [i for i in part if i not in found]
    stats.reused_from = [d.name for d in donors if d.name in used]
    return todo


def _build(
    client: ClientAPI,
    name: str,
    corpus: Corpus,
    chunks: list[Chunk],
    embeddings: MiniLMEmbeddings,
    progress: bool,
    reuse: bool = True,
    stats: BuildStats | None = None,
    adopt: bool = True,
) -> None:
    """Embed into a temporary collection, then rename it to ``name``. ``reuse`` copies vectors of unchanged
    records from older complete collections; ``adopt`` keeps a complete ``name`` that appeared meanwhile."""
    ids, texts, metas = _records(corpus, chunks)
    stats = stats if stats is not None else BuildStats()
    stats.records = len(ids)
    donors = _donors(client, name.rsplit("-", 1)[0], embeddings.model_id) if reuse else []
    temp = f"{name}-tmp-{uuid.uuid4().hex[:8]}"
    store = _store(client, temp, embeddings)
    collection = store._collection
    collection.modify(metadata={"complete": False, "started_at": time.time()})
    try:
        bar = tqdm(total=len(ids), desc="Embedding", unit="text", disable=not progress)
        if donors:  # copied vectors: no model call
            dim = embeddings.encoder.dimension
            new = _copy_reusable(donors, collection, (ids, texts, metas), dim, bar, stats)
        else:
            new = list(range(len(ids)))
        with embeddings.encoder.all_cores():
            for start in range(0, len(new), BATCH):
                part = new[start : start + BATCH]
                batch = [texts[i] for i in part]
                vectors = embeddings.encode(batch)
                collection.add(
                    ids=[ids[i] for i in part], embeddings=vectors, documents=batch, metadatas=[metas[i] for i in part]
                )
                bar.update(len(part))
                stats.encoded += len(part)
        bar.close()
        collection.modify(
            metadata={
                "complete": True,
                "records": len(ids),
                "chunks": len(chunks),
                "built_at": time.time(),
                "model": embeddings.model_id,
                "schema": SCHEMA_VERSION,
            }
        )
        if adopt and _is_complete(client, name, len(ids)):
            # Another process (sharing a Chroma server) finished the same build first: use theirs.
            client.delete_collection(temp)
            return
        with contextlib.suppress(Exception):
            client.delete_collection(name)  # a stale or incomplete copy under the final name
        collection.modify(name=name)  # the switch: readers only ever open complete collections
    except BaseException:
        try:
            client.delete_collection(temp)
        finally:
            raise


def _is_complete(client: ClientAPI, name: str, expected: int) -> bool:
    try:
        collection = client.get_collection(name)
    except Exception:
        return False
    meta = collection.metadata or {}
    return bool(meta.get("complete")) and meta.get("records") == expected and collection.count() == expected


STALE_TMP_SECONDS = 6 * 3600  # server mode: a temporary collection this old belongs to a dead build


def _drop_others(client: ClientAPI, prefix: str, keep: str, sole_builder: bool) -> None:
    """Drop the prefix's outdated collections, and temporary ones left by crashed builds: all of them
    when this process is the only possible builder (embedded store, lock held), else only stale ones."""
    for collection in client.list_collections():
        name = _name_of(collection)
        if not name.startswith(f"{prefix}-") or name == keep:
            continue
        if "-tmp-" in name and not sole_builder:
            try:
                started = (client.get_collection(name).metadata or {}).get("started_at", 0)
            except Exception:
                continue
            if time.time() - float(started) < STALE_TMP_SECONDS:
                continue  # maybe another process's build in progress
        log.info("dropping %s collection %s", "leftover" if "-tmp-" in name else "outdated", name)
        try:
            client.delete_collection(name)
        except Exception as exc:  # already gone (another process cleaned up first)
            log.info("could not drop %s: %s", name, exc)


_RESOURCE_ERRORS = re.compile(r"disk is full|no space left|quota|read-?only", re.IGNORECASE)


def _is_store_error(exc: BaseException) -> bool:
    """A damaged store (worth moving aside), as opposed to a full disk or a read-only file system."""
    import sqlite3

    if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT, errno.EROFS) or _RESOURCE_ERRORS.search(str(exc)):
        return False
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
    chunks = chunk_corpus(corpus, embeddings, settings)
    name = f"{settings.index_prefix}-{fingerprint(corpus, embeddings, settings)}"
    expected = len(chunks) + len(corpus.sentences)
    notes: list[str] = []
    lock = None
    if settings.chroma_mode == "embedded":
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(settings.data_dir / "index.lock"), timeout=600)
            lock.acquire()
        except Timeout as exc:
            raise IndexUnavailable(
                f"another process has held {settings.data_dir / 'index.lock'} for 10 minutes"
            ) from exc
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
            notes.append(
                f"the index at {settings.index_dir} was unreadable ({type(exc).__name__}); moved to {moved.name} and rebuilt"
            )
            log.warning(notes[-1])
            client, reuse = _client(settings), False
        stats = None
        if not reuse:
            stats = BuildStats()
            try:
                # --rebuild means "do not trust what is stored": embed everything afresh.
                _build(
                    client,
                    name,
                    corpus,
                    chunks,
                    embeddings,
                    progress,
                    reuse=not rebuild,
                    stats=stats,
                    adopt=not rebuild,
                )
            except Exception as exc:
                # Only a damaged store is worth moving aside; any other failure leaves the old index alone.
                if settings.chroma_mode != "embedded" or notes or not _is_store_error(exc):
                    raise IndexUnavailable(f"building the index failed: {type(exc).__name__}: {exc}") from exc
                moved = _quarantine(settings.index_dir)
                notes.append(
                    f"the index at {settings.index_dir} could not be written ({type(exc).__name__}); moved to {moved.name} and rebuilt"
                )
                log.warning(notes[-1])
                try:
                    client = _client(settings)
                    stats = BuildStats()
                    _build(client, name, corpus, chunks, embeddings, progress, reuse=False, stats=stats)
                except Exception as retry_exc:
                    raise IndexUnavailable(
                        f"rebuilding the index failed: {type(retry_exc).__name__}: {retry_exc}"
                    ) from retry_exc
            _drop_others(client, settings.index_prefix, keep=name, sole_builder=settings.chroma_mode == "embedded")
        return Index(
            _store(client, name, embeddings),
            corpus,
            chunks,
            name,
            not reuse,
            time.perf_counter() - started,
            notes,
            stats,
            bm25_dir=settings.data_dir / "bm25",
        )
    finally:
        if lock is not None:
            lock.release()
