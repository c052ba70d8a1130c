"""The result types every way in (Python API, CLI, chat page, eval) hands back."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

AnswerKind = Literal["answer", "refusal", "correction"]


@dataclass(frozen=True)
class Citation:
    """One cited sentence, pointing at its exact place in the article."""

    marker: int  # the n of "[n]" in the answer text
    text: str
    paragraph: int
    chunk_id: str
    score: float
    doc_id: str
    title: str
    sentence_index: int
    start: int  # character offsets into the source document
    end: int


@dataclass
class Answer:
    question: str
    text: str
    citations: list[Citation]
    kind: AnswerKind
    support: float  # relevance of the best evidence sentence; refusals fall below the threshold
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    rewritten_query: str | None = None  # the retrieval query, when history changed it
    passages: list[dict[str, Any]] = field(
        default_factory=list
    )  # what the generator saw, ranked: text, paragraph, score
    notes: list[str] = field(default_factory=list)
    reader: float | None = None  # the trained reader's probability that its best sentence answers

    @property
    def refused(self) -> bool:
        return self.kind == "refusal"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "refused": self.refused}
