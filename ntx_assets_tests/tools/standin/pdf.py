"""A minimal, deterministic PDF writer: one page of Helvetica text, optionally padded to an exact size.

Padding is a run of PDF comment lines between the header and the first object, so a padded file stays
a valid PDF and can be streamed without ever existing in memory.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass

_HEADER = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"  # the binary comment marks the file as binary to transfer tools
_PAD_LINE = b"%" + b"-" * 78 + b"\n"
_PAD_BLOCK = _PAD_LINE * 819  # 65,520 bytes per streamed chunk


def _escape(text: str) -> str:
    # PDF literal strings: backslash and parentheses are special; the standard font is Latin-1.
    safe = text.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _content_stream(lines: list[str]) -> bytes:
    ops = ["BT", "/F1 11 Tf", "14 TL", "50 790 Td"]
    for line in lines:
        ops.append(f"({_escape(line)}) Tj T*")
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


def _objects(lines: list[str], title: str) -> list[bytes]:
    content = _content_stream(lines)
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        f"<< /Title ({_escape(title)}) /Producer (ntx_assets NEPSE stand-in) >>".encode("latin-1"),
    ]


def _body(objects: list[bytes], start: int) -> bytes:
    """Objects, cross-reference table and trailer, for a body that begins at byte `start`."""
    out = bytearray()
    offsets: list[int] = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(start + len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref_at = start + len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, len(objects))
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def _padding(size: int) -> Iterator[bytes]:
    blocks, rest = divmod(size, len(_PAD_BLOCK))
    for _ in range(blocks):
        yield _PAD_BLOCK
    lines, tail = divmod(rest, len(_PAD_LINE))
    if lines:
        yield _PAD_LINE * lines
    if tail == 1:
        yield b"\n"
    elif tail > 1:
        yield b"%" + b"-" * (tail - 2) + b"\n"


@dataclass(frozen=True)
class PdfFile:
    head: bytes
    padding: int
    body: bytes

    @property
    def size(self) -> int:
        return len(self.head) + self.padding + len(self.body)

    def chunks(self) -> Iterator[bytes]:
        yield self.head
        yield from _padding(self.padding)
        yield self.body

    def to_bytes(self) -> bytes:
        return b"".join(self.chunks())


def render_pdf(lines: list[str], title: str, total_size: int | None = None) -> PdfFile:
    """A one-page PDF; with `total_size`, padded to exactly that many bytes (when it is large enough)."""
    objects = _objects(lines, title)
    padding = 0
    body = _body(objects, len(_HEADER))
    if total_size is not None and total_size > len(_HEADER) + len(body):
        # startxref's digit count depends on the padding, so settle the two together.
        for _ in range(5):
            padding = total_size - len(_HEADER) - len(body)
            body = _body(objects, len(_HEADER) + padding)
            if len(_HEADER) + padding + len(body) == total_size:
                break
    return PdfFile(_HEADER, padding, body)


# ------------------------------------------------------------------------------------ positioned pages
# The bank reports (bank_reports.py) need text where a real report prints it: runs of Helvetica placed
# at x, y, left-, right- or centre-aligned, on several pages; and pages with no text layer at all, either
# one image (a scan) or the text drawn as filled outlines (no font), which is what a reader without OCR
# sees as "no text".

# Helvetica's advance widths (the AFM's, per 1000 em) for characters 32-126.
_HELVETICA_WIDTHS = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
)  # fmt: skip


def text_width(text: str, size: float) -> float:
    """The width of `text` in Helvetica at `size` points."""
    total = 0
    for ch in text:
        code = ord(ch)
        total += _HELVETICA_WIDTHS[code - 32] if 32 <= code <= 126 else 556
    return total * size / 1000


@dataclass(frozen=True)
class TextRun:
    x: float  # the left edge, right edge or centre, as `align` says
    y: float  # the baseline
    text: str
    size: float = 8.0
    align: str = "left"  # "left", "right" or "center"

    @property
    def left(self) -> float:
        width = text_width(self.text, self.size)
        return {"left": self.x, "right": self.x - width, "center": self.x - width / 2}[self.align]


@dataclass(frozen=True)
class Page:
    runs: tuple[TextRun, ...]
    width: float = 842.0  # A4 landscape, as the one-page results are printed
    height: float = 595.0
    text_layer: str = "text"  # "text", "image" (a scan: one picture, no text) or "outlines" (no font)


def _run_ops(run: TextRun) -> str:
    return f"BT /F1 {run.size:g} Tf 1 0 0 1 {run.left:.2f} {run.y:.2f} Tm ({_escape(run.text)}) Tj ET"


def _outline_ops(run: TextRun) -> list[str]:
    # Each visible character a filled box of its advance width: ink where the text is, but no text.
    ops, x = [], run.left
    for ch in run.text:
        width = text_width(ch, run.size)
        if not ch.isspace():
            ops.append(f"{x:.2f} {run.y:.2f} {width * 0.8:.2f} {run.size * 0.7:.2f} re f")
        x += width
    return ops


def _page_image(page: Page) -> tuple[int, int, bytes]:
    # A coarse grey-scale picture of the page: 1 pixel per 2 points, dark where characters are.
    width, height = int(page.width // 2), int(page.height // 2)
    pixels = bytearray(b"\xff" * (width * height))
    for run in page.runs:
        x = run.left
        row = int((page.height - run.y) // 2)
        for ch in run.text:
            advance = text_width(ch, run.size)
            if not ch.isspace() and 0 <= row < height:
                for column in range(int(x // 2), int((x + advance * 0.8) // 2) + 1):
                    if 0 <= column < width:
                        pixels[row * width + column] = 0x30
            x += advance
    return width, height, zlib.compress(bytes(pixels), 9)


def render_pages(pages: list[Page], title: str) -> PdfFile:
    """A PDF of `pages`; a page's text layer as it says (text, or an image or outlines without text)."""
    count = len(pages)
    # Objects: 1 catalog, 2 pages, 3 font, 4 info, then per page: page, contents[, image].
    objects: list[bytes] = [b"", b"", b"", b""]
    kids: list[int] = []
    for page in pages:
        page_number = len(objects) + 1
        kids.append(page_number)
        contents_number = page_number + 1
        resources = "/Font << /F1 3 0 R >>"
        if page.text_layer == "image":
            width, height, data = _page_image(page)
            image_number = page_number + 2
            resources = f"/XObject << /Im1 {image_number} 0 R >>"
            content = f"q {page.width:g} 0 0 {page.height:g} 0 0 cm /Im1 Do Q".encode("latin-1")
        elif page.text_layer == "outlines":
            content = "\n".join(["0.1 g", *(op for run in page.runs for op in _outline_ops(run))]).encode()
        else:
            content = "\n".join(_run_ops(run) for run in page.runs).encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page.width:g} {page.height:g}] "
            f"/Resources << {resources} >> /Contents {contents_number} 0 R >>".encode("latin-1")
        )
        packed = zlib.compress(content, 9)  # keeps a report page a few kilobytes, as a real one is
        objects.append(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream"
        )
        if page.text_layer == "image":
            objects.append(
                b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n"
                % (width, height, len(data))
                + data
                + b"\nendstream"
            )
    widths = " ".join(str(w) for w in _HELVETICA_WIDTHS)
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {count} >>".encode()
    objects[2] = (
        f"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding "
        f"/FirstChar 32 /LastChar 126 /Widths [{widths}] >>"
    ).encode("latin-1")
    objects[3] = f"<< /Title ({_escape(title)}) /Producer (ntx_assets NEPSE stand-in) >>".encode("latin-1")
    return PdfFile(_HEADER, 0, _body_with_info(objects, len(_HEADER), info=4))


def _body_with_info(objects: list[bytes], start: int, info: int) -> bytes:
    out = bytearray()
    offsets: list[int] = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(start + len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref_at = start + len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, info)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)
