"""The chat page served for real and driven through ``gradio_client`` (no mocks: real model, index, server)."""

from __future__ import annotations

import copy
import gc
import json
import logging
import os
import warnings
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before gradio_client imports huggingface_hub

import gradio as gr
import httpx
import pytest
from gradio_client import Client

from assistant import Answer, Assistant, Citation, Settings
from assistant.corpus import Corpus, parse_document
from assistant.servers import free_port
from assistant.ui import (
    CORRECTION_NOTE,
    ERROR_REPLY,
    REFUSAL_NOTE,
    SOURCES_MARKER,
    ChatPage,
    escape_markdown,
    launch,
    page_text,
    plain_history,
    render_answer,
    unescape_markdown,
)

TRADE = "How much has trade grown since 1997?"
FORUM = "How many people attended the business forum?"


def make_client(url: str, **kwargs) -> Client:
    # A URL (not a Space name) means no Hub lookup; no downloads, no telemetry, no console chatter.
    return Client(url, verbose=False, download_files=False, analytics_enabled=False, **kwargs)


@pytest.fixture
def client(app):
    """A fresh session per test: the server keeps chat history per client session."""
    c = make_client(app.local_url)
    yield c
    c.close()


def feedback_lines(bot) -> list[dict]:
    path = bot.settings.feedback_file
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


# -- served over HTTP ------------------------------------------------------------------------------------


def test_binds_localhost_and_exposes_respond(app, client):
    assert app.local_url.startswith("http://127.0.0.1:")
    assert app.share_url is None
    api = client.view_api(return_format="dict", print_info=False)
    assert "/respond" in api["named_endpoints"]
    assert [p["parameter_name"] for p in api["named_endpoints"]["/respond"]["parameters"]] == ["message"]


def test_all_answering_events_share_one_queue(app, bot, client):
    answering = [f for f in app.fns.values() if f.concurrency_id == "summit-respond"]
    assert {f.api_name for f in answering} >= {"respond"} and len(answering) >= 3  # API, submit, example
    assert app._queue.default_concurrency_limit == bot.settings.concurrency
    client.predict("Who did Yoon Suk Yeol meet in Seoul?", api_name="/respond")  # queues are made on first use
    assert app._queue.event_queue_per_concurrency_id["summit-respond"].concurrency_limit == bot.settings.concurrency


def test_answer_streams_with_sources(client):
    job = client.submit(TRADE, api_name="/respond")
    reply = job.result(timeout=60)
    updates = job.outputs()
    assert "twentyfold" in reply.lower()
    assert "<summary>Sources</summary>" in reply
    assert "Paragraph 5" in reply
    # The cited sentence is highlighted inside its paragraph, and its marker matches the answer's.
    assert "<mark>He noted that trade volume has increased twentyfold" in reply
    assert "\\[1\\]" in reply.split(SOURCES_MARKER)[0] and "<sup>[1]</sup>" in reply
    assert "reestablishing relations in 1997." in reply  # the rest of the paragraph is shown too
    # Streaming: the answer text arrives before the message that adds the sources.
    assert len(updates) >= 2 and SOURCES_MARKER not in updates[0] and updates[-1] == reply


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("", "Please type a question about the documents."),
        ("   \n\t ", "Please type a question about the documents."),
        ("x" * 20_000, "That message is 20,000 characters long; questions are limited to 2,000."),
        ("y" * 200_000, "That message is 200,000 characters long; questions are limited to 2,000."),
    ],
)
def test_bad_input_gets_a_friendly_reply(client, message, expected):
    reply = client.predict(message, api_name="/respond")
    assert reply.startswith(expected)
    assert "Traceback" not in reply and "Error" not in reply


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "![pixel](http://127.0.0.1:9/p.png) [x](javascript:alert(1))",
    ],
)
def test_hostile_question_comes_back_inert(client, attack):
    reply = client.predict(attack, api_name="/respond")
    lowered = reply.lower()
    assert "<script" not in lowered and "<img" not in lowered
    assert "](" not in reply.replace("\\](", "")  # no live Markdown link or image syntax


def test_follow_up_uses_session_history(app):
    c = make_client(app.local_url)
    try:
        first = c.predict(FORUM, api_name="/respond")
        follow = c.predict("How many people attended it?", api_name="/respond")
    finally:
        c.close()
    assert "250" in first
    assert "250" in follow and "Paragraph 10" in follow


def test_refusal_and_correction_notes(client):
    refusal = client.predict("What is the exact date of the summit?", api_name="/respond")
    assert REFUSAL_NOTE in refusal
    correction = client.predict("Why did Hun Manet visit Tokyo?", api_name="/respond")
    assert CORRECTION_NOTE in correction and "Paragraph 11" in correction


def test_auth_guards_page_and_api(bot):
    served = launch(bot, port=free_port(), auth="u:p", prevent_thread_lock=True, quiet=True)
    try:
        url = served.local_url
        for path in ("config", "gradio_api/info", "gradio_api/openapi.json"):
            response = httpx.get(url + path, follow_redirects=False, timeout=10)
            assert response.status_code in (401, 302, 303, 307), (path, response.status_code)
        root = httpx.get(url, timeout=10)  # the login screen: a shell whose config holds no components
        assert '"auth_required":true' in root.text.replace(" ", "") and "Who did Yoon Suk Yeol meet" not in root.text
        with pytest.raises(ValueError):  # gradio_client's AuthenticationError is a ValueError
            make_client(url)
        with pytest.raises(ValueError):  # gradio_client's AuthenticationError is a ValueError
            make_client(url, auth=("u", "wrong"))
        c = make_client(url, auth=("u", "p"))
        try:
            assert "twentyfold" in c.predict(TRADE, api_name="/respond").lower()
        finally:
            c.close()
    finally:
        served.close()


# -- the page's functions, called directly ---------------------------------------------------------------


@pytest.fixture(scope="module")
def page(app) -> ChatPage:
    return app.summit_page


def browser_history(question: str, reply: str) -> list[dict]:
    """History in the shape Gradio 6 hands over after a browser round trip."""
    return [
        {"role": "user", "content": [{"type": "text", "text": question}], "metadata": None, "options": None},
        {"role": "assistant", "content": [{"type": "text", "text": reply}], "metadata": None, "options": None},
    ]


def test_follow_up_with_browser_shaped_history(page):
    reply = list(page.respond(FORUM, []))[-1]
    assert plain_history(browser_history(FORUM, reply))[0] == {"role": "user", "content": FORUM}
    assert SOURCES_MARKER not in plain_history(browser_history(FORUM, reply))[1]["content"]
    follow = list(page.respond("How many people attended it?", browser_history(FORUM, reply)))[-1]
    assert "250" in follow


def test_a_follow_up_reads_the_paragraph_shown_as_the_previous_answers_source(page):
    question = "How much has trade between the two countries grown?"
    reply = list(page.respond(question, []))[-1]
    assert "Paragraph 5" in reply
    follow = list(page.respond("When was that?", browser_history(question, reply)))[-1]
    assert follow.startswith(escape_markdown("1997. “")) and "Paragraph 5" in follow and REFUSAL_NOTE not in follow


def test_feedback_appends_one_json_line(bot, page):
    reply = list(page.respond(TRADE, []))[-1]
    history = browser_history(TRADE, reply)
    before = len(feedback_lines(bot))
    page.feedback(history, gr.LikeData(None, {"index": 1, "value": history[1]["content"], "liked": True}))
    page.feedback(history, gr.LikeData(None, {"index": 1, "value": history[1]["content"], "liked": False}))
    lines = feedback_lines(bot)
    assert len(lines) == before + 2
    up, down = lines[-2:]
    assert (up["vote"], down["vote"]) == ("up", "down")
    assert up["question"] == TRADE
    assert "twentyfold" in up["answer"].lower() and "<" not in up["answer"]
    assert up["kind"] == "answer"
    assert up["citations"][0]["paragraph"] == 5 and up["citations"][0]["marker"] == 1
    assert "timestamp" in up


def test_feedback_write_failure_does_not_raise(bot, tmp_path, caplog):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir should be")
    broken = copy.copy(bot)
    broken.settings = bot.settings.with_overrides(data_dir=blocker)
    page = ChatPage(broken)
    history = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    with caplog.at_level(logging.ERROR, logger="assistant.ui"):
        page.feedback(history, gr.LikeData(None, {"index": 1, "value": ["a"], "liked": True}))
    assert "could not record feedback" in caplog.text


def test_unexpected_error_is_logged_not_shown(bot, caplog):
    broken = copy.copy(bot)
    broken.chain = None  # any failure inside the pipeline
    with caplog.at_level(logging.ERROR, logger="assistant.ui"):
        replies = list(ChatPage(broken).respond(TRADE, []))
    assert replies == [ERROR_REPLY]
    assert "Traceback" in caplog.text or caplog.records[-1].exc_info


def test_sources_escape_corpus_text(bot):
    hostile = "<script>alert(1)</script> & ![x](http://e/x.png)"
    citation = Citation(1, hostile, 3, "c", 0.9, "no-such-doc", hostile, 0, 0, len(hostile))
    answer = Answer("q", f"{hostile} [1]", [citation], "correction", 0.9, notes=[hostile])
    html_out = render_answer(bot, answer)
    assert "<script" not in html_out and "](" not in html_out.replace("\\](", "")
    assert "&lt;script&gt;" in html_out and CORRECTION_NOTE in html_out


@pytest.mark.parametrize(
    "text", ["<b>x</b> & &amp; ' \"", "# h\n- item\n1997. x\n  + y", "a\\b `c` *d* _e_ [1] ~f~ |g|", ""]
)
def test_escape_markdown_round_trips(text):
    assert unescape_markdown(escape_markdown(text)) == text
    assert "<" not in escape_markdown(text)


# -- the page's title and description come from the corpus -----------------------------------------------

FISHERIES_TITLE = "Tonle Sap fishers report a record dry-season catch"
FISHERIES = (
    f"{FISHERIES_TITLE}\n"
    "Fishers on the Tonle Sap lake landed 41,000 tonnes of fish between November and May, the fisheries office said.\n"
    "The office credited a longer flood pulse, which kept the flooded forest under water for six more weeks.\n"
    "Prices at the Siem Reap market fell by a fifth as the catch came in.\n"
)
ELSEWHERE = ("summit", "korea", "cambodia", "seoul", "yoon", "hun manet")


def shown_text(config: dict) -> str:
    """Everything the served page shows as words: tab title, headings, description, placeholders, examples."""
    texts = [config["title"]]
    for component in config["components"]:
        props = component.get("props", {})
        texts += [
            str(props.get(key) or "")
            for key in ("value", "placeholder", "label")
            if component["type"] in ("markdown", "textbox", "chatbot")
        ]
        texts += [str(example) for example in props.get("examples") or []]
    return "\n".join(texts)


def test_page_names_a_users_own_document_not_the_summit(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "fisheries.txt").write_text(FISHERIES, encoding="utf-8")
    other = Assistant(Settings(data_dir=tmp_path / "data", corpus_dir=corpus))
    served = launch(other, port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        config = httpx.get(served.local_url + "config", timeout=10).json()
    finally:
        served.close()
    shown = shown_text(config)
    assert config["title"] == FISHERIES_TITLE  # the first line serves as the title of a file without one
    heading, description = [c["props"]["value"] for c in config["components"] if c["type"] == "markdown"][:2]
    assert FISHERIES_TITLE in heading and "Answers come only from this document" in description
    assert not [word for word in ELSEWHERE if word in shown.lower()], shown


def test_default_page_is_titled_by_the_articles_sidecar(app, bot):
    config = httpx.get(app.local_url + "config", timeout=10).json()
    assert (
        config["title"]
        == bot.corpus.documents[0].title
        == "South Korea and Cambodia elevate ties to strategic partnership at Seoul summit"
    )
    assert "Who did Yoon Suk Yeol meet in Seoul?" in shown_text(config)


def test_several_documents_get_a_neutral_title_naming_them(tmp_path):
    docs = [
        parse_document(
            f"doc-{i}", f"# Report number {i}\n\nThe text of report {i} says little.\n", tmp_path / f"doc-{i}.md"
        )
        for i in range(5)
    ]
    text = page_text(Corpus(docs))
    assert text.title == "Questions on 5 documents"
    assert "“Report number 0”; “Report number 1”; “Report number 2” and 2 more" in text.description
    assert "summit" not in (text.title + text.description + " ".join(text.examples)).lower()


def test_a_title_with_markup_is_shown_as_text(bot, tmp_path):
    hostile = "<img src=x onerror=alert(1)> & *bold*"
    doc = parse_document("x", "Some text.\n", tmp_path / "x.txt", title=hostile)
    demo = ChatPage(SimpleNamespace(corpus=Corpus([doc]), settings=bot.settings)).build()
    shown = shown_text(demo.get_config_file())
    assert demo.title == hostile  # the tab title is set as text by the browser
    assert "<img" not in shown.replace(hostile, "", 1) and "&lt;img" in shown


# -- an LLM answer on the served page ----------------------------------------------------------------


def test_llm_answer_streams_into_the_page_a_verified_sentence_at_a_time(bot):
    from tests.test_llm import LIVE_FIRST, LIVE_Q, _unsupported_in_answer

    pytest.importorskip("llama_cpp", reason="pip install '.[llm]'")
    llm_bot = Assistant(bot.settings.with_overrides(llm="llamacpp:smollm2", llm_timeout=120, llm_max_tokens=128))
    served = launch(llm_bot, port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        job = make_client(served.local_url).submit(LIVE_Q, api_name="/respond")
        reply = job.result(timeout=300)
        updates = job.outputs()
    finally:
        served.close()
    answer_text = unescape_markdown(reply.split(SOURCES_MARKER)[0]).strip()
    streamed = [unescape_markdown(u) for u in updates[:-1]]
    # Sentence by sentence (SmolLM2 lists article sentences), before the sources arrive.
    assert len(streamed) >= 2 and all(SOURCES_MARKER not in u for u in updates[:-1])
    assert streamed[0].startswith(LIVE_FIRST)
    assert all(answer_text.startswith(u) for u in streamed) and REFUSAL_NOTE not in reply
    assert not any(_unsupported_in_answer(llm_bot, u) for u in streamed)


def test_building_the_page_leaves_no_coroutine_unawaited(bot):
    # `make chat` printed "coroutine … was never awaited" when the placeholder fix called Gradio's async steps.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ChatPage(bot).build()
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]
