"""Visible and hidden text of a PDF page, extracted separately by pypdf.

``pdf_hidden.Interpreter`` marks the text-showing operators a reader cannot see; here pypdf
extracts text from copies of the page whose content stream (and form XObjects) keep only the
operators wanted. The page itself is never changed, and a page without hidden text is parsed
once, as pypdf would anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from gptbuilder.ingest.pdf_hidden import SHOW_OPERATORS, GraphicsState, Interpreter, Walk
from gptbuilder.types import HiddenText

Keep = Callable[[str | None], bool] | None  # given a show-operator's hidden reason: keep it?


def _filtered(
    operations: list[tuple[Any, bytes]], walk: Walk, keep: Callable[[str | None], bool]
) -> list[tuple[Any, bytes]]:
    return [
        (operands, op)
        for i, (operands, op) in enumerate(operations)
        if op not in SHOW_OPERATORS or keep(walk.hidden.get(i))
    ]


def _form_copies(
    xobjects: Any, walk: Walk, keep: Callable[[str | None], bool], pdf: Any
) -> Iterator[tuple[str, Any]]:
    """Filtered stand-ins for the forms that hold hidden text."""
    from pypdf.generic import ContentStream, DictionaryObject, NameObject

    for name, inner in walk.forms.items():
        original = xobjects[name].get_object()
        ops = ContentStream(original, None, "bytes").operations
        copy = ContentStream(None, pdf)
        for key, value in original.items():
            if key not in ("/Length", "/Filter", "/DecodeParms"):
                copy[NameObject(key)] = value
        copy.operations = _filtered(ops, inner, keep)
        resources = original.get("/Resources")
        if inner.forms and resources is not None:
            resources = DictionaryObject(resources.get_object())
            sub = DictionaryObject(resources["/XObject"].get_object())  # type: ignore[call-overload]
            for inner_name, stand_in in _form_copies(sub, inner, keep, pdf):
                sub[NameObject(inner_name)] = stand_in
            resources[NameObject("/XObject")] = sub
            copy[NameObject("/Resources")] = resources
        yield name, copy


def _resources(obj: Any) -> Any:
    try:
        value = obj.get_inherited("/Resources", None)
        return value.get_object() if value is not None else None
    except Exception:
        return None


def _extract(page: Any, contents: Any, walk: Walk | None, keep: Keep = None) -> str:
    """Text of a copy of the page with ``contents`` as its content stream; with a walk, only
    the show-operators ``keep`` wants are left in (in the page and in its forms)."""
    from pypdf import PageObject
    from pypdf.generic import ContentStream, DictionaryObject, NameObject

    copy = PageObject(pdf=page.pdf)
    for key, value in page.items():
        copy[NameObject(key)] = value
    if walk is not None and keep is not None:
        filtered = ContentStream(None, page.pdf)
        filtered.operations = _filtered(contents.operations, walk, keep)
        contents = filtered
        if walk.forms:
            resources = DictionaryObject(_resources(page))
            xobjects = DictionaryObject(resources["/XObject"].get_object())  # type: ignore[call-overload]
            for name, stand_in in _form_copies(xobjects, walk, keep, page.pdf):
                xobjects[NameObject(name)] = stand_in
            resources[NameObject("/XObject")] = xobjects
            copy[NameObject("/Resources")] = resources
    copy[NameObject("/Contents")] = contents
    return copy.extract_text()


def read_page(page: Any, number: int) -> tuple[str, list[HiddenText]]:
    """The visible text of a pypdf page, and its hidden text by reason."""
    from pypdf.generic import ContentStream

    raw = page.get("/Contents")
    if raw is None or raw.get_object() is None:
        return "", []
    # "bytes": keep strings undecoded, as pypdf's own text extraction does.
    contents = ContentStream(raw.get_object(), page.pdf, "bytes")
    operations = contents.operations
    resources = _resources(page)
    interpreter = Interpreter(page)
    walk = interpreter.walk(operations, resources, GraphicsState())
    if not walk.any_hidden():
        return _extract(page, contents, None), []
    visible = _extract(page, contents, walk, lambda reason: reason is None)
    hidden = []
    for reason in sorted(walk.reasons()):
        text = _extract(page, contents, walk, lambda r, want=reason: r == want)  # type: ignore[misc]
        if text.strip():
            hidden.append(HiddenText(number, reason, text))
    return visible, hidden
