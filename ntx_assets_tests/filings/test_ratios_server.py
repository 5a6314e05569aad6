"""The long-lived reading server (ntx_assets.filings.ratios.server): the same readings as one interpreter per
document, and every hostile document still fails alone, within its bounds, with the server reading the
next one."""

from __future__ import annotations

import itertools

from ntx_assets.filings.ratios import NFRS, PRE_NFRS, LayoutServer, Limits, read_report_ratios
from ntx_assets_tests.filings.test_ratios import find_report
from ntx_assets_tests.tools.standin.bank_reports import expected_reading, render_bank_report
from ntx_assets_tests.tools.standin.pdf import Page, TextRun, render_pages

MALFORMED = [
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    b"%PDF-1.7\n" + bytes(range(256)) * 64,
]


def _good_documents() -> list[tuple[bytes, dict]]:
    found = []
    for sector, format_, layer in itertools.product(
        ("Commercial Banks", "Microfinance"), (PRE_NFRS, NFRS), ("text", "image")
    ):
        report = find_report(sector, lambda t, f=format_, x=layer: t.format == f and t.text_layer == x)
        found.append((render_bank_report(report).to_bytes(), expected_reading(report)))
    return found


def _slow_document() -> bytes:
    # A page of 80,000 text runs: about 7 s of pypdf's layout mode here, and hundreds of MiB.
    runs = tuple(TextRun(20 + (n % 80) * 10, 20 + (n // 80) % 780, "x 1.0%", 4) for n in range(80_000))
    return render_pages([Page(runs)], "slow").to_bytes()


def test_the_server_reads_what_one_interpreter_per_document_reads() -> None:
    documents = _good_documents()
    with LayoutServer() as server:
        for data, expected in documents:
            through_server = read_report_ratios(data, server=server).as_json()
            assert through_server == read_report_ratios(data).as_json()
            if expected["problems"] == ["no text layer"]:
                assert through_server["problems"][0].startswith("no text layer")
            else:
                assert through_server == expected


def test_hostile_documents_fail_alone_and_the_server_reads_the_next_one() -> None:
    good, expected = _good_documents()[0]
    slow = _slow_document()
    long = render_pages([Page((TextRun(50, 500, f"Page {n}"),)) for n in range(61)], "long").to_bytes()
    with LayoutServer(Limits(seconds=1.0)) as server:
        reasons = [
            read_report_ratios(data, server=server).problems
            for data in (good[: len(good) // 3], *MALFORMED, long, slow, b"not a pdf")
        ]
        after = read_report_ratios(good, server=server)
    assert all(len(problems) == 1 for problems in reasons), reasons
    truncated, *malformed, too_long, too_slow, not_pdf = (problems[0] for problems in reasons)
    assert truncated.startswith(("malformed PDF", "the PDF reader failed", "no text layer"))
    assert all(m.startswith(("malformed PDF", "the PDF reader failed", "no text layer")) for m in malformed)
    assert too_long == "too many pages: 61 (limit 60)"
    assert too_slow == "reading the PDF took longer than 1 s; stopped"
    assert not_pdf == "not a PDF: the file does not start with %PDF-"
    assert after.as_json() == expected


def test_a_document_over_the_memory_limit_fails_alone() -> None:
    good, expected = _good_documents()[0]
    limits = Limits(memory_bytes=64 * 1024 * 1024)
    with LayoutServer(limits) as server:
        starved = read_report_ratios(_slow_document(), server=server)
        after = read_report_ratios(good, server=server)
    assert starved.read_count == 0
    assert starved.problems == read_report_ratios(_slow_document(), limits).problems
    assert "MemoryError" in starved.problems[0] or starved.problems[0].startswith("the PDF needs more memory")
    assert after.as_json() == expected


def test_a_server_that_died_is_started_again_for_the_next_document() -> None:
    good, expected = _good_documents()[0]
    with LayoutServer() as server:
        assert read_report_ratios(good, server=server).as_json() == expected
        process = server._process
        assert process is not None
        process.kill()
        process.wait()
        assert read_report_ratios(good, server=server).as_json() == expected
        assert server._process is not process


def test_a_document_over_the_byte_limit_is_refused_before_the_server_sees_it() -> None:
    good, _ = _good_documents()[0]
    limit = 1000
    with LayoutServer(Limits(max_bytes=limit)) as server:
        assert read_report_ratios(good, server=server).problems == [
            f"document too big: {len(good)} bytes (limit {limit})"
        ]
        assert server._process is None
