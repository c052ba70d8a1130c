"""The Gradio chat page: a thin caller of ``Assistant`` (``build_app`` / ``launch``).

Every string that reaches the browser from the user or the corpus is escaped here first:

* the assistant's reply is Markdown whose text parts go through ``escape_markdown`` (HTML entities for
  ``& < > " '`` plus backslash escapes for Markdown syntax), and whose Sources block is HTML built from
  ``escape_html``-d pieces (entities for both HTML and Markdown syntax);
* the user's own message is shown through the same escaping (``Chatbot.postprocess`` is wrapped, and
  ``preprocess`` reverses it so the history handed back to Python is the text the user typed), so a typed
  ``<img onerror=…>`` or ``![x](http://…)`` is displayed as text and never loads;
* Gradio's own sanitiser stays on (``sanitize_html=True``) and a Content-Security-Policy ``<meta>`` limits
  images to the page's own origin, as second and third lines of defence.

The chat endpoint is ``/respond`` (``gradio_client.Client(url).predict(message, api_name="/respond")``);
``/answer`` answers one question as ``Answer.to_dict()`` for ``assistant ask`` (``remote.py``).
"""

from __future__ import annotations

import functools
import html
import inspect
import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from . import page_bounds, remote
from .answer import Answer, Citation
from .corpus import Corpus, Document
from .errors import QuestionError

if TYPE_CHECKING:  # the engine loads after the page is up (``PendingAssistant``)
    from .core import Assistant
    from .settings import Settings

log = logging.getLogger(__name__)

# The bundled article's example questions; a page over other documents gets a neutral one instead.
BUNDLED_DOC_ID = "korea-cambodia-summit"
EXAMPLES = [
    "What is this article about?",
    "Who did Yoon Suk Yeol meet in Seoul?",
    "How much has trade grown since 1997?",
    "What did the two countries agree on defense?",
    "How many people attended the business forum?",
    "What is the exact date of the summit?",
    "Why was the summit held in Phnom Penh?",
]
NEUTRAL_EXAMPLES = ["What is this article about?"]
HEADLINE_CHARS = 100  # a first line this short may serve as the title of a document without one
TITLES_IN_DESCRIPTION = 3  # with more documents, the description names this many and counts the rest
ERROR_REPLY = "Something went wrong answering that; please try again."
REFUSAL_NOTE = "The article does not answer this."
CORRECTION_NOTE = "Premise corrected."
FEEDBACK_THANKS = "Thanks for the feedback."
# Messages longer than this are refused before any per-character cleaning (a cheap guard against huge posts).
HARD_LIMIT_FACTOR = 25

# Everything after this marker in an assistant message is the HTML sources block (not part of the answer).
SOURCES_MARKER = '<div class="summit-meta">'
RESPOND_QUEUE = "summit-respond"  # the one concurrency group every answering event shares


@dataclass(frozen=True)
class PageText:
    """The words on the page that depend on the corpus: a user who points the assistant at their own
    documents sees their titles, not the bundled summit article's."""

    title: str
    description: str
    examples: list[str]
    placeholder: str
    chat_placeholder: str
    auth_message: str


def document_title(doc: Document) -> str:
    """A document's title for the page: its sidecar title or Markdown heading; failing those, its first line
    when that is short enough to be a headline; else the name made from its file name."""
    if doc.title != doc.doc_id.replace("-", " ").title():
        return doc.title
    first = doc.text.strip().split("\n", 1)[0].strip()
    return first if 0 < len(first) <= HEADLINE_CHARS else doc.title


def page_text(corpus: Corpus) -> PageText:
    """Title, description and examples built from the loaded documents: one document's title as the
    heading; for several, a count as the heading and the first few titles in the description. The
    bundled article's example questions only when that article is loaded."""
    docs = corpus.documents
    titles = list(dict.fromkeys(document_title(d) for d in docs))
    if len(docs) == 1:
        title = titles[0]
        shown = ""  # the heading above already names it
        subject = "this document"
    else:
        title = f"Questions on {len(docs)} documents"
        shown = "Ask about " + "; ".join(f"“{t}”" for t in titles[:TITLES_IN_DESCRIPTION])
        more = len(titles) - TITLES_IN_DESCRIPTION
        shown += (f" and {more} more" if more > 0 else "") + ". "
        subject = "these documents"
    return PageText(
        title=title,
        description=f"{shown}Answers come only from {subject}, with the sentences they rely on cited.",
        examples=EXAMPLES if any(d.doc_id == BUNDLED_DOC_ID for d in docs) else NEUTRAL_EXAMPLES,
        placeholder=f"Ask about {subject}…",
        chat_placeholder=f"Ask a question about {subject}, or pick an example below.",
        auth_message=f"Sign in to ask about {subject}.",
    )


CSS = """
.summit-meta { margin-top: 0.75em; font-size: 0.95em; }
.summit-note { display: inline-block; margin: 0 0 0.5em 0; padding: 0.15em 0.6em; border-radius: 0.4em;
  font-weight: 600; }
.summit-note-refusal { background: #fde8e8; color: #8a1c1c; border: 1px solid #f5b5b5; }
.summit-note-correction { background: #fff4dc; color: #7a4b00; border: 1px solid #f2cf85; }
.summit-notes { margin: 0 0 0.4em 0; color: var(--body-text-color-subdued); font-size: 0.9em; }
.summit-sources { border: 1px solid var(--border-color-primary); border-radius: 0.5em; padding: 0.4em 0.8em;
  background: var(--background-fill-secondary); }
.summit-sources > summary { cursor: pointer; font-weight: 600; }
.summit-source { margin: 0.6em 0 0.2em 0; }
.summit-source-head { font-size: 0.9em; color: var(--body-text-color); margin-bottom: 0.2em; }
.summit-source-head cite { color: var(--body-text-color-subdued); }
.summit-source-text { margin: 0; padding: 0.1em 0 0.1em 0.7em; border-left: 3px solid var(--border-color-accent);
  line-height: 1.5; }
.summit-source-text mark { background: #ffe66d; color: #1a1a1a; padding: 0 0.15em; border-radius: 0.2em; }
.summit-source-text sup { font-weight: 600; }
.examples .example { border: 1px solid var(--border-color-primary); border-radius: 0.6em;
  background: var(--background-fill-secondary); }
.examples .example:hover { border-color: var(--border-color-accent); }
"""

# Images only from the page's own origin: a Markdown/HTML image that slipped through every escape could
# still not reach anywhere else.
HEAD = """<meta http-equiv="Content-Security-Policy" content="img-src 'self' data: blob:">"""

# ---------------------------------------------------------------------------------------------------------
# Escaping

_MD_SPECIAL = re.compile(r"([\\`*_\[\]~|])")
_LINE_START = re.compile(r"^([ \t]*)([#+=-]|\d{1,9}(?=[.)]))", re.M)
_BACKSLASHED = re.compile(r"\\(.)", re.S)


def escape_markdown(text: str) -> str:
    """``text`` as Markdown that renders literally: no HTML, links, images, emphasis, code or lists.

    HTML-escapes ``& < > " '`` and backslash-escapes the Markdown syntax characters; ``unescape_markdown``
    is its exact inverse.
    """
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # Block syntax that only counts at the start of a line: headings, list items, setext underlines.
    text = _LINE_START.sub(
        lambda m: m.group(1) + (m.group(2) + "\\" if m.group(2)[0].isdigit() else "\\" + m.group(2)), text
    )
    return html.escape(text, quote=True)


_MD_ENTITIES = {ord(ch): f"&#{ord(ch)};" for ch in "\\`*_[]~|!$"}


def escape_html(text: str) -> str:
    """``text`` for an HTML text node inside a Markdown message: escaped, on one line, Markdown-inert.

    Our HTML blocks hold no blank line, so Markdown leaves them alone; the numeric entities for Markdown's
    syntax characters keep the text literal even if that ever stopped being true.
    """
    return html.escape(re.sub(r"\s+", " ", str(text)), quote=True).translate(_MD_ENTITIES)


def unescape_markdown(text: str) -> str:
    """Inverse of ``escape_markdown`` (every backslash in its output escapes the character after it)."""
    return _BACKSLASHED.sub(r"\1", html.unescape(text))


def _message_text(content: Any) -> str:
    """The text of a message's content in any of Gradio's shapes (str, text dict, list of those)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return content.get("text", "") if content.get("type", "text") == "text" else ""
    if isinstance(content, (list, tuple)):
        return "".join(_message_text(part) for part in content)
    return ""


def _map_user_text(messages: Any, fn: Callable[[str], str]) -> Any:
    """A copy of a messages-format list with ``fn`` applied to the text of every *user* message."""
    if not isinstance(messages, list):
        return messages
    out = []
    for message in messages:
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                message = {**message, "content": fn(content)}
            elif isinstance(content, list):
                parts = []
                for part in content:
                    if isinstance(part, str):
                        part = fn(part)
                    elif isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                        part = {**part, "text": fn(part["text"])}
                    parts.append(part)
                message = {**message, "content": parts}
        out.append(message)
    return out


def _make_safe_chatbot(chatbot: gr.Chatbot) -> gr.Chatbot:
    """Show user messages as literal text: escape them on the way to the browser, unescape on the way back."""
    postprocess, preprocess = chatbot.postprocess, chatbot.preprocess

    def safe_postprocess(value: Any) -> Any:  # Gradio's chat value, in any of its message shapes
        return postprocess(_map_user_text(value, escape_markdown))

    def safe_preprocess(payload: Any) -> Any:
        return _map_user_text(preprocess(payload), unescape_markdown)

    chatbot.postprocess = safe_postprocess  # type: ignore[method-assign]
    chatbot.preprocess = safe_preprocess  # type: ignore[method-assign]
    return chatbot


def plain_history(history: Any) -> list[dict[str, Any]]:
    """Gradio's history as ``[{"role", "content": str}]``, minus the Sources blocks of assistant replies.

    Gradio 6 hands the chat function messages whose ``content`` is a list of ``{"type": "text", ...}``
    parts (after a browser round trip) or a plain string (API calls); the assistant reads only strings.
    """
    plain = []
    for message in history or []:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            continue
        text = _message_text(message.get("content"))
        if message["role"] == "assistant":
            text = unescape_markdown(text.split(SOURCES_MARKER, 1)[0]).strip()
        if text:
            plain.append({"role": message["role"], "content": text})
    return plain


# ---------------------------------------------------------------------------------------------------------
# Rendering an Answer


def _highlighted_paragraph(bot: Assistant, doc_id: str, paragraph: int, cited: list[Citation]) -> str:
    """The paragraph's text, HTML-escaped, with each cited sentence in ``<mark>`` followed by its marker."""
    spans = sorted(((c.start, c.end, c.marker, c.text) for c in cited), key=lambda s: (s[0], s[2]))
    try:
        doc = bot.corpus.document(doc_id)
        sentences = [s for s in doc.sentences if s.paragraph == paragraph]
        p_start, p_end = sentences[0].start, sentences[-1].end
        if not all(p_start <= start < end <= p_end and doc.text[start:end] == text for start, end, _, text in spans):
            raise ValueError("citation offsets do not match the corpus")
    except (KeyError, IndexError, ValueError, AttributeError):
        log.warning("cannot place citations %s in %s paragraph %s", [c.marker for c in cited], doc_id, paragraph)
        return " ".join(f"<mark>{escape_html(text)}</mark><sup>[{marker}]</sup>" for _, _, marker, text in spans)
    parts, pos = [], p_start
    for start, end, marker, _ in spans:
        if start < pos:  # two markers on the same sentence: tag it once more, highlight once
            parts.append(f"<sup>[{marker}]</sup>")
            continue
        parts.append(escape_html(doc.text[pos:start]))
        parts.append(f"<mark>{escape_html(doc.text[start:end])}</mark><sup>[{marker}]</sup>")
        pos = end
    parts.append(escape_html(doc.text[pos:p_end]))
    return "".join(parts).strip()


def render_sources(bot: Assistant, answer: Answer) -> str:
    """The HTML block under an answer: note line, then each cited paragraph with its sentence highlighted."""
    pieces = [SOURCES_MARKER]
    if answer.kind == "refusal":
        pieces.append(f'<div class="summit-note summit-note-refusal">{escape_html(REFUSAL_NOTE)}</div>')
    elif answer.kind == "correction":
        pieces.append(f'<div class="summit-note summit-note-correction">{escape_html(CORRECTION_NOTE)}</div>')
    for note in answer.notes:
        pieces.append(f'<div class="summit-notes">{escape_html(note)}</div>')
    if answer.citations:
        groups: dict[tuple[str, int], list[Citation]] = {}
        for citation in sorted(answer.citations, key=lambda c: c.marker):
            groups.setdefault((citation.doc_id, citation.paragraph), []).append(citation)
        label = "Closest passage in the article" if answer.refused else "Sources"
        pieces.append(f'<details class="summit-sources" open><summary>{label}</summary>')
        for (doc_id, paragraph), cited in groups.items():
            markers = " ".join(f"[{c.marker}]" for c in cited)
            title = escape_html(cited[0].title or doc_id)
            pieces.append(
                f'<div class="summit-source"><div class="summit-source-head"><strong>{markers}</strong> '
                f"<strong>Paragraph {int(paragraph)}</strong> · <cite>{title}</cite></div>"
                f'<p class="summit-source-text">{_highlighted_paragraph(bot, doc_id, paragraph, cited)}</p></div>'
            )
        pieces.append("</details>")
    pieces.append("</div>")
    return "".join(pieces)


def render_answer(bot: Assistant, answer: Answer) -> str:
    """The full assistant message: the escaped answer text, a blank line, then the sources HTML block."""
    return f"{escape_markdown(answer.text)}\n\n{render_sources(bot, answer)}"


# ---------------------------------------------------------------------------------------------------------
# The page


class _ChatInterface(gr.ChatInterface):
    """``gr.ChatInterface`` whose input keeps its placeholder. Gradio 6 blanks it while an answer is written
    (on submit and on retry) and never puts it back, so after the first question the box gave no hint."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Retry blanks it in an inline step of its event chain: the same update, less the placeholder.
        for block_fn in self.fns.values():
            if block_fn.outputs == [self.textbox] and not block_fn.inputs and block_fn.fn is not None:
                shown = block_fn.fn() if block_fn.fn.__name__ == "<lambda>" else None
                if inspect.iscoroutine(shown):  # an async step, not the inline update: closed unrun, unwarned
                    shown.close()
                    continue
                if isinstance(shown, dict) and shown.get("placeholder") == "":
                    kept = {k: v for k, v in shown.items() if k not in ("__type__", "placeholder")}
                    block_fn.fn = functools.partial(gr.update, **kept)

    def _clear_and_save_textbox(self, message: Any) -> tuple[Any, Any]:
        return gr.update(value="", interactive=False), message


class ChatPage:
    """The chat function, the feedback handler and the Blocks that wire them to one ``Assistant``."""

    def __init__(self, bot: Assistant, remember: int = 1000) -> None:
        self.bot = bot
        self._answers: OrderedDict[str, Answer] = OrderedDict()  # rendered reply -> Answer, for feedback
        self._remember = remember
        self._lock = threading.Lock()

    # -- chat ----------------------------------------------------------------------------------------
    def respond(self, message: Any, history: list[dict[str, Any]]) -> Iterator[str]:
        """Answer a question from the loaded documents alone, with cited sources.

        Streams the answer text, then the whole reply with a Sources block (HTML) appended. ``message`` is
        whatever the browser sent (``Any``): anything but text is refused as a question.
        """
        try:
            limit = self.bot.settings.max_question_chars
            if isinstance(message, str) and len(message) > HARD_LIMIT_FACTOR * limit:
                raise QuestionError(
                    f"That message is {len(message):,} characters long; questions are limited to {limit:,}. "
                    "Please ask something shorter."
                )
            answer = None
            for item in self.bot.stream(message, plain_history(history)):
                if isinstance(item, Answer):
                    answer = item
                else:
                    yield escape_markdown(item)
            if answer is None:
                raise RuntimeError("Assistant.stream ended without an Answer")
            reply = render_answer(self.bot, answer)
            self._store(reply, answer)
            yield reply
        except QuestionError as error:
            yield escape_markdown(str(error))
        except Exception:
            log.exception("answering %s failed", repr(message)[:200])
            yield escape_markdown(ERROR_REPLY)

    def _store(self, reply: str, answer: Answer) -> None:
        key = inspect.cleandoc(reply)  # what Chatbot.postprocess does to it, so the browser's copy matches
        with self._lock:
            self._answers[key] = answer
            self._answers.move_to_end(key)
            while len(self._answers) > self._remember:
                self._answers.popitem(last=False)

    def _lookup(self, reply: str) -> Answer | None:
        with self._lock:
            return self._answers.get(inspect.cleandoc(reply))

    # -- feedback ------------------------------------------------------------------------------------
    def feedback(self, history: Any, vote: gr.LikeData) -> None:
        """Append one JSON line per thumbs-up/down to ``settings.feedback_file``; never raises."""
        try:
            record = self.feedback_record(history, vote.index, vote.liked)
            write_feedback(self.bot.settings.feedback_file, record)
        except Exception:
            log.exception("could not record feedback")
            return
        gr.Info(FEEDBACK_THANKS, duration=3)

    def feedback_record(
        self, history: Any, index: int | tuple[int, ...] | list[int], liked: bool | str | None
    ) -> dict[str, Any]:
        """The JSON-able record for a vote on the message at ``index`` of ``history``."""
        if isinstance(index, (tuple, list)):
            index = index[0]
        history = history or []
        reply = _message_text(history[index].get("content")) if 0 <= index < len(history) else ""
        question = next(
            (
                _message_text(m.get("content"))
                for m in reversed(history[:index])
                if isinstance(m, dict) and m.get("role") == "user" and _message_text(m.get("content")).strip()
            ),
            "",
        )
        # The browser sends True (thumbs up), False (down), "" (vote taken back) or a custom option string.
        if liked is True or liked == "Like":
            vote = "up"
        elif liked is False or liked == "Dislike":
            vote = "down"
        else:
            vote = str(liked) if liked else "withdrawn"
        answer = self._lookup(reply) if reply else None
        return {
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "vote": vote,
            "question": question,
            "answer": answer.text if answer else unescape_markdown(reply.split(SOURCES_MARKER, 1)[0]).strip(),
            "kind": answer.kind if answer else None,
            "citations": [
                {"marker": c.marker, "paragraph": c.paragraph, "text": c.text, "doc_id": c.doc_id, "title": c.title}
                for c in answer.citations
            ]
            if answer
            else None,
            "message_index": index,
        }

    def answer_record(self, question: str) -> dict[str, Any]:
        """The ``/answer`` API for ``assistant ask`` (``remote.ask_page``): one question, no history, the
        answer as ``Answer.to_dict()`` (or the error a question gets), with the settings it was answered with."""
        record: dict[str, Any] = {
            "service": remote.SERVICE,
            "settings": remote.signature(self.bot.settings),
            "several": self.bot.corpus.several_documents,
        }
        try:
            record["answer"] = self.bot.ask(question).to_dict()
        except QuestionError as error:
            record["error"] = str(error)
        except Exception:  # the asker answers locally instead; the traceback stays in this log
            log.exception("answering %r for the /answer API failed", question[:200])
        return record

    # -- layout --------------------------------------------------------------------------------------
    def build(self) -> gr.Blocks:
        text = page_text(self.bot.corpus)
        chatbot = _make_safe_chatbot(
            gr.Chatbot(
                label="Assistant",
                show_label=False,  # a floating label would cover the first line of a long answer scrolled under it
                scale=1,
                height="65vh",
                min_height=360,
                sanitize_html=True,
                render_markdown=True,
                allow_tags=False,
                latex_delimiters=[],
                feedback_options=("Like", "Dislike"),
                buttons=["copy"],
                placeholder=text.chat_placeholder,
            )
        )
        textbox = gr.Textbox(
            placeholder=text.placeholder,
            show_label=False,
            autofocus=True,
            submit_btn=True,
            stop_btn=True,
        )
        demo = _ChatInterface(
            self.respond,
            chatbot=chatbot,
            textbox=textbox,
            title=escape_html(text.title),  # titles come from documents: shown as text, never as markup
            description=escape_markdown(text.description),
            examples=text.examples,
            cache_examples=False,
            run_examples_on_click=True,
            flagging_mode="never",  # votes go through chatbot.like below, not Gradio's CSV flagging
            analytics_enabled=False,
            api_name="respond",
            concurrency_limit="default",  # queue(default_concurrency_limit=settings.concurrency)
            save_history=False,
            fill_height=True,
        )
        demo.title = text.title  # the browser tab's title is set as text, so it keeps its own characters
        with demo:
            chatbot.like(self.feedback, [chatbot], None, api_visibility="private")
            gr.api(  # type: ignore[attr-defined]  # gradio exports it lazily
                self.answer_record, api_name=remote.API, api_visibility="undocumented"
            )
        # ChatInterface gives the /respond API and the page's own submit/example events separate queues, each
        # allowed settings.concurrency at once; share one so the limit holds for the process.
        for block_fn in demo.fns.values():
            if block_fn.name in ("respond", "_submit_fn", "_examples_stream_fn"):
                block_fn.concurrency_id = RESPOND_QUEUE
        demo.queue(default_concurrency_limit=self.bot.settings.concurrency)
        page_bounds.bound_queue(demo._queue)  # every API call is a session: keep the queue's records flat
        demo.summit_page = self  # type: ignore[attr-defined]  # tests and callers reach respond/feedback here
        return demo


class PendingAssistant:
    """Stands in for the ``Assistant`` while it loads after the page is up (``assistant chat``): the page is
    built from the corpus and settings, which are there at once; any other use waits for ``ready(bot)``.
    A question asked in the first second is answered a little later, not refused."""

    def __init__(self, settings: Settings, corpus: Corpus) -> None:
        self.settings = settings
        self.corpus = corpus
        self._loaded = threading.Event()
        self._bot: Assistant | None = None

    def ready(self, bot: Assistant) -> None:
        self._bot, self.corpus = bot, bot.corpus
        self._loaded.set()

    def __getattr__(self, name: str) -> Any:
        self._loaded.wait()
        return getattr(self._bot, name)


_FEEDBACK_LOCK = threading.Lock()


def write_feedback(path: Path, record: dict[str, Any]) -> None:
    """Append ``record`` as one JSON line (one ``write`` call, so concurrent votes don't interleave)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _FEEDBACK_LOCK, open(path, "a", encoding="utf-8") as handle:
        handle.write(line)


def build_app(bot: Assistant) -> gr.Blocks:
    """The chat page for ``bot`` (not launched). Use ``launch`` to serve it with the page's CSS and CSP."""
    return ChatPage(bot).build()


def _parse_auth(auth: str | tuple[str, str] | None) -> tuple[str, str] | None:
    if auth is None or auth == "":
        return None
    if isinstance(auth, tuple):
        return auth
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ValueError("auth must look like user:password")
    return user, password


def launch(
    bot: Assistant,
    host: str | None = None,
    port: int | None = None,
    share: bool | None = None,
    auth: str | tuple[str, str] | None = None,
    prevent_thread_lock: bool = False,
    **launch_kwargs: Any,
) -> gr.Blocks:
    """Serve the chat page; defaults come from ``bot.settings`` (127.0.0.1:7860, no share link, no auth).

    Returns the launched app (``app.local_url``; ``app.close()`` stops it). Extra keyword arguments go to
    ``gr.Blocks.launch``.
    """
    settings = bot.settings
    demo = build_app(bot)
    options: dict[str, Any] = {
        "server_name": host or settings.host,
        "server_port": port if port is not None else settings.port,
        "share": bool(settings.share if share is None else share),
        "auth": _parse_auth(auth if auth is not None else settings.auth),
        "prevent_thread_lock": prevent_thread_lock,
        "show_error": False,  # tracebacks stay in the server log
        "css": CSS,
        "head": HEAD,
        "theme": gr.themes.Soft(  # system fonts: the page fetches nothing from outside
            font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
        ),
        "footer_links": ["api", "settings"],
        "run_history": False,  # don't keep questions in the browser's storage
        "enable_monitoring": False,
        "mcp_server": False,
        "ssr_mode": False,
        "pwa": False,
        "max_file_size": "1mb",  # the page takes no uploads
        "state_session_capacity": page_bounds.SESSIONS_KEPT,  # ~40 KB each; Gradio's default 10,000 is ~400 MB
        "auth_message": page_text(bot.corpus).auth_message if auth or settings.auth else None,
    }
    options.update(launch_kwargs)
    demo.launch(**options)
    return demo
