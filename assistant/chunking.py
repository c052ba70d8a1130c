"""Sentence-aware chunks with sentence overlap, sized in the embedding model's word pieces."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from .corpus import Document, Sentence


@dataclass(frozen=True)
class Chunk:
    chunk_id: str  # document id + chunk number + text hash: stable across rebuilds of the same text
    doc_id: str
    paragraph: int
    sentence_start: int  # index of the first sentence (inclusive)
    sentence_end: int  # index after the last sentence (exclusive)
    char_start: int
    char_end: int
    text: str

    def metadata(self) -> dict[str, str | int]:
        return {
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "paragraph": self.paragraph,
            "sentence_start": self.sentence_start,
            "sentence_end": self.sentence_end,
            "char_start": self.char_start,
            "char_end": self.char_end,
        }


def _make_chunk(doc: Document, number: int, sentences: list[Sentence]) -> Chunk:
    start, end = sentences[0].start, sentences[-1].end
    text = doc.text[start:end]
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return Chunk(
        chunk_id=f"{doc.doc_id}:{number}:{digest}",
        doc_id=doc.doc_id,
        paragraph=sentences[0].paragraph,
        sentence_start=sentences[0].index,
        sentence_end=sentences[-1].index + 1,
        char_start=start,
        char_end=end,
        text=text,
    )


def chunk_document(
    doc: Document, count_tokens: Callable[[str], int], max_tokens: int = 96, overlap: int = 1
) -> list[Chunk]:
    """Pack consecutive sentences of one paragraph up to ``max_tokens``; neighbours share ``overlap`` sentences.

    Chunks never cross a paragraph, so every chunk cites one paragraph number. A single sentence longer
    than ``max_tokens`` becomes a chunk of its own (the model truncates it at 256 word pieces).
    """
    chunks: list[Chunk] = []
    paragraphs: dict[int, list[Sentence]] = {}
    for sentence in doc.sentences:
        paragraphs.setdefault(sentence.paragraph, []).append(sentence)
    for sentences in paragraphs.values():
        sizes = [count_tokens(s.text) for s in sentences]
        first = 0
        while first < len(sentences):
            last, total = first, sizes[first]
            while last + 1 < len(sentences) and total + sizes[last + 1] <= max_tokens:
                last += 1
                total += sizes[last]
            chunks.append(_make_chunk(doc, len(chunks), sentences[first : last + 1]))
            if last + 1 >= len(sentences):
                break
            # Step forward, keeping up to ``overlap`` sentences, but always make progress.
            first = max(first + 1, last + 1 - overlap)
    return chunks
