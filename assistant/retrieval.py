"""LangChain retrievers: dense (Chroma), lexical (BM25), their reciprocal-rank fusion, and a
sentence-window reranker. Every returned ``Document`` carries ``metadata["score"]`` and ``["rank"]``."""

from __future__ import annotations

from collections.abc import Iterable

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .chunking import Chunk
from .index import Index
from .language import tokens
from .question import Question
from .scoring import SentenceScorer
from .settings import Settings


def chunk_document(chunk: Chunk, score: float, rank: int) -> Document:
    return Document(
        page_content=chunk.text, id=chunk.chunk_id, metadata={**chunk.metadata(), "score": score, "rank": rank}
    )


def paragraph_chunks(index: Index, paragraphs: Iterable[tuple[str, int]]) -> list[Document]:
    """The chunks holding each (doc_id, paragraph), in paragraph order, for a follow-up that points back at
    the paragraph an answer quoted: its answer may be a sentence there that retrieval ranks low."""
    found: dict[str, Document] = {}
    for doc_id, number in paragraphs:
        for sentence in index.corpus.document(doc_id).sentences:
            chunk = index.chunk_of(sentence) if sentence.paragraph == number else None
            if chunk and chunk.chunk_id not in found:
                found[chunk.chunk_id] = chunk_document(chunk, 0.0, len(found) + 1)
    return list(found.values())


class DenseRetriever(BaseRetriever):
    """Nearest chunks by cosine similarity in Chroma."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    index: Index
    k: int = 10
    overfetch: int = 4  # nearest records fetched per chunk wanted (the collection also holds sentences)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        by_id = self.index.chunk_by_id
        embeddings = self.index.store.embeddings
        assert embeddings is not None  # the index opens its store with the MiniLM embeddings
        vector = embeddings.embed_query(query)
        # Chroma's metadata filter ({"kind": "chunk"}) costs time linear in the matching records on every
        # query (measured: 3 ms unfiltered vs 79 ms filtered at 31k records), so fetch the nearest records
        # unfiltered and keep the chunks, widening until k chunks are found or the collection is exhausted.
        # Ids and distances are all it needs: chunk ids name the chunks, and texts come from the index.
        n = self.overfetch * self.k
        while True:
            # chromadb types query_embeddings as list[Sequence[float] | Sequence[int]]: list invariance rejects list[list[float]].
            found = self.index.store._collection.query(query_embeddings=[vector], n_results=n, include=["distances"])  # type: ignore[arg-type]
            assert found["distances"] is not None  # asked for in ``include``
            ids, distances = found["ids"][0], found["distances"][0]
            hits = [(by_id[i], d) for i, d in zip(ids, distances, strict=True) if i in by_id]
            if len(hits) >= self.k or len(ids) < n:
                break
            n *= 4
        # Chroma returns cosine distances; report cosine similarity (can be slightly negative).
        return [
            chunk_document(chunk, 1.0 - float(distance), r) for r, (chunk, distance) in enumerate(hits[: self.k], 1)
        ]


class BM25Retriever(BaseRetriever):
    """Okapi BM25 (``bm25s``) over stemmed, stop-worded chunk text with normalised numbers."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    index: Index
    k: int = 10

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        engine = self.index.bm25
        query_tokens = [t for t in tokens(query) if t in engine.vocab_dict]
        if not query_tokens:
            return []
        k = min(self.k, len(self.index.chunks))
        # n_threads=0: with n_threads>=1 bm25s starts a thread pool for every query.
        ids, scores = engine.retrieve([query_tokens], k=k, show_progress=False, n_threads=0)
        return [
            chunk_document(self.index.chunks[int(i)], float(s), r)
            for r, (i, s) in enumerate(zip(ids[0], scores[0], strict=True), 1)
            if s > 0
        ]


class HybridRetriever(BaseRetriever):
    """Reciprocal rank fusion of several retrievers: score = Σ 1 / (c + rank)."""

    retrievers: list[BaseRetriever]
    c: int = 60
    k: int = 10

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        fused: dict[str, float] = {}
        docs: dict[str, Document] = {}
        for retriever in self.retrievers:
            for doc in retriever.invoke(query, config={"callbacks": run_manager.get_child()}):
                if doc.id is None:
                    raise ValueError(f"{type(retriever).__name__} returned a document without an id: fusion needs ids")
                fused[doc.id] = fused.get(doc.id, 0.0) + 1.0 / (self.c + doc.metadata["rank"])
                docs.setdefault(doc.id, doc)
        ranked = sorted(fused, key=fused.__getitem__, reverse=True)[: self.k]
        return [
            Document(
                page_content=docs[i].page_content, id=i, metadata={**docs[i].metadata, "score": fused[i], "rank": r}
            )
            for r, i in enumerate(ranked, 1)
        ]


class SentenceWindowRetriever(BaseRetriever):
    """Rerank the sentences of a base retriever's chunks and return each best sentence with its
    neighbours (same paragraph) as a passage, so short facts are not drowned in long chunks."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    base: BaseRetriever
    scorer: SentenceScorer
    k: int = 4
    window: int = 1

    def rank(self, question: Question, chunks: list[Document]) -> list[Document]:
        corpus = self.scorer.index.corpus
        sentences = [
            s
            for d in chunks
            for s in corpus.document(d.metadata["doc_id"]).sentences[
                d.metadata["sentence_start"] : d.metadata["sentence_end"]
            ]
        ]
        passages: list[Document] = []
        covered: set[tuple[str, int]] = set()
        for scored in self.scorer.score(question, sentences):
            s = scored.sentence
            if (s.doc_id, s.index) in covered:
                continue
            doc = corpus.document(s.doc_id)
            window = [
                n
                for n in doc.sentences[max(0, s.index - self.window) : s.index + self.window + 1]
                if n.paragraph == s.paragraph
            ]
            covered.update((n.doc_id, n.index) for n in window)
            passages.append(
                Document(
                    page_content=doc.text[window[0].start : window[-1].end],
                    id=f"{s.doc_id}#s{s.index}",
                    metadata={
                        "doc_id": s.doc_id,
                        "paragraph": s.paragraph,
                        "sentence_index": s.index,
                        "sentence_start": window[0].index,
                        "sentence_end": window[-1].index + 1,
                        "char_start": window[0].start,
                        "char_end": window[-1].end,
                        "score": scored.rank_score,
                        "rank": len(passages) + 1,
                    },
                )
            )
            if len(passages) == self.k:
                break
        return passages

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        question = self.scorer.analyser.analyse(query)
        chunks = self.base.invoke(question.query, config={"callbacks": run_manager.get_child()})
        return self.rank(question, chunks)


def build_retriever(index: Index, settings: Settings, mode: str | None = None) -> BaseRetriever:
    """The chunk retriever named by ``mode`` (default: ``settings.retriever``)."""
    mode = mode or settings.retriever
    dense = DenseRetriever(index=index, k=settings.candidates)
    if mode == "dense":
        return dense
    bm25 = BM25Retriever(index=index, k=settings.candidates)
    if mode == "bm25":
        return bm25
    if mode == "hybrid":
        return HybridRetriever(retrievers=[dense, bm25], c=settings.rrf_c, k=settings.candidates)
    raise ValueError(f"unknown retriever {mode!r}: choose dense, bm25 or hybrid")
