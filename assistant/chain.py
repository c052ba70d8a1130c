"""One LCEL chain: analyse → retrieve → rerank → generate → cite, timing every stage."""

# No ``from __future__ import annotations``: RunnableLambda reads the stages' annotations (ChainState) at
# run time for its input/output schemas, and a string there would not resolve.
import time
from collections.abc import Callable
from typing import Any, NotRequired

from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda
from typing_extensions import TypedDict  # pydantic (LangChain's schemas) needs this one before Python 3.12

from .answer import Answer, Citation
from .corpus import Sentence
from .generation import AnswerGenerator, Draft
from .index import Index
from .question import Question, QuestionAnalyser
from .retrieval import SentenceWindowRetriever, paragraph_chunks

PART_PASSAGES = 2  # passages added for each part of a multi-part question


class Stages(TypedDict, total=False):
    """What the stages add to the chain's state, each under its own key."""

    question: Question  # analyse: the message, resolved against the history
    parts: list[Question]  # retrieve: the parts of a multi-part question (none for a single question)
    chunks: list[Document]  # retrieve: the chunks found for the question and its parts
    context: list[Document]  # rerank: the ranked passages the generator answers from
    draft: Draft  # generate
    timings: dict[str, float]  # seconds per stage


class ChainState(Stages):
    """The chain's input plus what the stages have added so far."""

    message: str
    history: NotRequired[list[dict[str, Any]] | None]  # earlier chat turns ({"role", "content"}), oldest first


def _stage(name: str, step: Callable[[ChainState], Stages]) -> Runnable[ChainState, ChainState]:
    def run(state: ChainState) -> ChainState:
        started = time.perf_counter()
        state = {**state, **step(state)}
        state["timings"] = {**state.get("timings", {}), name: time.perf_counter() - started}
        return state

    return RunnableLambda(run, name=name)


def citations(index: Index, cited: list[tuple[Sentence, float]]) -> list[Citation]:
    """Full citations (paragraph, chunk, offsets, title) for a draft's (sentence, score) pairs."""
    out: list[Citation] = []
    for marker, (sentence, score) in enumerate(cited, 1):
        chunk = index.chunk_of(sentence)
        out.append(
            Citation(
                marker=marker,
                text=sentence.text,
                paragraph=sentence.paragraph,
                chunk_id=chunk.chunk_id if chunk else "",
                score=round(float(score), 4),
                doc_id=sentence.doc_id,
                title=index.corpus.document(sentence.doc_id).title,
                sentence_index=sentence.index,
                start=sentence.start,
                end=sentence.end,
            )
        )
    return out


def build_retrieval(
    index: Index,
    analyser: QuestionAnalyser,
    retriever: BaseRetriever,
    reranker: SentenceWindowRetriever | None,
    k: int,
) -> Runnable[ChainState, ChainState]:
    """Input ``{"message": str, "history": list[dict]}``; output the state with ``question`` and the ranked
    ``context`` passages the generator answers from."""

    def analyse_step(state: ChainState) -> Stages:
        return {"question": analyser.analyse(state["message"], state.get("history"))}

    def retrieve_step(state: ChainState) -> Stages:
        # Each part of "How many families …, and where does Korea rank …?" finds its own evidence: the
        # whole question's nearest chunks may hold neither part's answer.
        question = state["question"]
        part_questions = analyser.parts(question, state.get("history"))
        chunks: dict[str | None, Document] = {}
        for asked in (question, *part_questions):
            for chunk in retriever.invoke(asked.query):
                chunks.setdefault(chunk.id, chunk)
        for chunk in paragraph_chunks(index, question.leans_on):  # "When was that?": where "that" was quoted
            chunks.setdefault(chunk.id, chunk)
        return {"chunks": list(chunks.values()), "parts": part_questions}

    def rerank_step(state: ChainState) -> Stages:
        chunks = state["chunks"]
        if not reranker:
            return {"context": chunks[:k]}
        # The whole question's best passages, then each part's best two the whole missed.
        context = {d.id: d for d in reranker.rank(state["question"], chunks)}
        for part in state["parts"]:
            for d in reranker.rank(part, chunks)[:PART_PASSAGES]:
                if d.id not in context:
                    context[d.id] = d.model_copy(update={"metadata": {**d.metadata, "rank": len(context) + 1}})
        return {"context": list(context.values())}

    return _stage("analyse", analyse_step) | _stage("retrieve", retrieve_step) | _stage("rerank", rerank_step)


def build_chain(
    index: Index, retrieval: Runnable[ChainState, ChainState], generator: AnswerGenerator
) -> Runnable[ChainState, Answer]:
    """``retrieval`` (from ``build_retrieval``) then generation. Input ``{"message": str, "history":
    list[dict]}``; output ``Answer``."""

    def generate_step(state: ChainState) -> Stages:
        return {
            "draft": generator.invoke(
                {"question": state["question"], "context": state["context"], "history": state.get("history")}
            )
        }

    def answer_step(state: ChainState) -> Answer:
        question, draft = state["question"], state["draft"]
        return Answer(
            question=question.text,
            text=draft.text,
            citations=citations(index, draft.cited),
            kind=draft.kind,
            support=round(float(draft.support), 4),
            timings={k: round(v, 5) for k, v in state["timings"].items()},
            rewritten_query=question.query if question.is_follow_up else None,
            notes=list(draft.notes),
            reader=draft.reader,
            passages=[
                {
                    "text": d.page_content,
                    "doc_id": d.metadata["doc_id"],
                    "paragraph": d.metadata["paragraph"],
                    "score": round(float(d.metadata["score"]), 4),
                }
                for d in state["context"]
            ],
        )

    return retrieval | _stage("generate", generate_step) | RunnableLambda(answer_step, name="answer")
