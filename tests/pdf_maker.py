"""Tiny hand-written PDFs for tests: exact control over every operator, no extra dependency."""

from __future__ import annotations


def make_pdf(pages: list[bytes], forms: dict[str, bytes] | None = None) -> bytes:
    """A PDF with one page per content stream (Letter size, Helvetica as /F1), and optional
    form XObjects (/Fm0, ...) that every page can draw with ``/Fm0 Do``."""
    forms = forms or {}
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    def stream(data: bytes, extra: bytes = b"") -> bytes:
        return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(data), extra, data)

    catalog = add(b"")  # filled in below
    tree = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    form_ids = {
        name: add(
            stream(
                data,
                b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] "
                b"/Resources << /Font << /F1 %d 0 R >> >> " % font,
            )
        )
        for name, data in forms.items()
    }
    xobjects = b" ".join(b"/%s %d 0 R" % (n.encode(), i) for n, i in form_ids.items())
    kids = []
    for content in pages:
        c = add(stream(content))
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R >> /XObject << %s >> >> >>"
                % (tree, c, font, xobjects)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        xref,
    )
    return bytes(out)


def text_op(text: str, x: float = 72, y: float = 700, size: float = 12, before: str = "") -> bytes:
    """q BT ... ET Q showing ``text``; ``before`` goes first inside BT ("3 Tr", "1 1 1 rg")."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"q BT {before} /F1 {size} Tf {x} {y} Td ({safe}) Tj ET Q\n".encode("latin-1")
