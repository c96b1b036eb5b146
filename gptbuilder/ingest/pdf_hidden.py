"""Text in a PDF that a reader cannot see: invisible, white on white, microscopic, off the page.

A PDF can carry text that no one sees on screen or paper but that every text extractor (and so
every language model fed from it) reads: a classic hiding place for instructions aimed at an AI.
``Interpreter.walk`` goes through a page's content stream with a small graphics-state
interpreter (text render mode ``Tr``, fill and stroke colours, ``cm``/``Tm`` matrices, font size,
painted areas) and decides for every text-showing operator whether a reader can see it;
``pdf_visible.read_page`` then extracts the visible and the hidden text separately.

What counts as hidden:
- render mode 3 or 7 (no paint), unless it lies over an image: that is how OCR layers of scanned
  pages are made, and that text is real;
- fill (or, for stroke-only modes, stroke) colour near white, unless it lies over an area painted
  in another colour or over an image (white titles on coloured banners are real);
- an effective font size under 1 point (Tf size scaled by the text and user-space matrices);
- a starting point outside the page's crop box.
Not detected: text covered by a shape drawn over it, text clipped away, fonts whose glyphs are
blank. Those need rendering; this stays a pass over the operators.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from typing import Any

log = logging.getLogger(__name__)

INVISIBLE = "invisible: render mode 3"
WHITE = "white on a white page"
TINY = "font smaller than 1 point"
OFF_PAGE = "placed outside the page"

MIN_POINTS = 1.0  # effective font height below this is unreadable
WHITE_LEVEL = 0.92  # luminance (0..1) from which text counts as white on white
PAGE_MARGIN = 2.0  # points outside the crop box still counted as on the page
MAX_FORM_DEPTH = 4
SHOW_OPERATORS = {b"Tj", b"TJ", b"'", b'"'}
FILL_OPERATORS = {b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"}

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in device space


def _mult(m: Matrix, n: Matrix) -> Matrix:
    """m then n (PDF row-vector convention: point × m × n)."""
    return (
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    )


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return x * m[0] + y * m[2] + m[4], x * m[1] + y * m[3] + m[5]


def _numbers(operands: list[Any], n: int) -> list[float] | None:
    try:
        values = [float(v) for v in operands[:n]]
    except (TypeError, ValueError):
        return None
    return values if len(values) == n else None


def _luminance(space: str, comps: tuple[float, ...]) -> float | None:
    """0 (black) .. 1 (white); None when the colour space is not a plain device one."""
    if space == "gray" and len(comps) == 1:
        return comps[0]
    if space == "rgb" and len(comps) == 3:
        r, g, b = comps
        return 0.299 * r + 0.587 * g + 0.114 * b
    if space == "cmyk" and len(comps) == 4:
        c, m, y, k = comps
        return (1 - k) * (1 - max(c, m, y))
    return None


@dataclass
class GraphicsState:
    ctm: Matrix = IDENTITY
    fill: tuple[str, tuple[float, ...]] = ("gray", (0.0,))
    stroke: tuple[str, tuple[float, ...]] = ("gray", (0.0,))
    mode: int = 0  # text render mode (Tr)
    size: float = 12.0  # Tf
    type3: bool = False
    scale: float = 1.0  # Tz / 100
    leading: float = 0.0  # TL


@dataclass
class Walk:
    """Hidden show-operators found in one content stream (page or form), by operator index."""

    hidden: dict[int, str] = field(default_factory=dict)
    forms: dict[str, Walk] = field(default_factory=dict)  # XObject name -> its own walk

    def any_hidden(self) -> bool:
        return bool(self.hidden) or any(f.any_hidden() for f in self.forms.values())

    def reasons(self) -> set[str]:
        out = set(self.hidden.values())
        for f in self.forms.values():
            out |= f.reasons()
        return out


class Interpreter:
    def __init__(self, page: Any) -> None:
        box = page.cropbox
        self.page_box: Box = (
            float(box.left) - PAGE_MARGIN,
            float(box.bottom) - PAGE_MARGIN,
            float(box.right) + PAGE_MARGIN,
            float(box.top) + PAGE_MARGIN,
        )
        self.images: list[Box] = []  # areas covered by images (device space)
        self.painted: list[Box] = []  # areas filled with a colour that is not white
        self.shaded = False  # a shading was painted somewhere: backgrounds unknown

    # -- colour spaces ---------------------------------------------------------------------------

    @staticmethod
    def _space(name: Any, resources: Any) -> str:
        plain = {
            "/DeviceGray": "gray",
            "/DeviceRGB": "rgb",
            "/DeviceCMYK": "cmyk",
            "/G": "gray",
            "/RGB": "rgb",
            "/CMYK": "cmyk",
            "/CalGray": "gray",
            "/CalRGB": "rgb",
        }
        if str(name) in plain:
            return plain[str(name)]
        try:
            spaces = resources["/ColorSpace"]
            value = spaces[name].get_object() if name in spaces else None
            if value is None:
                return "other"
            family = str(value[0]) if hasattr(value, "__getitem__") and len(value) else str(value)
            if family in plain:
                return plain[family]
            if family == "/ICCBased":
                n = int(value[1].get_object().get("/N", 0))
                return {1: "gray", 3: "rgb", 4: "cmyk"}.get(n, "other")
        except Exception:  # a malformed resource: treat the colour as unknown
            pass
        return "other"

    # -- walking ---------------------------------------------------------------------------------

    def walk(
        self,
        operations: list[tuple[Any, bytes]],
        resources: Any,
        state: GraphicsState,
        depth: int = 0,
    ) -> Walk:
        out = Walk()
        stack: list[GraphicsState] = []
        tm: Matrix = IDENTITY
        tlm: Matrix = IDENTITY
        path: list[tuple[float, float]] = []
        fonts = self._get(resources, "/Font")
        xobjects = self._get(resources, "/XObject")
        for index, (operands, op) in enumerate(operations):
            if op == b"q":
                stack.append(replace(state))
            elif op == b"Q":
                state = stack.pop() if stack else state
            elif op == b"cm" and (m := _numbers(operands, 6)):
                state.ctm = _mult(tuple(m), state.ctm)  # type: ignore[arg-type]
            elif op == b"BT":
                tm = tlm = IDENTITY
            elif op == b"Tf" and len(operands) >= 2:
                size = _numbers(operands[1:], 1)
                state.size = size[0] if size else state.size
                font = fonts.get(operands[0]) if fonts is not None else None
                state.type3 = self._subtype(font) == "/Type3"
            elif op == b"Tr" and (v := _numbers(operands, 1)):
                state.mode = int(v[0])
            elif op == b"Tz" and (v := _numbers(operands, 1)):
                state.scale = v[0] / 100
            elif op == b"TL" and (v := _numbers(operands, 1)):
                state.leading = v[0]
            elif op in (b"Td", b"TD") and (v := _numbers(operands, 2)):
                if op == b"TD":
                    state.leading = -v[1]
                tlm = _mult((1, 0, 0, 1, v[0], v[1]), tlm)
                tm = tlm
            elif op == b"Tm" and (m := _numbers(operands, 6)):
                tm = tlm = tuple(m)  # type: ignore[assignment]
            elif op in (b"T*", b"'", b'"'):
                tlm = _mult((1, 0, 0, 1, 0, -state.leading), tlm)
                tm = tlm
            elif op in (b"g", b"rg", b"k", b"G", b"RG", b"K"):
                n = {b"g": 1, b"rg": 3, b"k": 4, b"G": 1, b"RG": 3, b"K": 4}[op]
                comps = _numbers(operands, n)
                space = {1: "gray", 3: "rgb", 4: "cmyk"}[n]
                colour = (space, tuple(comps)) if comps else ("other", ())
                if op.islower():
                    state.fill = colour
                else:
                    state.stroke = colour
            elif op in (b"cs", b"CS") and operands:
                space = self._space(operands[0], resources)
                initial = {"gray": (0.0,), "rgb": (0.0, 0.0, 0.0), "cmyk": (0.0, 0.0, 0.0, 1.0)}
                colour = (space, initial.get(space, ()))
                if op == b"cs":
                    state.fill = colour
                else:
                    state.stroke = colour
            elif op in (b"sc", b"scn", b"SC", b"SCN"):
                target = state.fill if op.islower() else state.stroke
                comps = _numbers(operands, len(operands))
                colour = (target[0], tuple(comps)) if comps else ("other", ())
                if op.islower():
                    state.fill = colour
                else:
                    state.stroke = colour
            elif op == b"re" and (v := _numbers(operands, 4)):
                x, y, w, h = v
                path += [
                    _apply(state.ctm, px, py)
                    for px, py in ((x, y), (x + w, y), (x, y + h), (x + w, y + h))
                ]
            elif op in (b"m", b"l") and (v := _numbers(operands, 2)):
                path.append(_apply(state.ctm, v[0], v[1]))
            elif op in (b"c", b"v", b"y") and operands:
                v = _numbers(operands, len(operands)) or []
                path += [_apply(state.ctm, v[i], v[i + 1]) for i in range(0, len(v) - 1, 2)]
            elif op in FILL_OPERATORS:
                lum = _luminance(*state.fill)
                if path and (lum is None or lum < WHITE_LEVEL):
                    self.painted.append(self._box(path))
                path = []
            elif op in (b"S", b"s", b"n"):
                path = []
            elif op == b"sh":
                self.shaded = True
            elif op == b"INLINE IMAGE":
                self.images.append(self._unit_box(state.ctm))
            elif op == b"Do" and operands and xobjects is not None:
                self._do(operands[0], xobjects, resources, state, depth, out)
            elif op in SHOW_OPERATORS:
                if op == b'"' and len(operands) >= 3:
                    pass  # word and character spacing: no effect on visibility
                reason = self._hidden(state, tm)
                if reason:
                    out.hidden[index] = reason
        return out

    def _do(
        self, name: Any, xobjects: Any, resources: Any, state: GraphicsState, depth: int, out: Walk
    ) -> None:
        try:
            xobj = xobjects[name].get_object()
            subtype = str(xobj.get("/Subtype"))
        except Exception:
            return
        if subtype == "/Image":
            self.images.append(self._unit_box(state.ctm))
        elif subtype == "/Form" and depth < MAX_FORM_DEPTH:
            from pypdf.generic import ContentStream

            matrix = _numbers(list(xobj.get("/Matrix", IDENTITY)), 6) or list(IDENTITY)
            inner = replace(state, ctm=_mult(tuple(matrix), state.ctm))  # type: ignore[arg-type]
            try:
                ops = ContentStream(xobj, None, "bytes").operations
            except Exception:
                return
            own = xobj.get("/Resources")
            form_resources = own.get_object() if own is not None else resources
            walk = self.walk(ops, form_resources, inner, depth + 1)
            if walk.any_hidden():
                out.forms[str(name)] = walk

    def _hidden(self, state: GraphicsState, tm: Matrix) -> str | None:
        m = _mult(tm, state.ctm)
        x, y = m[4], m[5]
        if state.mode in (3, 7):
            return None if self._inside(x, y, self.images) else INVISIBLE
        height = abs(state.size) * math.hypot(m[2], m[3])
        width = abs(state.size) * math.hypot(m[0], m[1]) * abs(state.scale)
        if not state.type3 and (height < MIN_POINTS or width < MIN_POINTS / 3):
            return TINY  # Type 3 fonts scale glyphs by their own matrix: size says little
        x0, y0, x1, y1 = self.page_box
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            return OFF_PAGE
        colour = state.stroke if state.mode in (1, 5) else state.fill
        lum = _luminance(*colour)
        if lum is not None and lum >= WHITE_LEVEL and not self.shaded:
            if not self._inside(x, y, self.painted) and not self._inside(x, y, self.images):
                return WHITE
        return None

    @staticmethod
    def _inside(x: float, y: float, boxes: list[Box]) -> bool:
        return any(b[0] - 1 <= x <= b[2] + 1 and b[1] - 1 <= y <= b[3] + 1 for b in boxes)

    @staticmethod
    def _box(points: list[tuple[float, float]]) -> Box:
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        return min(xs), min(ys), max(xs), max(ys)

    def _unit_box(self, ctm: Matrix) -> Box:
        return self._box([_apply(ctm, x, y) for x, y in ((0, 0), (1, 0), (0, 1), (1, 1))])

    @staticmethod
    def _get(resources: Any, key: str) -> Any:
        try:
            value = resources.get(key) if resources is not None else None
            return value.get_object() if value is not None else None
        except Exception:
            return None

    @staticmethod
    def _subtype(font: Any) -> str:
        try:
            return str(font.get_object().get("/Subtype"))
        except Exception:
            return ""
