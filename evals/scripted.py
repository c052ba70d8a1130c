"""Two scripted chat models that measure the LLM judge: deterministic, no network, no weights.

Test doubles, so they live with the evals, not in the product: ``make_scripted("oracle:SUITE")`` (a suite
name of ``evaluation.SUITES`` or a JSONL suite file) or ``make_scripted("fabricator")`` builds one, and
``Assistant(chat_model=...)`` or ``Assistant.configure(chat_model=...)`` answers with it behind the guard and
the judge. Both read only what a real model reads: the prompt of ``llm.build_messages`` (numbered passages,
the question).

* ``OracleChatModel`` knows each suite item's reference answer and evidence sentences: it writes the
  reference citing the passages that hold the evidence, "The article does not say." for an unanswerable
  item, "Correction: " and the reference for a false premise. What a perfect model would write, so the
  judge should accept nearly all of it.
* ``FabricatorChatModel`` writes plausible answers with invented numbers, names and dates, citing real
  passages: a passage sentence with its number changed, an invented sentence, or a true sentence followed
  by an invented one. ``invented`` records, per question, the values it made up: none may reach the user.

Both stream their reply a few words at a time, so the sentence gate sees text arrive as from a server.
"""

from __future__ import annotations

import hashlib
import re
from abc import abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from assistant.evaluation import SUITES, load_suite, read_items  # the eval runner's item format
from assistant.language import normalise, quantities

REFUSAL = "The article does not say."
EVIDENCE_PREFIX = 80  # characters of an evidence sentence that identify it in a (possibly cut) passage
_PASSAGE = re.compile(r"^\[(\d+)\] (.*)$", re.MULTILINE)
_QUESTION = re.compile(r"^Question: (.*)$", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“])")


def prompt_passages(prompt: str) -> dict[int, str]:
    """The numbered passages of a ``build_messages`` prompt."""
    head = prompt.split("\nQuestion: ")[0].split("\nConversation so far:")[0]
    return {int(n): text for n, text in _PASSAGE.findall(head)}


def prompt_question(prompt: str) -> str:
    found = _QUESTION.findall(prompt)
    return found[-1].strip() if found else ""


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def _seed(text: str) -> int:
    """A stable number per text (``hash`` is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


class ScriptedChatModel(BaseChatModel):
    """A chat model whose reply is a function of the prompt's last message."""

    words_per_chunk: int = 3

    @abstractmethod
    def reply(self, prompt: str) -> str: ...

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.reply(messages[-1].text)))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        pieces = re.findall(r"\S+\s*", self.reply(messages[-1].text))
        for i in range(0, len(pieces), self.words_per_chunk):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content="".join(pieces[i : i + self.words_per_chunk])))
            if run_manager:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk


class OracleChatModel(ScriptedChatModel):
    """Writes each known item's reference answer with the right citations (see the module docstring)."""

    items: list[dict[str, Any]]
    _by_question: dict[str, dict[str, Any]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any) -> None:
        self._by_question = {normalise(i["question"]): i for i in self.items}

    @property
    def _llm_type(self) -> str:
        return "scripted-oracle"

    def reply(self, prompt: str) -> str:
        item = self._by_question.get(normalise(prompt_question(prompt)))
        if item is None or item["kind"] == "unanswerable":
            return REFUSAL
        passages = {n: normalise(text) for n, text in prompt_passages(prompt).items()}
        wanted = [normalise(e)[:EVIDENCE_PREFIX] for e in item.get("evidence", [])]
        markers = "".join(f"[{n}]" for n, text in passages.items() if any(w in text for w in wanted))
        cited = " ".join(f"{s.rstrip('.')} {markers}." if markers else s for s in sentences(item["reference"]))
        return f"Correction: {cited}" if item["kind"] == "false_premise" else cited


# Invented values: none occurs in the suites' documents.
INVENTED_NAMES = (
    "Harald Lindqvist",
    "Maria Okonkwo",
    "Director Park Ji-won",
    "Governor Elsa Brandvold",
    "Minister Tomas Quirke",
)
INVENTED_DATES = ("March 14, 1953", "17 October 2031", "June 9, 1888")


class FabricatorChatModel(ScriptedChatModel):
    """Writes plausible, cited, invented answers (see the module docstring)."""

    _invented: dict[str, list[str]] = PrivateAttr(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "scripted-fabricator"

    @property
    def invented(self) -> dict[str, list[str]]:
        """Question text -> the values the last reply to it made up."""
        return self._invented

    def shown(self, question: str, text: str) -> list[str]:
        """The values invented for ``question`` that ``text`` states: a number in any spelling ("67-fold" =
        "sixty-seven-fold", not the "500" of "3,500"), a name or date word for word."""
        numbers = {q.key for q in quantities(text)}
        words = f" {' '.join(re.findall(r'[a-z0-9]+', normalise(text)))} "
        found = []
        for value in self._invented.get(question, []):
            if re.fullmatch(r"[\d.,]+(?:-fold|%|th)?", value):
                found += [value] if {q.key for q in quantities(value)} <= numbers else []
            elif f" {' '.join(re.findall(r'[a-z0-9]+', normalise(value)))} " in words:
                found.append(value)
        return found

    def reply(self, prompt: str) -> str:
        question = prompt_question(prompt)
        passages = prompt_passages(prompt)
        seed = _seed(question)
        name = INVENTED_NAMES[seed % len(INVENTED_NAMES)]
        date = INVENTED_DATES[seed % len(INVENTED_DATES)]
        count = int(_unseen(3 + seed % 900, prompt))
        invented_sentence = f"According to {name}, it was decided on {date} with {count} delegates present"
        numbered = [(n, s) for n, text in passages.items() for s in sentences(text) if quantities(s)]
        true = [(n, s) for n, text in passages.items() for s in sentences(text)]
        mode = seed % 3
        if mode == 0 and numbered:  # a real sentence with its number changed
            n, sentence = numbered[seed % len(numbered)]
            changed, value = _change_number(sentence)
            self._invented[question] = [value]
            return f"{changed.rstrip('.')} [{n}]."
        n = min(passages, default=1)
        self._invented[question] = [name, date, str(count)]
        if mode == 1 and true:  # a true sentence, then an invented one on the same passage
            n, sentence = true[seed % len(true)]
            return f"{sentence.rstrip('.')} [{n}]. {invented_sentence} [{n}]."
        return f"{invented_sentence} [{n}]."


def _change_number(sentence: str) -> tuple[str, str]:
    """``sentence`` with its first number replaced by another of the same kind, and the new number."""
    q = quantities(sentence)[0]
    value = _unseen(q.value + 13 if q.unit == "year" else q.value * 3 + 7, sentence)
    suffix = {"fold": "-fold", "percent": "%", "ord": "th"}.get(q.unit, "")
    new = f"{value:g}{suffix}"
    return f"{sentence[: q.start]}{new}{sentence[q.end :]}", new


def _unseen(value: float, text: str) -> float:
    """``value``, or the next whole number after it that ``text`` does not mention (so it is invented)."""
    seen = {q.value for q in quantities(text)}
    while value in seen:
        value += 1
    return value


def make_scripted(spec: str) -> ScriptedChatModel:
    """``oracle:SUITE`` (a suite name or a JSONL file of items) or ``fabricator``; the model is named
    ``scripted:SPEC``, which the answers' ``llm:`` note repeats."""
    kind, _, source = spec.partition(":")
    name = f"scripted:{spec}"
    if kind == "fabricator" and not source:
        return FabricatorChatModel(name=name)
    if kind == "oracle" and source:
        items = load_suite(source) if source in SUITES else read_items(Path(source).expanduser())
        return OracleChatModel(items=items, name=name)
    raise ValueError(f"unknown scripted model {spec!r}; use 'oracle:SUITE_OR_PATH.jsonl' or 'fabricator'")
