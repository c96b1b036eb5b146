"""Whole-document tasks in a real headless Chromium (issue 17), with a real shared PDF and the
fast fakes: summarise a document from the Knowledge tab (progress while it reads, key points
cited, which pages were read), list every year, a follow-up rewritten with the conversation
(shown on request), two documents compared, and a citation opened in its page. Every request
the page makes goes through the guard: nothing but the app is reached."""

from __future__ import annotations

import re

from browser import browser_page, need_chromium, open_assistant, shot

from gptbuilder.ui.handlers import Handlers
from gptbuilder.ui.server import BackgroundServer

PDF = "federal-register-2020-17221.pdf"  # 15 pages with text
OTHER = "pdflatex-4-pages.pdf"  # compared with it

# Set before a request is sent: remembers whether the chat ever showed a task's progress and
# the Stop button while the answer was written (a fast task may show them only briefly).
WATCH = """() => {
  window.__seen = {progress: false, stop: false};
  const look = () => {
    const chat = document.querySelector('#chatbot');
    const working = /⏳\\s*(Summarising|Listing)…/;
    if (chat && working.test(chat.innerText)) window.__seen.progress = true;
    const stop = document.querySelector('#stop-answer');
    if (stop && stop.offsetParent !== null) window.__seen.stop = true;
  };
  new MutationObserver(look).observe(document.body,
    {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def last_message(page):  # type: ignore[no-untyped-def]
    return page.locator("#chatbot .message").last


def send(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#question textarea", text)
    page.click("#send")


def test_summarise_list_follow_up_and_citation(fake_services, pdf_dir):
    need_chromium()
    h = Handlers(fake_services)
    h.save_assistant(None, "Register reader", "", "", "", "", "", "", 0.0)
    with BackgroundServer(fake_services) as server, browser_page(server.url) as (page, guard):
        open_assistant(page, server.url, "Register reader")
        # Picking an assistant in the gallery shows its chat: wait for that before moving on.
        page.get_by_role("tab", name="Chat", selected=True).wait_for()
        page.locator(".gptb-title").get_by_text("Register reader").wait_for()

        # Knowledge: add the PDF, choose it, Summarise: the chat shows and reads it.
        page.get_by_role("tab", name="Knowledge").click()
        page.set_input_files("#upload input[type=file]", str(pdf_dir / "pdfplumber" / PDF))
        page.locator("#upload-report").get_by_text("added").wait_for(timeout=120_000)
        page.locator("#document-pick input").click()
        page.get_by_role("option", name=PDF).click()
        page.evaluate(WATCH)
        page.click("#summarise-document")
        page.get_by_role("tab", name="Chat", selected=True).wait_for()
        summary = last_message(page)
        summary.get_by_text("Key points").wait_for(timeout=120_000)
        summary.get_by_text(re.compile(r"^Read all 15 pages with text of 1 document\.")).wait_for()
        text = summary.inner_text()
        seen = page.evaluate("window.__seen")
        assert seen["progress"], "the progress was never shown"
        assert seen["stop"], "the Stop button was never shown"
        assert page.locator("#stop-answer").is_hidden(), "Stop is hidden once it is done"
        points = summary.locator("li")
        assert points.count() >= 3, text
        assert re.search(r"\[1\]", text), text
        sources = summary.locator("details", has_text="Sources (")
        sources.locator("summary").click()
        sources.get_by_text(f"{PDF}, page", exact=False).first.wait_for()
        shot(page, "task-summary")

        # A list of every year, counted, each cited.
        page.evaluate(WATCH)
        send(page, "List every year mentioned in the documents")
        listing = last_message(page)
        found = listing.get_by_text(re.compile(r"^Found \d+ years? in 1 document\."))
        found.wait_for(timeout=60_000)
        years = re.findall(r"^(\d{3,4}s?) \[\d+\]", listing.inner_text(), re.MULTILINE)
        assert len(years) >= 2 and len(set(years)) == len(years), listing.inner_text()
        shot(page, "task-list")

        # A follow-up: rewritten with the conversation, shown on request.
        send(page, "and the second one?")
        follow = last_message(page)
        follow.get_by_text("Sources", exact=True).wait_for(timeout=60_000)
        follow.locator("summary", has_text="Understood as").click()
        understood = follow.locator("details", has_text="Understood as")
        assert f"Understood as: “Tell me about {years[1]}.”" in understood.inner_text(), (
            follow.inner_text()
        )

        # A second document, then the two compared: points cited to each of them.
        page.get_by_role("tab", name="Knowledge").click()
        page.set_input_files(
            "#upload input[type=file]", str(pdf_dir / "py-pdf-sample-files" / OTHER)
        )
        row = page.locator("#upload-report tr", has_text=OTHER)
        row.get_by_text("✅ added").wait_for(timeout=120_000)
        page.get_by_role("tab", name="Chat").click()
        send(page, "Compare the two documents")
        compared = last_message(page)
        compared.get_by_text(re.compile(r"^Only in |^On the same subject")).first.wait_for(
            timeout=120_000
        )
        shown = compared.inner_text()
        assert PDF in shown and OTHER in shown, shown
        compared.locator("details", has_text="Sources (").locator("summary").click()
        cited = compared.locator("details", has_text="Sources (").inner_text()
        assert f"{PDF}, page" in cited and f"{OTHER}, page" in cited, cited

        # A citation of the summary opens the passage in its page, the point marked.
        link = summary.locator("a[href^='/gptb/passage/']").first
        with page.context.expect_page() as opened:
            link.click()
        passage = opened.value
        passage.wait_for_load_state()
        assert re.match(r"page \d+ of 15", passage.locator(".meta").inner_text())
        assert PDF in passage.locator("body").inner_text()
        assert passage.locator("mark#quote").inner_text().strip()
        passage.close()

        # Opened again (a restart reads the same saved answers), the summary looks the same.
        open_assistant(page, server.url, "Register reader")
        page.get_by_role("tab", name="Chat", selected=True).wait_for()
        again = page.locator("#chatbot .message", has_text="Key points").first
        again.wait_for()
        assert again.inner_text() == text
        assert guard.blocked == [], guard.blocked
