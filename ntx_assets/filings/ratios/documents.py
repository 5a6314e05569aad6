"""Opening a report PDF within bounds: its layout text, or the reason there is none.

A document is untrusted input. Its text is extracted with pypdf's layout mode in a child process
(`python -m ntx_assets.filings.ratios.documents`) that gets the bytes on stdin and limits itself
(address space, CPU seconds) before parsing, while the parent waits at most `Limits.seconds` of wall
time and kills it after. The parent refuses a file over `Limits.max_bytes` before reading it, the child
a document over `Limits.max_pages` pages before extracting any; so a malformed, huge or slow document
fails alone, with a reason, and never takes the caller down with it.

Extraction stops one page after the page that carries the ratio table's heading: the rest of an NFRS
interim report (notes, disclosures) is not needed and is the slow part of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ntx_assets.filings.ratios import labels as L


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20 * 1024 * 1024  # the real NFRS interim sample is 1.5 MB
    max_pages: int = 60  # the real NFRS interim sample has 22 pages
    seconds: float = 30.0  # wall time for the child, start-up included (~0.5 s for a one-page report)
    memory_bytes: int = 1024 * 1024 * 1024  # the child's address space
    max_text_chars: int = 2_000_000  # layout text kept, all pages together


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Extracted:
    """The layout text of the pages read (form feeds between pages), or `error` saying why not."""

    text: str | None
    pages: int | None = None
    error: str | None = None


def load_bytes(source: str | os.PathLike[str] | bytes, limits: Limits = DEFAULT_LIMITS) -> bytes | Extracted:
    """The document's bytes, or an Extracted error when it is too big or cannot be read."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as exc:
            return Extracted(None, error=f"cannot open the document: {exc.strerror or exc}")
        if size > limits.max_bytes:
            return Extracted(None, error=f"document too big: {size} bytes (limit {limits.max_bytes})")
        with path.open("rb") as handle:
            data = handle.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        return Extracted(None, error=f"document too big: {len(data)} bytes (limit {limits.max_bytes})")
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        return Extracted(None, error="not a PDF: the file does not start with %PDF-")
    return data


def extract_layout_text(source: str | os.PathLike[str] | bytes, limits: Limits = DEFAULT_LIMITS) -> Extracted:
    """The document's layout text, extracted in a bounded child process."""
    data = load_bytes(source, limits)
    if isinstance(data, Extracted):
        return data
    settings = json.dumps(child_settings(limits))
    command = [sys.executable, "-m", "ntx_assets.filings.ratios.documents", settings]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=limits.seconds, check=False)
    except subprocess.TimeoutExpired:
        return Extracted(None, error=f"reading the PDF took longer than {limits.seconds:g} s; stopped")
    if done.returncode != 0:
        return Extracted(None, error=child_failure(done.returncode, done.stderr))
    return answer_of(done.stdout)


def answer_of(stdout: bytes) -> Extracted:
    """The child's JSON answer as an Extracted."""
    try:
        answer = json.loads(stdout)
    except ValueError:
        return Extracted(None, error="the PDF reader's answer was not readable")
    if answer.get("error"):
        return Extracted(None, pages=answer.get("pages"), error=answer["error"])
    return Extracted(answer["text"], pages=answer.get("pages"))


def child_failure(returncode: int, stderr: bytes) -> str:
    tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    if returncode < 0:
        return f"the PDF reader was stopped by signal {-returncode} (CPU or memory limit)"
    if "MemoryError" in tail[0]:
        return "the PDF needs more memory than the limit allows"
    return f"the PDF reader failed (exit {returncode}): {tail[0][:200]}"


# ---------------------------------------------------------------------------------------- the child


def limit_self(memory_bytes: int, cpu_seconds: int) -> None:
    try:
        import resource
    except ImportError:  # not on POSIX: the parent's wall-clock timeout still holds
        return
    for kind, value in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_CPU, cpu_seconds)):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(kind, (value, value))


def child_settings(limits: Limits) -> dict[str, int]:
    """What a child needs of the limits: the parent or the server keeps the wall-clock one."""
    return {
        "max_pages": limits.max_pages,
        "memory_bytes": limits.memory_bytes,
        "cpu_seconds": max(1, int(limits.seconds) + 1),
        "max_text_chars": limits.max_text_chars,
    }


def _child(settings: dict[str, int]) -> dict[str, object]:
    data = sys.stdin.buffer.read()
    limit_self(settings["memory_bytes"], settings["cpu_seconds"])
    return parse_limited(data, settings)


def parse_limited(data: bytes, settings: dict[str, int]) -> dict[str, object]:
    """The layout text of `data` as {"pages", "text"} or {"error"}; run where the limits already hold."""
    import io
    import logging

    logging.disable(logging.CRITICAL)  # pypdf warns about every oddity of a malformed file
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception:
                return {"error": "the PDF is encrypted"}
        pages = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        return {"error": f"malformed PDF: {type(exc).__name__}: {str(exc)[:200]}"}
    if pages > settings["max_pages"]:
        return {"pages": pages, "error": f"too many pages: {pages} (limit {settings['max_pages']})"}
    if pages == 0:
        return {"pages": 0, "error": "malformed PDF: no pages"}
    texts: list[str] = []
    total = 0
    found_on: int | None = None
    for number in range(pages):
        try:
            text = reader.pages[number].extract_text(extraction_mode="layout") or ""
        except Exception as exc:  # a broken page: the document fails, with the page named
            return {"pages": pages, "error": f"malformed PDF: page {number + 1}: {type(exc).__name__}"}
        text = text.replace("\f", "\n")
        total += len(text)
        if total > settings["max_text_chars"]:
            return {"pages": pages, "error": f"too much text: over {settings['max_text_chars']} characters"}
        texts.append(text)
        if found_on is None and any(
            L.PRE_NFRS_SECTION.search(line) or L.NFRS_SECTION.search(line) for line in text.splitlines()
        ):
            found_on = number
        if found_on is not None and number >= found_on + 1:
            break
    return {"pages": pages, "text": "\f".join(texts)}


def main() -> None:
    settings = json.loads(sys.argv[1])
    answer = _child(settings)
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    main()
