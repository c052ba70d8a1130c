"""``Assistant``: the one facade the CLI, the chat page and the eval runner all call."""

from __future__ import annotations

import contextvars
import functools
import logging
import queue
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.documents import Document

from . import english, nlp
from .answer import Answer
from .chain import build_chain, build_retrieval
from .corpus import Corpus, load_corpus
from .embeddings import MiniLMEmbeddings
from .errors import QuestionError
from .generation import AnswerGenerator, ExtractiveGenerator
from .generation.base import LIVE_TEXT
from .index import Index, open_index
from .reader import MODEL_DIR as READER_DIR
from .reader import SpanReader
from .retrieval import SentenceWindowRetriever, build_retriever
from .scoring import SentenceScorer
from .settings import Settings

if TYPE_CHECKING:  # loading LangChain's chat models costs half a second; only the LLM backends need it
    from langchain_core.language_models.chat_models import BaseChatModel

log = logging.getLogger(__name__)


@functools.cache
def _shared_embeddings(backend: str, models_dir: Path) -> MiniLMEmbeddings:
    return MiniLMEmbeddings(backend, models_dir)


def shared_embeddings(settings: Settings) -> MiniLMEmbeddings:
    """One embedding model (and query cache) per process and backend, however many assistants are built."""
    return _shared_embeddings(settings.embedding_backend, settings.models_dir)


@functools.lru_cache(maxsize=4)
def shared_reader(folder: Path) -> SpanReader:
    """The trained reader of ``folder``, one per process (its ONNX session opens on first use)."""
    try:
        return SpanReader(folder)
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(
            f"no usable reader model in {folder} ({exc}); set ASSISTANT_READER_DIR or ASSISTANT_READER=false"
        ) from exc


def _too_long(length: int, max_chars: int) -> QuestionError:
    return QuestionError(
        f"That message is {length:,} characters long; questions are limited to {max_chars:,}. Please ask something shorter."
    )


# Terminal colour/cursor sequences (ESC [ … final byte) pasted along with a question: without this their
# parameters ("31" of "\x1b[31m") would survive the control-character pass and be read as numbers asked about.
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
FOREIGN_REPLY = (
    "Please ask in English: questions must be in English, and this one seems to be in another language. "
    "The documents are read in English only, so I could not look this question up."
)


def _scrub(text: str) -> str:
    """``text`` without what cannot be encoded or embedded: lone surrogates are dropped (a message of nothing
    else is then empty, not the "?" that "replace" would leave); terminal escapes and control characters
    become spaces."""
    text = text.encode("utf-8", "ignore").decode("utf-8")
    text = _ANSI_ESCAPE.sub(" ", text)
    return "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)


def _clean_history(history: object, max_chars: int) -> Any:
    """``history`` with every text turn scrubbed like a question (one lone surrogate in an earlier turn
    must not break every later answer of the session); user turns that would be refused are left out.
    Typed ``Any``: the page can hand back anything, and the analyser checks each turn it reads."""
    if not isinstance(history, list):
        return history
    cleaned = []
    for message in history:
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            if message.get("role") == "user":
                try:
                    message = {**message, "content": clean_question(message["content"], max_chars)}
                except QuestionError:  # empty or oversized: it was never a question to follow up on
                    continue
            else:
                message = {**message, "content": _scrub(message["content"])}
        cleaned.append(message)
    return cleaned


def clean_question(text: object, max_chars: int) -> str:
    """Normalise user text or raise ``QuestionError`` with a message fit for the chat window."""
    if not isinstance(text, str):
        raise QuestionError("Please type your question as text.")
    if len(text) > 4 * max_chars:  # refuse pasted megabytes before walking them character by character
        raise _too_long(len(text), max_chars)
    text = " ".join(_scrub(text).split())
    if not text:
        raise QuestionError("Please type a question about the documents.")
    if len(text) > max_chars:
        raise _too_long(len(text), max_chars)
    return text


class Assistant:
    """Grounded answers about the articles in ``corpus/``.

    >>> bot = Assistant()                                   # doctest: +SKIP
    >>> bot.ask("How much has trade grown since 1997?").text  # doctest: +SKIP
    'Twentyfold. “He noted that trade volume has increased twentyfold, …” [1]'
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        rebuild: bool = False,
        progress: bool = False,
        corpus: Corpus | None = None,
        chat_model: BaseChatModel | None = None,
        **overrides: Any,
    ) -> None:
        """``corpus``: the settings' corpus when the caller has already read it (``assistant chat``).
        ``chat_model``: a LangChain chat model that writes the answers (behind the guard and the judge, like
        an ``ASSISTANT_LLM`` backend) instead of the one ``settings.llm`` names; tests and evals hand in
        scripted ones this way."""
        started = time.perf_counter()
        self.chat_model = chat_model
        base = settings or Settings()
        self.settings = base.with_overrides(**overrides)
        if self.settings.chroma_mode == "server":
            # Report an unreachable Chroma server now, not after the embedding model's seconds-long load.
            from .index import _client

            _client(self.settings)
        self.corpus = (
            corpus
            if corpus is not None
            else load_corpus(self.settings.corpus_dir, extra_dirs=[self.settings.library_dir])
        )
        self.embeddings = shared_embeddings(self.settings)
        self.index: Index = open_index(self.corpus, self.embeddings, self.settings, rebuild=rebuild, progress=progress)
        self._build()
        self.startup_seconds = time.perf_counter() - started

    def _build(self) -> None:
        s = self.settings
        self.scorer = SentenceScorer(self.index, self.embeddings, s.dense_weight)
        self.retriever = build_retriever(self.index, s)
        self.reranker = (
            SentenceWindowRetriever(base=self.retriever, scorer=self.scorer, k=s.k, window=s.window)
            if s.rerank
            else None
        )
        self.generator: AnswerGenerator = self._make_generator()
        self.retrieval = build_retrieval(self.index, self.scorer.analyser, self.retriever, self.reranker, s.k)
        self.chain = build_chain(self.index, self.retrieval, self.generator)

    def _make_generator(self) -> AnswerGenerator:
        s = self.settings
        extractive = ExtractiveGenerator(
            self.scorer,
            s.refusal_threshold,
            s.max_answer_sentences,
            s.disabled_rules,
            shared_reader(s.reader_dir or READER_DIR) if s.reader else None,
            s.reader_threshold,
            s.reader_candidates,
            always_read=self._arbitrating or s.reader_reads_all,
        )
        self._reads_every_question = extractive.reader.reads_every_question
        if not self._arbitrating:
            return extractive
        from .generation.llm import make_llm_generator  # optional extras load only when asked for

        return make_llm_generator(s, self.scorer, fallback=extractive, model=self.chat_model)

    @property
    def _arbitrating(self) -> bool:
        """Whether an LLM answers, so that the reader's verdict on every question may overrule its refusal."""
        return self.settings.llm != "extractive" or self.chat_model is not None

    def configure(self, *, chat_model: BaseChatModel | None = None, **overrides: Any) -> Assistant:
        """A variant with other retrieval/answer settings sharing this one's corpus, model and index; with
        ``chat_model`` (see ``__init__``) answering, else this one's."""
        clone = object.__new__(Assistant)
        clone.__dict__.update(self.__dict__)
        clone.settings = self.settings.with_overrides(**overrides)
        if chat_model is not None:
            clone.chat_model = chat_model
        if {"chunk_tokens", "chunk_overlap", "corpus_dir", "data_dir"} & overrides.keys():
            raise ValueError("configure() cannot change what the index is built from; make a new Assistant")
        clone._build()
        return clone

    def warm_up(self) -> None:
        """Pay the lazy loads (spaCy's pipeline, the embedding session, the lexical index) now, with a question
        about the article's first sentence, so a serving process's first user does not. Never raises: a real
        problem is the first question's to report."""
        question = f"What does the article say about {self.corpus.sentences[0].text[:80]}?"
        try:
            nlp.parse(question)
            self.retrieve(question)
            if self._reads_every_question:  # else the reader loads on its first span, not for every page
                shared_reader(self.settings.reader_dir or READER_DIR).warm_up()
        except Exception:
            log.debug("warm-up failed", exc_info=True)

    # -- the public calls ----------------------------------------------------------------------
    def ask(self, question: str, history: list[dict[str, Any]] | None = None) -> Answer:
        """Answer ``question`` from the article; raises ``QuestionError`` for empty or oversized input."""
        text = clean_question(question, self.settings.max_question_chars)
        answer = self.chain.invoke(
            {"message": text, "history": _clean_history(history or [], self.settings.max_question_chars)}
        )
        if answer.refused and english.is_foreign(text):
            # Every stage reads English: say why nothing was found, not that the documents are silent, and
            # point at no passage (none was found for what was asked).
            answer.text, answer.citations = FOREIGN_REPLY, []
        return answer

    def chat(self, message: str, history: list[dict[str, Any]] | None = None) -> Answer:
        """Multi-turn ``ask``: ``history`` is Gradio's messages format (``{"role", "content"}`` dicts)."""
        return self.ask(message, history)

    def stream(self, message: str, history: list[dict[str, Any]] | None = None) -> Iterator[str | Answer]:
        """Yield the answer text as it grows (cumulative strings), then the final ``Answer``.

        An LLM answer arrives while the model writes it, one verified sentence at a time (the generator
        hands each to ``LIVE_TEXT``); an extractive answer (also an LLM's fallback) is complete at once and
        is yielded in the generator's ``stream_text`` pieces. Errors are raised here, as from ``chat``."""
        pieces: queue.Queue[str | Answer | BaseException] = queue.Queue()

        def answer() -> None:
            LIVE_TEXT.set(pieces.put)
            try:
                pieces.put(self.chat(message, history))
            except BaseException as exc:
                pieces.put(exc)

        threading.Thread(
            target=contextvars.copy_context().run, args=(answer,), name="assistant-stream", daemon=True
        ).start()
        text = ""
        while isinstance(item := pieces.get(), str):
            text += item
            yield text
        if isinstance(item, BaseException):
            raise item
        if not text:
            for piece in self.generator.stream_text(item.text):
                text += piece
                yield text
        yield item

    def retrieve(self, question: str, k: int | None = None) -> list[Document]:
        """The ranked passages the generator would see, each with ``metadata["score"]`` and ``["rank"]``."""
        text = clean_question(question, self.settings.max_question_chars)
        # A multi-part question sees a few passages per part beyond its ``k``; all of them unless ``k`` is given.
        context = self.retrieval.invoke({"message": text, "history": []})["context"]
        return context[:k] if k else context
