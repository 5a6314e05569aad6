"""A minimal, deterministic PDF writer: one page of Helvetica text, optionally padded to an exact size.

Padding is a run of PDF comment lines between the header and the first object, so a padded file stays
a valid PDF and can be streamed without ever existing in memory.
"""

from __future__ import annotations

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
