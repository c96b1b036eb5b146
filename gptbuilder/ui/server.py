"""The web server: the Gradio app plus two small pages of our own that citations link to.

``/gptb/passage/{document}/{chunk}`` shows a cited passage inside its whole page, with the
supporting quote highlighted, and links to ``/gptb/document/{document}/file#page=N``, which
opens the original file at that page (PDFs in the browser's viewer; other types download).
Every piece of document text is HTML-escaped: documents are untrusted.
"""

# No "from __future__ import annotations": FastAPI reads the route functions' annotations
# (Request) at run time, and those are imported inside create_server.
import html
import logging
import re
import threading
import time
from typing import Any

from gptbuilder.errors import NotFound
from gptbuilder.services import Services
from gptbuilder.ui.layout import CSS, build_app

log = logging.getLogger(__name__)

PAGE_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52em; margin: 2em auto; padding: 0 1em;
       line-height: 1.55; color: #1f2328; }
.meta { color: #57606a; font-size: 0.9em; }
.page { white-space: pre-wrap; border: 1px solid #d0d7de; border-radius: 6px; padding: 1em; }
.passage { background: #fff8c5; }
mark { background: #ffd33d; }
"""
# Our pages load nothing from anywhere, run no script, and cannot be framed.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
INLINE_TYPES = {"application/pdf", "text/plain"}  # shown in the browser; the rest download

# The app's own policy: the page may load and talk to this server only. A model coaxed by a
# document into writing an image or a link to another host cannot make the browser fetch it,
# even if something slipped past the rendering. Gradio needs inline scripts and styles (its
# config and theme are inlined), and data:/blob: for uploads and images it makes itself. No
# 'unsafe-eval': only Gradio's plot components (Bokeh, Altair) use eval, and this app has none.
APP_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "media-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
APP_HEADERS = {
    "Content-Security-Policy": APP_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class SecurityHeaders:
    """ASGI middleware: every HTTP response gets ``APP_HEADERS`` unless it set its own (our
    passage pages have a stricter policy). Pure ASGI, so streamed responses stay streamed."""

    def __init__(self, app: Any, headers: dict[str, str] = APP_HEADERS) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _marked(text: str, words: list[str]) -> str:
    """``text`` HTML-escaped, with the given words (a claim's support) in bold."""
    if not words:
        return html.escape(text)
    pattern = re.compile(
        r"\b(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")",
        re.IGNORECASE,
    )
    out, pos = [], 0
    for m in pattern.finditer(text):
        out.append(html.escape(text[pos : m.start()]) + "<b>" + html.escape(m.group(0)) + "</b>")
        pos = m.end()
    return "".join(out) + html.escape(text[pos:])


def passage_page(
    services: Services,
    document_id: int,
    chunk_id: int,
    quote: tuple[int, int] | None,
    words: list[str] | None = None,
) -> str:
    """HTML of a passage in its page. ``quote`` is relative to the passage's text; ``words``
    (those that support a claim) are marked inside it."""
    where = services.knowledge.passage(document_id, chunk_id)
    doc, page, start, end, text = (
        where.document,
        where.page,
        where.start,
        where.end,
        where.page_text,
    )
    q_start, q_end = start, end
    if quote and 0 <= quote[0] < quote[1] <= end - start:
        q_start, q_end = start + quote[0], start + quote[1]
    body = (
        html.escape(text[:start])
        + '<span class="passage">'
        + html.escape(text[start:q_start])
        + '<mark id="quote">'
        + _marked(text[q_start:q_end], words or [])
        + "</mark>"
        + html.escape(text[q_end:end])
        + "</span>"
        + html.escape(text[end:])
    )
    name = html.escape(doc.filename)
    pages = f"page {page} of {doc.pages}" if doc.pages > 1 else f"page {page}"
    file_link = f"/gptb/document/{doc.id}/file" + (
        f"#page={page}" if doc.media_type == "application/pdf" else ""
    )
    open_label = (
        "Open the PDF at this page"
        if doc.media_type == "application/pdf"
        else ("Download the original file")
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{name}, {pages}</title>
<style>{PAGE_STYLE}</style></head><body>
<h1>{name}</h1>
<p class="meta">{pages} · uploaded {doc.created_at:%Y-%m-%d %H:%M} UTC ·
sha256 <code>{doc.sha256[:16]}…</code></p>
<p><a id="open-file" href="{file_link}" target="_blank" rel="noopener">{open_label}</a></p>
<div class="page">{body}</div>
</body></html>"""


def create_server(services: Services, blocks: Any) -> Any:
    """A FastAPI app serving our pages and, at ``/``, the Gradio UI."""
    import gradio as gr
    from fastapi import FastAPI, Request
    from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.add_middleware(SecurityHeaders)

    @app.get("/gptb/passage/{document_id}/{chunk_id}")
    def passage(document_id: int, chunk_id: int, request: Request) -> Any:
        start = _int(request.query_params.get("start"))
        end = _int(request.query_params.get("end"))
        quote = (start, end) if start is not None and end is not None else None
        words = [w for w in (request.query_params.get("w") or "").split(",")[:12] if w.strip()]
        words = [" ".join(re.sub(r"[^\w ]+", " ", w).split())[:40] for w in words]
        try:
            page = passage_page(services, document_id, chunk_id, quote, [w for w in words if w])
        except NotFound as err:
            return PlainTextResponse(str(err), status_code=404, headers=PAGE_HEADERS)
        return HTMLResponse(page, headers=PAGE_HEADERS)

    @app.get("/gptb/document/{document_id}/file")
    def document_file(document_id: int) -> Any:
        try:
            doc, path = services.knowledge.original_file(document_id)
        except NotFound as err:
            return PlainTextResponse(str(err), status_code=404, headers=PAGE_HEADERS)
        if not path.is_file():
            return PlainTextResponse(
                "The original file is no longer stored.", status_code=404, headers=PAGE_HEADERS
            )
        inline = doc.media_type in INLINE_TYPES
        return FileResponse(
            path,
            media_type=doc.media_type if inline else "application/octet-stream",
            filename=doc.filename,
            content_disposition_type="inline" if inline else "attachment",
            headers={**PAGE_HEADERS, "Content-Security-Policy": "sandbox"},
        )

    s = services.settings
    return gr.mount_gradio_app(
        app,
        blocks.queue(default_concurrency_limit=1),
        path="",
        server_name=s.host,
        server_port=s.port,
        footer_links=[],
        show_error=False,
        max_file_size=f"{max(s.max_upload_mb, s.bundle_max_mb)}mb",
        css=CSS,
    )


def serve(services: Services) -> None:
    """Run the app until stopped (python app.py)."""
    import uvicorn

    s = services.settings
    app = create_server(services, build_app(services))
    log.info("GPT Builder on http://%s:%d", s.host, s.port)
    uvicorn.run(app, host=s.host, port=s.port, log_level="warning")


class BackgroundServer:
    """The real server on a free local port in a thread, for tests and benchmarks."""

    def __init__(self, services: Services, port: int = 0) -> None:
        import socket

        import uvicorn

        if port == 0:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
        app = create_server(services, build_app(services))
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self._server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> "BackgroundServer":
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(30)
