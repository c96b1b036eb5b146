"""User journeys in a real headless Chromium against the real app on localhost.

The app runs with the real embedding model, real FAISS, the bundled SmolLM2 and a real SQLite
file in a temporary data folder. Every request of the page is checked: nothing may go to any
host but the app. Screenshots of the main screens go to a temporary folder
(`make screenshots` writes them to docs/screenshots/, shown in the README).
"""

from __future__ import annotations

import re
import shutil

import pytest
from browser import browser_page, need_chromium, shot

from conftest import make_settings
from gptbuilder.services import Services
from gptbuilder.ui.server import BackgroundServer

pytestmark = pytest.mark.slow

PDF = "pdfplumber/federal-register-2020-17221.pdf"
QUESTION = "What does a flight control law generate?"


@pytest.fixture
def app_factory(tmp_path, real_embedder, real_llm):
    need_chromium()
    made = []

    def make(name: str):
        services = Services.build(
            make_settings(tmp_path / name), embedder=real_embedder, llm=lambda: real_llm
        )
        made.append(services)
        return services

    yield make
    for s in made:
        s.close()


def open_tab(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("tab", name=name).click()


def ask(page, question: str) -> str:  # type: ignore[no-untyped-def]
    open_tab(page, "Chat")
    before = page.locator("#chatbot .message").count()
    page.fill("#question textarea", question)
    page.click("#send")
    page.wait_for_function(
        "n => document.querySelectorAll('#chatbot .message').length >= n + 2", arg=before
    )
    # The answer is final when its sources (or closest passages) are shown.
    last = page.locator("#chatbot .message").last
    last.get_by_text(re.compile("^(Sources|Closest passages)$")).wait_for(timeout=180_000)
    return last.inner_text()


def test_create_upload_ask_cite_export_import_and_ask_again(app_factory, pdf_dir, tmp_path):
    first = app_factory("first")
    with BackgroundServer(first) as server, browser_page(server.url) as (page, guard):
        page.goto(server.url + "/")
        page.click("#new-assistant")
        page.fill("#name textarea, #name input", "Flight rules")
        page.locator("textarea").nth(2).fill("Answer in one or two sentences.")
        page.click("#save")
        page.get_by_text("Created “Flight rules”").wait_for()
        shot(page, "configure")

        open_tab(page, "Knowledge")
        page.set_input_files("#upload input[type=file]", str(pdf_dir / PDF))
        # Progress is visible while the file is read and embedded.
        page.get_by_text(re.compile(r"working|Reading|Embedding")).first.wait_for()
        page.locator("#upload-report").get_by_text("added").wait_for(timeout=180_000)
        page.get_by_text("Now add documents").wait_for(state="hidden")  # advice followed
        shot(page, "knowledge")

        answer = ask(page, QUESTION)
        assert "federal-register-2020-17221.pdf, page 3" in answer, answer
        shot(page, "chat")

        link = page.locator("#chatbot a", has_text="show in context").first
        with page.context.expect_page() as opened:
            link.click()
        passage = opened.value
        passage.wait_for_load_state()
        assert "page 3" in passage.locator(".meta").inner_text()
        assert passage.locator("mark#quote").inner_text().strip()
        shot(passage, "passage")
        pdf_href = passage.locator("#open-file").get_attribute("href")
        assert pdf_href and pdf_href.endswith("#page=3")
        passage.close()

        open_tab(page, "Share")
        page.locator("#include-index input").check()
        page.click("#export-gptb")
        with page.expect_download() as dl:
            page.locator("#export-file a").first.click()
        bundle = tmp_path / "Flight rules.gptb"
        dl.value.save_as(bundle)
        open_tab(page, "Gallery")
        shot(page, "gallery")
        assert guard.blocked == [], guard.blocked

    second = app_factory("second")  # a colleague's machine: a fresh data folder
    with BackgroundServer(second) as server, browser_page(server.url) as (page, guard):
        page.goto(server.url + "/")
        open_tab(page, "Share")
        page.set_input_files("#import input[type=file]", str(bundle))
        page.get_by_text(re.compile("Imported")).first.wait_for(timeout=180_000)
        answer = ask(page, QUESTION)
        assert "federal-register-2020-17221.pdf, page 3" in answer, answer
        assert guard.blocked == [], guard.blocked


def test_bad_files_and_bad_imports_get_plain_errors(app_factory, tmp_path):
    services = app_factory("errors")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    good = tmp_path / "notes.txt"
    good.write_text("The staff room is on the third floor, next to the library.\n")
    fake = tmp_path / "assistant.gptb"
    fake.write_bytes(b"PK\x03\x04 this is not really a zip file")
    with BackgroundServer(services) as server, browser_page(server.url) as (page, guard):
        page.goto(server.url + "/")
        page.click("#new-assistant")
        page.fill("#name textarea, #name input", "Staff guide")
        page.click("#save")
        page.get_by_text("Created “Staff guide”").wait_for()
        open_tab(page, "Knowledge")
        page.set_input_files("#upload input[type=file]", [str(broken), str(good)])
        report = page.locator("#upload-report")
        report.get_by_text("notes.txt").wait_for()
        page.wait_for_function(
            "() => !document.querySelector('#upload-report').innerText.includes('working')",
            timeout=180_000,
        )
        text = report.inner_text()
        assert re.search(r"broken\.pdf\s+❌ not added", text), text
        assert re.search(r"notes\.txt\s+✅ added", text), text
        shot(page, "upload-errors")

        open_tab(page, "Share")
        page.set_input_files("#import input[type=file]", str(fake))
        page.locator("#notice").get_by_text("⚠️").wait_for()
        assert "Staff guide" in page.locator("#picker").inner_text()
        assert guard.blocked == [], guard.blocked
    assert [a.name for a in services.repo.list_assistants()] == ["Staff guide"]
    shutil.rmtree(tmp_path / "errors", ignore_errors=True)
