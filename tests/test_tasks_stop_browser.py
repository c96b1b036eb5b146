"""Stop really stops a whole-document task, in a real headless Chromium (issue 17).

A summary of a real shared PDF (44 sections) is made slow deterministically, by the test alone:
the engine's note cache (``services.tasks.notes``) lets the first sections through and holds
the next one until the Stop button has reached the app, so the progress is on screen when Stop
is clicked, and exactly one section (the one already being read) finishes after it. Then: no
further section is read and the answer does not change any more, the chat says in plain words
that it was stopped and which pages were not read, the saved turn (the page opened again) is
the same stopped answer, never a half-written one, and the next question is answered. Every
request the page makes goes through the guard: nothing but the app is reached."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from browser import ask, browser_page, need_chromium, open_assistant, shot

from gptbuilder.ui.handlers import Handlers
from gptbuilder.ui.server import BackgroundServer

PDF = "federal-register-2020-17221.pdf"  # 15 pages with text, 44 sections
FREE_SECTIONS = 4  # read at once (page 1 and the start of page 2); the next waits for Stop
HOLD_S = 120.0  # the longest a section waits for Stop (a broken Stop fails, never hangs)


class Gate:
    """Wraps the note cache's ``get`` (one call per section read) and ``Chat.stop``: sections
    after the first ``FREE_SECTIONS`` wait until Stop has been handled; counts what was read
    before and after it."""

    def __init__(self, services) -> None:  # type: ignore[no-untyped-def]
        self.stopped = threading.Event()
        self.held = threading.Event()  # a section is waiting for Stop
        self.read = 0
        self.read_after_stop = 0
        self._lock = threading.Lock()
        cache, chat = services.tasks.notes, services.chat
        get, stop = cache.get, chat.stop

        def slow_get(version, section, make):  # type: ignore[no-untyped-def]
            with self._lock:
                self.read += 1
                n = self.read
                if self.stopped.is_set():
                    self.read_after_stop += 1
            if n > FREE_SECTIONS and not self.stopped.is_set():
                self.held.set()
                self.stopped.wait(HOLD_S)
                with self._lock:
                    self.read_after_stop += 1  # it finishes after Stop: the one in flight
            return get(version, section, make)

        def stop_then_release(turn_id: str) -> bool:
            found = stop(turn_id)  # the turn's stop is set before the held section goes on
            if found:
                self.stopped.set()
            return found

        cache.get = slow_get
        chat.stop = stop_then_release


def test_stop_ends_a_summary_says_so_saves_it_stopped_and_the_chat_goes_on(
    fake_services, pdf_dir: Path
):
    need_chromium()
    h = Handlers(fake_services)
    aid = h.save_assistant(None, "Register reader", "", "", "", "", "", "", 0.0)["current"]
    fake_services.library.add_file(aid, pdf_dir / "pdfplumber" / PDF, PDF)
    gate = Gate(fake_services)
    with BackgroundServer(fake_services) as server, browser_page(server.url) as (page, guard):
        open_assistant(page, server.url, "Register reader")
        page.get_by_role("tab", name="Chat", selected=True).wait_for()
        page.locator(".gptb-title").get_by_text("Register reader").wait_for()

        page.fill("#question textarea", f"Summarise {PDF}")
        page.click("#send")
        working = page.locator("#chatbot .message").last
        working.get_by_text(re.compile(r"Summarising…")).wait_for(timeout=120_000)
        working.get_by_text(re.compile(r"Read pp?\. [\d–, ]+ of 15 in")).wait_for()
        assert gate.held.wait(60), "the summary never reached the section held for Stop"
        stop = page.locator("#stop-answer")
        assert stop.is_visible(), "Stop is shown while the summary is read"
        shot(page, "task-stop-progress")
        stop.click()

        # The answer is finished from what was read, and says so in plain words.
        done = page.locator("#chatbot .message", has_text="Stopped:").last
        done.wait_for(timeout=60_000)
        stop.wait_for(state="hidden")
        text = done.inner_text()
        assert "Stopped: the points come from the pages read before you stopped." in text, text
        m = re.search(r"Read (\d+) of 15 pages with text of 1 document\.", text)
        assert m and 1 <= int(m.group(1)) < 15, text
        assert "stopped before they were read" in text, text
        assert "⏳" not in text and "Press Stop" not in text, "no progress left in the answer"
        assert gate.read_after_stop == 1, "only the section being read finished after Stop"
        read_then = gate.read
        # Nothing more is read or shown afterwards (Gradio's queue has long delivered any
        # update by then): the task ended, it was not merely hidden.
        page.wait_for_timeout(1500)
        assert gate.read == read_then, "sections were read after the task stopped"
        assert page.locator("#chatbot .message").last.inner_text() == text
        shown = page.locator("#chatbot .message").count()
        shot(page, "task-stopped")

        # Saved once, as the stopped answer that was shown: the same after opening it again.
        stored = fake_services.repo.list_messages(aid)
        assert [m.role for m in stored] == ["user", "assistant"], stored
        assert "Stopped:" in stored[1].content
        open_assistant(page, server.url, "Register reader")
        page.get_by_role("tab", name="Chat", selected=True).wait_for()
        again = page.locator("#chatbot .message", has_text="Stopped:").first
        again.wait_for()
        assert again.inner_text() == text
        assert page.locator("#chatbot .message").count() == shown, "the same two messages"

        # The chat goes on: the next question is answered, with its sources.
        answer = ask(page, "What does the rule amend?")
        assert "Stopped" not in answer.inner_text()
        assert page.locator("#stop-answer").is_hidden()
        assert [m.role for m in fake_services.repo.list_messages(aid)] == ["user", "assistant"] * 2
        assert guard.blocked == [], guard.blocked
