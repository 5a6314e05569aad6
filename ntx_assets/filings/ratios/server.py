"""Many documents within the same bounds, without a Python start-up each: a long-lived reading server.

`extract_layout_text` starts a fresh interpreter per document, which is ~95% of its cost (0.24 s against
0.01 s of parsing for a one-page report). `LayoutServer` starts one child interpreter
(`python -m ntx_assets.filings.ratios.server`) with pypdf imported, and for every document that child
forks a grandchild which limits itself (address space, CPU seconds) and parses; the server kills a
grandchild that outlives `Limits.seconds` of wall time. So each document is still parsed in a process of
its own that dies with it (a malformed, huge or slow document fails alone, with its reason), for the price
of a fork. The server is single-threaded, so forking it is safe; the caller's process (a Dagster run, with
its threads) never forks.

Frames on the server's stdin and stdout: 8 bytes of big-endian length, then the payload (the PDF's bytes
in, the child's JSON answer out). One `LayoutServer` serves one thread at a time. Where `os.fork` does not
exist, or the server cannot be started, each document falls back to `extract_layout_text`.
"""

from __future__ import annotations

import json
import os
import select
import signal
import struct
import subprocess
import sys
import time
from types import TracebackType
from typing import IO, Self

from ntx_assets.filings.ratios.documents import (
    DEFAULT_LIMITS,
    Extracted,
    Limits,
    answer_of,
    child_failure,
    child_settings,
    extract_layout_text,
    limit_self,
    load_bytes,
    parse_limited,
)

_LENGTH = struct.Struct(">Q")
# The server answers within Limits.seconds (it kills the grandchild then); this is for the server itself.
_SERVER_GRACE_SECONDS = 10.0


class LayoutServer:
    """`extract(source) -> Extracted`, as `extract_layout_text` gives it, through one long-lived child."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._process: subprocess.Popen[bytes] | None = None
        self._forks = hasattr(os, "fork")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def extract(self, source: str | os.PathLike[str] | bytes) -> Extracted:
        data = load_bytes(source, self.limits)
        if isinstance(data, Extracted):
            return data
        if not self._forks:
            return extract_layout_text(data, self.limits)
        process = self._running()
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(_LENGTH.pack(len(data)) + data)
            process.stdin.flush()
            answer = _read_frame(process.stdout, self.limits.seconds + _SERVER_GRACE_SECONDS)
        except (OSError, TimeoutError, EOFError) as error:
            # The server itself failed (not the document's grandchild): start afresh for the next one.
            self._kill()
            return Extracted(None, error=f"the PDF reading server failed: {error or type(error).__name__}")
        return answer_of(answer)

    def _running(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            settings = json.dumps({**child_settings(self.limits), "seconds": self.limits.seconds})
            self._process = subprocess.Popen(
                [sys.executable, "-m", "ntx_assets.filings.ratios.server", settings],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        return self._process

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()


def _read_frame(stream: IO[bytes], seconds: float) -> bytes:
    deadline = time.monotonic() + seconds
    header = _read_exactly(stream, _LENGTH.size, deadline)
    (length,) = _LENGTH.unpack(header)
    return _read_exactly(stream, length, deadline)


def _read_exactly(stream: IO[bytes], size: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    descriptor = stream.fileno()
    while remaining:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([descriptor], [], [], left)[0]:
            raise TimeoutError("no answer in time")
        chunk = os.read(descriptor, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("the server closed its output")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------------------------------- the server


def _serve(settings: dict[str, float]) -> None:
    import pypdf  # noqa: F401  (imported once here, so a forked grandchild starts with it)

    keys = ("max_pages", "memory_bytes", "cpu_seconds", "max_text_chars")
    limits = {key: int(settings[key]) for key in keys}
    seconds = float(settings["seconds"])
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while True:
        header = source.read(_LENGTH.size)
        if len(header) < _LENGTH.size:
            return  # the caller closed: done
        (length,) = _LENGTH.unpack(header)
        data = source.read(length)
        answer = _parse_in_grandchild(data, limits, seconds)
        sink.write(_LENGTH.pack(len(answer)) + answer)
        sink.flush()


def _parse_in_grandchild(data: bytes, limits: dict[str, int], seconds: float) -> bytes:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the grandchild: limit, parse, answer, and never return into the server's loop
        os.close(read_end)
        try:
            limit_self(limits["memory_bytes"], limits["cpu_seconds"])
            answer: dict[str, object] = parse_limited(data, limits)
        except MemoryError:
            answer = {"error": "the PDF needs more memory than the limit allows"}
        except BaseException as error:  # whatever it was, it is this document's failure
            answer = {"error": f"the PDF reader failed: {type(error).__name__}: {str(error)[:200]}"}
        try:
            with os.fdopen(write_end, "wb") as out:
                out.write(json.dumps(answer).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    answer = _collect(read_end, pid, seconds)
    os.close(read_end)
    return answer


def _collect(read_end: int, pid: int, seconds: float) -> bytes:
    chunks: list[bytes] = []
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([read_end], [], [], left)[0]:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return json.dumps({"error": f"reading the PDF took longer than {seconds:g} s; stopped"}).encode()
        chunk = os.read(read_end, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        return json.dumps({"error": child_failure(code, b"")}).encode()
    return b"".join(chunks)


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]))
