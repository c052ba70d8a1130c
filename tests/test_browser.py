"""The chat page in a real headless Chromium: examples, follow-ups, sources, feedback and XSS attempts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from assistant.ui import CORRECTION_NOTE, REFUSAL_NOTE, page_text

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ANSWER_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        pytest.skip(f"playwright is not importable: {error}")
    try:
        manager = sync_playwright().start()
    except Exception as error:  # the bundled node driver failed to start
        pytest.skip(f"playwright could not start its driver: {error}")
    try:
        browser = manager.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    except Exception as error:
        manager.stop()
        pytest.skip(f"playwright could not start {CHROMIUM}: {error}")
    yield browser
    browser.close()
    manager.stop()


@pytest.fixture
def page(chromium, app):
    context = chromium.new_context(viewport={"width": 1280, "height": 1100})
    tab = context.new_page()
    tab.requested = []  # every URL the page asks for
    tab.on("request", lambda request: tab.requested.append(request.url))
    tab.goto(app.local_url)
    tab.wait_for_selector("textarea", timeout=ANSWER_TIMEOUT_MS)
    yield tab
    context.close()


def wait_for_replies(page, count: int) -> None:
    """Until ``count`` bot messages exist and the last one has finished (its Sources/notes block or an error)."""
    page.wait_for_function(
        """n => {
            const bots = document.querySelectorAll('[data-testid="bot"]');
            if (bots.length < n) return false;
            const last = bots[bots.length - 1];
            return !!last.querySelector('.summit-meta') || /try again|Please/.test(last.innerText);
        }""",
        arg=count,
        timeout=ANSWER_TIMEOUT_MS,
    )
    # The event chain ends by re-enabling the textbox; then the page is idle.
    page.wait_for_selector("textarea:not([disabled])", timeout=ANSWER_TIMEOUT_MS)


def ask(page, text: str, count: int) -> str:
    box = page.locator("textarea").first
    box.fill(text)
    box.press("Enter")
    wait_for_replies(page, count)
    return page.locator('[data-testid="bot"]').nth(count - 1).inner_text()


def test_chat_in_browser(page, bot, tmp_path):
    # An example question runs on click; the answer shows its cited paragraph with the sentence marked.
    page.get_by_role("button", name="How many people attended the business forum?").click()
    wait_for_replies(page, 1)
    first = page.locator('[data-testid="bot"]').first
    assert "250" in first.inner_text()
    source = first.locator(".summit-source-text")
    assert source.is_visible()
    assert "Paragraph 10" in first.locator(".summit-source-head").inner_text()
    highlighted = source.locator("mark")
    assert highlighted.is_visible() and "attended by 250 participants" in highlighted.inner_text()
    background = highlighted.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")

    # A follow-up that only makes sense with the history.
    follow = ask(page, "How many people attended it?", 2)
    assert "250" in follow
    shot = tmp_path / "chat.png"
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")

    # Hostile input is shown as text and runs nothing, loads nothing.
    ask(page, '<img src=x onerror="window.__pwned=1">', 3)
    assert page.evaluate("window.__pwned") is None
    assert page.get_by_text('<img src=x onerror="window.__pwned=1">').first.is_visible()
    ask(page, "![probe](/summit-probe.png) <script>window.__pwned=2</script>", 4)
    assert page.evaluate("window.__pwned") is None
    assert not [url for url in page.requested if url.endswith("/x") or "summit-probe" in url]

    # Thumbs up on the first answer appends one feedback line.
    path = bot.settings.feedback_file
    before = path.read_text(encoding="utf-8").count("\n") if path.exists() else 0
    page.get_by_role("button", name="Like", exact=True).first.click()  # the first answer's thumbs-up
    deadline = time.monotonic() + 10
    while (
        time.monotonic() < deadline and (path.read_text(encoding="utf-8").count("\n") if path.exists() else 0) <= before
    ):
        time.sleep(0.1)
    record = json.loads(path.read_text(encoding="utf-8").splitlines()[-1])
    assert record["vote"] == "up"
    assert record["question"] == "How many people attended the business forum?"
    assert record["citations"][0]["paragraph"] == 10

    shot = tmp_path / "hostile.png"
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("What is the exact date of the summit?", "refusal"),
        ("Why was the summit held in Phnom Penh?", "premise"),
        ("Why did Hun Manet visit Tokyo?", "correction"),
    ],
)
def test_refusal_and_correction_notes_show(page, tmp_path, question, name):
    reply = ask(page, question, 1)
    note = page.locator(".summit-note").first
    assert note.is_visible() and note.inner_text() in (REFUSAL_NOTE, CORRECTION_NOTE)
    assert "Paragraph" in reply
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot} ({note.inner_text()})")


def test_the_input_keeps_its_placeholder(page, bot):
    placeholder = page_text(bot.corpus).placeholder
    box = page.locator("textarea").first
    assert box.get_attribute("placeholder") == placeholder
    ask(page, "How many people attended the business forum?", 1)
    assert box.get_attribute("placeholder") == placeholder  # Gradio blanks it while answering
    # A warm answer can come and go between two polls of the page, so the retry's busy state is recorded as
    # it happens: the box is disabled while the retry is answered.
    page.evaluate(RECORD_DISABLED_BOX)
    page.get_by_role("button", name="Retry").click()
    page.wait_for_function("window.boxWasDisabled", timeout=ANSWER_TIMEOUT_MS)
    wait_for_replies(page, 1)
    assert box.get_attribute("placeholder") == placeholder


RECORD_DISABLED_BOX = """() => {
    window.boxWasDisabled = false;
    new MutationObserver(changes => {
        if (changes.some(c => c.target.tagName === 'TEXTAREA' && c.target.disabled)) window.boxWasDisabled = true;
    }).observe(document.body, {attributes: true, attributeFilter: ['disabled'], subtree: true});
}"""


# The first text line of the first answer, scrolled to the top edge of the chat's scrolling box (the rest
# of the chat below it); then the chat's own elements outside that box drawn over the line (a floating label
# ignores the pointer, so hit-testing would not see it: rectangles are compared).
FIRST_LINE_AT_TOP = """() => {
    const answer = document.querySelector('[data-testid="bot"]');
    let box = answer.parentElement;
    while (box && !(box.scrollHeight > box.clientHeight && /auto|scroll/.test(getComputedStyle(box).overflowY))) {
        box = box.parentElement;
    }
    if (!box) return null;
    const walker = document.createTreeWalker(answer, NodeFilter.SHOW_TEXT, n => n.textContent.trim() ? 1 : 3);
    const range = document.createRange();
    range.selectNodeContents(walker.nextNode());
    box.scrollTop += range.getClientRects()[0].top - box.getBoundingClientRect().top;
    const line = range.getClientRects()[0];
    const over = [...box.parentElement.querySelectorAll('*')].filter(el => {
        if (box.contains(el) || getComputedStyle(el).visibility === 'hidden') return false;
        const r = el.getBoundingClientRect();
        return r.width && r.height && r.left < line.right && r.right > line.left && r.top < line.bottom
            && r.bottom > line.top;
    });
    return {line: range.toString().slice(0, 40), covered_by: over.map(el => el.outerHTML.slice(0, 120))};
}"""


def test_nothing_covers_the_first_line_of_an_answer_scrolled_to_the_top(page, tmp_path):
    ask(page, "What is this article about?", 1)
    ask(page, "What is this article about?", 2)  # two long answers: the chat scrolls
    seen = page.evaluate(FIRST_LINE_AT_TOP)
    assert seen is not None, "the chat should scroll with two long answers"
    shot = tmp_path / "scrolled.png"
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")
    assert seen["line"].startswith("The article") and seen["covered_by"] == [], seen
