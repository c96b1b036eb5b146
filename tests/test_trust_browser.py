"""In Chromium: the documents' words and the model's words look different, a checked sentence
shows the source words that state it, and the note about left-out sentences survives a restart.

The language model here is scripted (one sentence its source states, one it does not), so that
the page always has both kinds of text; the real model is held to the same checks in
``test_trust.py``. Everything else is real: embedder, FAISS, spaCy, SQLite, the server."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from browser import ask, browser_page, need_chromium, open_assistant, shot

from conftest import make_settings
from gptbuilder.backends.llm import ExtractiveFakeLLM, Message
from gptbuilder.personas.definition import make_draft
from gptbuilder.services import Services
from gptbuilder.ui.server import BackgroundServer

pytestmark = pytest.mark.slow

DOC = (
    "The museum opens at 10 a.m. from Tuesday to Sunday. It is closed on Mondays.\n\n"
    "Tickets cost 12 euros for adults. Children under 12 enter for free.\n"
)
QUESTION = "When does the museum open?"


class ScriptedLLM(ExtractiveFakeLLM):
    """Writes one sentence the document states and one it does not."""

    def stream_chat(
        self, messages: Sequence[Message], temperature: float, max_tokens: int
    ) -> Iterator[str]:
        yield "Adult tickets cost 12 euros [1]. "
        yield "The museum was founded in 1850 by the city of Norwich [1]."


def build(data, embedder) -> Services:
    return Services.build(make_settings(data, abstain=False), embedder=embedder, llm=ScriptedLLM)


def with_document(services: Services, tmp_path, name: str, filename: str, text: str):
    a = services.repo.create_assistant(make_draft(name))
    doc = tmp_path / filename
    doc.write_text(text, encoding="utf-8")
    services.library.add_file(a.id, doc, filename)
    return a


def test_quotes_and_model_words_look_different_and_notes_survive_a_restart(tmp_path, real_embedder):
    need_chromium()
    data = tmp_path / "data"
    services = build(data, real_embedder)
    with_document(services, tmp_path, "Museum", "museum.txt", DOC)
    try:
        with BackgroundServer(services) as server, browser_page(server.url) as (page, guard):
            open_assistant(page, server.url, "Museum")
            last = ask(page, QUESTION)
            quote = last.locator("blockquote").first
            assert "opens at 10 a.m." in quote.inner_text()
            claim = last.locator("p", has_text="Adult tickets cost 12 euros").first
            assert claim.count() and claim.locator("xpath=ancestor::blockquote").count() == 0
            style = "e => [getComputedStyle(e).fontFamily, getComputedStyle(e).borderLeftWidth]"
            assert quote.evaluate(style) != claim.evaluate(style), "styled apart"
            assert "founded in 1850" not in last.inner_text(), "the unsupported sentence"
            assert "was left out" in last.inner_text()
            marker = claim.locator("a[title^='Stated in the source']").first
            assert "euros" in marker.get_attribute("title")
            shot(page, "chat-checked")
            with page.context.expect_page() as opened:
                marker.click()
            passage = opened.value
            passage.wait_for_load_state()
            marked = passage.locator("mark#quote b").all_inner_texts()
            assert any(w.lower() in ("euros", "tickets", "adults") for w in marked), marked
            passage.close()
            assert guard.blocked == [], guard.blocked
    finally:
        services.close()

    services = build(data, real_embedder)  # the app started again on the same data folder
    try:
        with BackgroundServer(services) as server, browser_page(server.url) as (page, guard):
            open_assistant(page, server.url, "Museum")
            page.get_by_role("tab", name="Chat").click()
            last = page.locator("#chatbot .message").last
            last.get_by_text("Sources", exact=True).wait_for()
            assert "opens at 10 a.m." in last.locator("blockquote").first.inner_text()
            assert "was left out" in last.inner_text(), "the note is kept with the message"
            assert "founded in 1850" not in last.inner_text()
            assert guard.blocked == [], guard.blocked
    finally:
        services.close()


HOSTILE = (
    "The refund form is at 1https://evil.invalid/refunds/form8841 or _https://evil.invalid/b "
    "or xwww.evil.invalid/c or www.evil.invalid/d and you can write to claims@evil.invalid "
    "or HTTPS://EVIL.INVALID/e for the refund form.\n"
)


def test_no_link_like_text_of_a_document_becomes_a_link_that_leaves(tmp_path, real_embedder):
    """Every form Gradio's Markdown would autolink, in a quoted source sentence: none becomes
    a link to another host, and clicking every link of the answer sends nothing away."""
    need_chromium()
    services = build(tmp_path / "data", real_embedder)
    with_document(services, tmp_path, "Refunds", "refunds.txt", HOSTILE)
    try:
        with BackgroundServer(services) as server, browser_page(server.url) as (page, guard):
            open_assistant(page, server.url, "Refunds")
            last = ask(page, "Where is the refund form?")
            assert "evil.invalid/refunds/form8841" in last.inner_text()
            links = last.locator("a")
            hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
            assert hrefs and all(h.startswith("/gptb/") for h in hrefs), hrefs
            for i in range(links.count()):
                link = links.nth(i)
                if link.is_visible():
                    link.click(modifiers=["Control"])  # opens our own pages in new tabs
            for opened in page.context.pages:
                opened.wait_for_load_state()
            assert guard.blocked == [], guard.blocked
    finally:
        services.close()
