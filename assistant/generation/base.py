"""The answer-backend contract: a LangChain Runnable from {question, context, history} to a Draft.

A backend implements ``generate``; ``invoke``/``batch``/``stream`` come from ``Runnable``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, NotRequired

from langchain_core.documents import Document
from langchain_core.runnables import Runnable, RunnableConfig
from typing_extensions import TypedDict  # pydantic (LangChain's schemas) needs this one before Python 3.12

from ..answer import AnswerKind
from ..corpus import Sentence
from ..question import Question

# Where a backend that writes progressively (an LLM) hands each piece of its answer as soon as the piece is
# final, while ``generate`` is still running; ``Assistant.stream`` listens. Nothing set: nobody listens.
LIVE_TEXT: ContextVar[Callable[[str], None] | None] = ContextVar("live_text", default=None)


@dataclass
class Draft:
    """What a backend produces; the chain turns it into an ``Answer`` with full citations."""

    text: str
    cited: list[tuple[Sentence, float]]  # (sentence, score) in the order of their [n] markers
    kind: AnswerKind
    support: float
    notes: list[str] = field(default_factory=list)
    reader: float | None = None  # the trained reader's probability that its best sentence answers (None: not read)
    # What the answer states, for readers of fields rather than text (reports, tests):
    # the direct values ("Twentyfold", "Hun Manet") or the corrected one, and a correction's (wrong, right).
    values: list[str] = field(default_factory=list)
    correction: tuple[str, str] | None = None


class GeneratorInput(TypedDict):
    question: Question
    context: list[Document]  # ranked passages to answer from
    history: NotRequired[list[dict[str, Any]] | None]  # earlier chat turns ({"role", "content"}), oldest first


class AnswerGenerator(Runnable[GeneratorInput, Draft]):
    """Input: ``{"question": Question, "context": list[Document], "history": list[dict]}``."""

    name = "generator"

    @abstractmethod
    def generate(self, question: Question, context: list[Document], history: list[dict[str, Any]]) -> Draft: ...

    def invoke(self, input: GeneratorInput, config: RunnableConfig | None = None, **kwargs: Any) -> Draft:
        return self.generate(input["question"], input["context"], input.get("history") or [])

    def stream_text(self, text: str) -> Iterator[str]:
        """Pieces of a finished answer ``text`` for progressive display (one piece by default)."""
        yield text
