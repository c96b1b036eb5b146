"""A fast first look at PDF pages with PDFium (C++): pages that cannot hide text are read by it.

pypdf, in pure Python, costs about 70 ms a page to parse a content stream and extract its text;
PDFium does both in a few. But the hidden-text checks (``pdf_hidden``) are built on pypdf's
operators, and they must not be weakened for speed. So PDFium only *screens* a page: it looks at
every text object (forms included, at any depth) and calls the page suspicious when one with a
letter or digit in it might be hidden by any of the interpreter's rules, with margins:

- text render mode other than 0-2 or 4-6 (3 and 7 paint nothing), unless the text lies wholly
  on an image drawn before it (the text layer of a scan);
- fill colour (stroke colour for stroke-only modes) with a luminance near white, unless the text
  lies wholly on an image or on a shape filled in a colour that is not light, drawn before it;
  a colour PDFium cannot tell; half-transparent or fainter;
- an em smaller than 1.5 points high or 0.5 wide (PDFium's matrix includes Tz, as the
  interpreter's width does);
- an origin or a box outside the page's crop box.

A suspicious page goes the careful way (``pdf_visible.read_page``); a clean one has, by these
rules, nothing hidden, and PDFium's text of it is the page's text. PDFium's text is also the
better one on most pages (words that pypdf runs together, fake-bold letters it repeats, fonts it
decodes to gibberish), except in right-to-left scripts, which PDFium gives in visual order: a
page with Arabic or Hebrew letters is read by pypdf too. ``tests/test_pdf_screen.py``
checks that the screen lets through no page on which the interpreter finds hidden text, over
every shared PDF and the hidden-text fixtures.
"""

from __future__ import annotations

import ctypes
import logging
import math
import unicodedata
from pathlib import Path
from typing import Any

from gptbuilder.ingest.pdf_hidden import PAGE_MARGIN, Matrix, _mult

log = logging.getLogger(__name__)

MIN_EM = 1.5  # points: the interpreter's limit is 1, under its own reading of the matrices
LIGHT = 0.85  # luminance: the interpreter calls 0.92 white
FAINT_ALPHA = 128  # of 255
VISIBLE_MODES = {0, 1, 2, 4, 5, 6}
STROKE_ONLY = {1, 5}
RTL_FIRST = "\u0590"  # no right-to-left letter comes before Hebrew in Unicode


def open_document(path: Path) -> Any | None:
    """A PDFium document, or None when PDFium cannot open the file (pypdf is used instead)."""
    try:
        import pypdfium2 as pdfium

        return pdfium.PdfDocument(str(path))
    except Exception as err:  # a file pypdf opens and PDFium does not: read it all with pypdf
        log.info("PDFium could not open %s (%r); reading it with pypdf", path, err)
        return None


def clean_page_text(document: Any, number: int) -> str | None:
    """The text of page ``number`` (1-based) when the screen finds nothing that could be
    hidden on it; None when the page needs the careful reading (or PDFium fails on it)."""
    try:
        page = document[number - 1]
    except Exception as err:
        log.info("PDFium could not load page %d: %r", number, err)
        return None
    try:
        textpage = page.get_textpage()
        try:
            if Screen(page, textpage).suspicious():
                return None
            # get_text_range keeps PDFium's line breaks (get_text_bounded drops some).
            text = str(textpage.get_text_range())
            if (
                text
                and max(text) >= RTL_FIRST
                and any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)
            ):
                return None
            return text
        finally:
            textpage.close()
    except Exception as err:  # PDFium trips on the page: let pypdf read it
        log.info("PDFium screening of page %d failed: %r", number, err)
        return None
    finally:
        page.close()


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in page space


def _box_through(box: tuple[float, float, float, float], m: Matrix) -> Box:
    x0, y0, x1, y1 = box
    points = [
        (x * m[0] + y * m[2] + m[4], x * m[1] + y * m[3] + m[5])
        for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))
    ]
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _luminance(colour: tuple[int, int, int, int]) -> float:
    r, g, b, _ = colour
    return (0.299 * r + 0.587 * g + 0.114 * b) / 255


class Screen:
    """Walks a page's objects; ``suspicious()`` is True at the first text object that might be
    hidden."""

    def __init__(self, page: Any, textpage: Any) -> None:
        import pypdfium2.raw as raw

        self._raw = raw
        self._page = page
        self._textpage = textpage
        left, bottom, right, top = page.get_cropbox()
        self._crop = (
            left - PAGE_MARGIN,
            bottom - PAGE_MARGIN,
            right + PAGE_MARGIN,
            top + PAGE_MARGIN,
        )
        self.reason = ""  # why the page is suspicious (for logs and tests)
        # Areas drawn so far (page space): images, and shapes filled with a colour that is not
        # light. Text that lies wholly on one is exempt as the interpreter exempts it (an OCR
        # layer on a scan; white on a coloured banner), so the screen passes what it passes.
        self._images: list[Box] = []
        self._painted: list[Box] = []
        # ctypes out-parameters, made once per page: tens of thousands of objects are screened
        # on a long page, and making them for every call was a third of the screen's time.
        self._m = raw.FS_MATRIX()
        self._m_ref = ctypes.byref(self._m)
        self._size = ctypes.c_float()
        self._size_ref = ctypes.byref(self._size)
        self._floats = [ctypes.c_float() for _ in range(4)]
        self._float_refs = [ctypes.byref(v) for v in self._floats]
        self._uints = [ctypes.c_uint() for _ in range(4)]
        self._uint_refs = [ctypes.byref(v) for v in self._uints]
        self._ints = [ctypes.c_int() for _ in range(2)]
        self._int_refs = [ctypes.byref(v) for v in self._ints]

    def suspicious(self) -> bool:
        raw = self._raw
        page = self._page.raw
        objects = [raw.FPDFPage_GetObject(page, i) for i in range(raw.FPDFPage_CountObjects(page))]
        return self._any(objects, (1.0, 0.0, 0.0, 1.0, 0.0, 0.0), in_form=False)

    def _any(self, objects: list[Any], outer: Matrix, in_form: bool) -> bool:
        raw = self._raw
        for obj in objects:
            kind = raw.FPDFPageObj_GetType(obj)
            if kind == raw.FPDF_PAGEOBJ_TEXT:
                if self._text_suspicious(obj, outer, in_form):
                    return True
            elif kind == raw.FPDF_PAGEOBJ_IMAGE:
                box = self._bounds(obj, outer if in_form else None)
                if box is not None:
                    self._images.append(box)
            elif kind == raw.FPDF_PAGEOBJ_PATH:
                box = self._bounds(obj, outer if in_form else None)
                if box is not None and self._filled_dark(obj):
                    self._painted.append(box)
            elif kind == raw.FPDF_PAGEOBJ_FORM:
                inner = _mult(self._matrix(obj), outer)
                count = raw.FPDFFormObj_CountObjects(obj)
                if count < 0:
                    self.reason = "a form PDFium cannot list"
                    return True
                children = [raw.FPDFFormObj_GetObject(obj, i) for i in range(count)]
                if self._any(children, inner, in_form=True):
                    return True
        return False

    def _matrix(self, obj: Any) -> Matrix:
        m = self._m
        if not self._raw.FPDFPageObj_GetMatrix(obj, self._m_ref):
            return (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
        return (m.a, m.b, m.c, m.d, m.e, m.f)

    def _text_suspicious(self, obj: Any, outer: Matrix, in_form: bool) -> bool:
        raw = self._raw
        own = self._matrix(obj)
        m = _mult(own, outer) if in_form else own
        mode = raw.FPDFTextObj_GetTextRenderMode(obj)
        # A size PDFium cannot tell counts as 0 (tiny), not as the last object's size.
        size = abs(self._size.value) if raw.FPDFTextObj_GetFontSize(obj, self._size_ref) else 0.0
        em_high = size * math.hypot(m[2], m[3])
        em_wide = size * math.hypot(m[0], m[1])
        box = self._bounds(obj, outer if in_form else None)
        why = ""
        if mode not in VISIBLE_MODES:
            if not self._lies_on(m[4], m[5], box, self._images):
                why = f"render mode {mode}"
        elif em_high < MIN_EM or em_wide < MIN_EM / 3:
            why = "tiny"
        elif not self._on_page(m[4], m[5]) or box is None or not self._box_on_page(box):
            why = "off the page"
        else:
            colour = self._colour(obj, stroke=mode in STROKE_ONLY)
            if colour is None:
                why = "unknown colour"
            elif colour[3] < FAINT_ALPHA:
                why = "faint"
            elif _luminance(colour) >= LIGHT:
                areas = self._painted + self._images
                if not self._lies_on(m[4], m[5], box, areas):
                    why = "light colour"
        if not why:
            return False
        text = self._text(obj)
        if not any(ch.isalnum() for ch in text):
            return False  # hides nothing: spaces, rules, bullets
        self.reason = f"{why}: {text[:40]!r}"
        return True

    def _bounds(self, obj: Any, outer: Matrix | None) -> Box | None:
        values = self._floats
        if not self._raw.FPDFPageObj_GetBounds(obj, *self._float_refs):
            return None
        box = (values[0].value, values[1].value, values[2].value, values[3].value)
        return _box_through(box, outer) if outer is not None else box

    @staticmethod
    def _lies_on(x: float, y: float, box: Box | None, areas: list[Box]) -> bool:
        """The text's origin and its whole box lie on one of ``areas`` (1 point of slack, as
        the interpreter allows around the origin)."""
        if box is None:
            return False
        for a in areas:
            x0, y0, x1, y1 = a[0] - 1, a[1] - 1, a[2] + 1, a[3] + 1
            inside = x0 <= x <= x1 and y0 <= y <= y1
            if inside and x0 <= box[0] and box[2] <= x1 and y0 <= box[1] and box[3] <= y1:
                return True
        return False

    def _filled_dark(self, obj: Any) -> bool:
        raw = self._raw
        if not raw.FPDFPath_GetDrawMode(obj, *self._int_refs):
            return False
        if self._ints[0].value == raw.FPDF_FILLMODE_NONE:
            return False
        colour = self._colour(obj, stroke=False)
        return colour is not None and colour[3] >= FAINT_ALPHA and _luminance(colour) < LIGHT

    def _on_page(self, x: float, y: float) -> bool:
        x0, y0, x1, y1 = self._crop
        return x0 <= x <= x1 and y0 <= y <= y1

    def _box_on_page(self, box: Box) -> bool:
        x0, y0, x1, y1 = self._crop
        inside_x = x0 <= box[0] <= x1 and x0 <= box[2] <= x1
        return inside_x and y0 <= box[1] <= y1 and y0 <= box[3] <= y1

    def _colour(self, obj: Any, stroke: bool) -> tuple[int, int, int, int] | None:
        raw = self._raw
        values = self._uints
        get = raw.FPDFPageObj_GetStrokeColor if stroke else raw.FPDFPageObj_GetFillColor
        if not get(obj, *self._uint_refs):
            return None
        return values[0].value, values[1].value, values[2].value, values[3].value

    def _text(self, obj: Any) -> str:
        raw = self._raw
        textpage = self._textpage.raw
        length = raw.FPDFTextObj_GetText(obj, textpage, None, 0)  # bytes, NUL included
        if length <= 2:
            return ""
        buffer = ctypes.create_string_buffer(length)
        wide = ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort))
        raw.FPDFTextObj_GetText(obj, textpage, wide, length)
        return buffer.raw[: length - 2].decode("utf-16-le", errors="ignore")
