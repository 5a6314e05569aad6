"""Ratio reading (issue 40 item 6): one quarter's report document of every financial institution the
stand-in lists, rendered by the stand-in (bank_reports.py), then read by the product's
`read_report_ratios` as the report_ratios asset reads them (a LayoutServer per worker: each document parsed in
a bounded process forked from one long-lived interpreter), two at a time on 2 cores and one at a time, and
once more with one fresh interpreter per document (the one-shot path, for the ratio). The rendering is the
stand-in's cost and is timed apart; no download is involved."""

from __future__ import annotations

import datetime as dt
import os
import queue
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

GOAL_SECONDS = 60.0


def quarter_documents(seed: int, end_date: dt.date) -> tuple[tuple[int, int], list[tuple[str, Any]]]:
    """The most common latest (fiscal year start, quarter) among the institutions, and each one's
    document of that quarter: [(symbol, Document)]."""
    from ntx_assets_tests.tools.standin.config import StandinConfig
    from ntx_assets_tests.tools.standin.data import StandinData

    data = StandinData(StandinConfig(seed=seed, end_date=end_date, days=365))
    by_company: dict[str, dict[tuple[int, int], Any]] = {}
    for company in data.universe.active_equity():
        for report in data.reports(company["id"]):
            for entry in report["applicationDocumentDetailsList"]:
                document = data.document(entry["filePath"])
                if document is None or document.bank_report is None:
                    continue
                key = (document.bank_report.start_year, document.bank_report.quarter)
                by_company.setdefault(company["symbol"], {})[key] = document
    latest = Counter(max(quarters) for quarters in by_company.values())
    quarter = latest.most_common(1)[0][0]
    chosen = [(symbol, docs[quarter]) for symbol, docs in sorted(by_company.items()) if quarter in docs]
    return quarter, chosen


def measure(seed: int = 7, end_date: dt.date | None = None, workers: int = 2) -> dict[str, Any]:
    from ntx_assets.filings.ratios import LayoutServer, read_report_ratios
    from ntx_assets_tests.tools.standin.bank_reports import expected_reading, render_bank_report, traits

    end_date = end_date or dt.date(2026, 12, 4)
    quarter, documents = quarter_documents(seed, end_date)
    started = time.perf_counter()
    rendered = [(symbol, doc, render_bank_report(doc.bank_report).to_bytes()) for symbol, doc in documents]
    render_seconds = time.perf_counter() - started

    def read_all(parallel: int, servers: bool = True) -> tuple[float, list[Any]]:
        began = time.perf_counter()
        with ExitStack() as stack, ThreadPoolExecutor(max_workers=parallel) as pool:
            idle: queue.SimpleQueue[LayoutServer | None] = queue.SimpleQueue()
            for _ in range(parallel):
                idle.put(stack.enter_context(LayoutServer()) if servers else None)

            def read(item: tuple[str, Any, bytes]) -> Any:
                server = idle.get()
                try:
                    return read_report_ratios(item[2], server=server)
                finally:
                    idle.put(server)

            readings = list(pool.map(read, rendered))
        return time.perf_counter() - began, readings

    seconds, readings = read_all(workers)
    serial_seconds, _ = read_all(1)
    one_shot_seconds, one_shot = read_all(workers, servers=False)
    assert [r.as_json() for r in one_shot] == [r.as_json() for r in readings], "the two paths disagree"
    with_text = [traits(doc.bank_report).text_layer == "text" for _, doc, _ in rendered]
    read_any = sum(1 for r in readings if r.read_count > 0)
    exact = sum(
        1
        for (_, doc, _), reading, text in zip(rendered, readings, with_text, strict=True)
        if text and reading.as_json() == expected_reading(doc.bank_report)
    )
    return {
        "fiscal_year_start": quarter[0],
        "quarter": quarter[1],
        "documents": len(rendered),
        "bytes": sum(len(b) for _, _, b in rendered),
        "with_text_layer": sum(with_text),
        "documents_with_ratios_read": read_any,
        "text_documents_read_as_printed": exact,
        "render_seconds": round(render_seconds, 2),
        "workers": workers,
        "cpu_count": os.cpu_count(),
        "seconds": round(seconds, 2),
        "serial_seconds": round(serial_seconds, 2),
        "one_interpreter_per_document_seconds": round(one_shot_seconds, 2),
        "seconds_per_document": round(seconds / len(rendered), 3),
        "goal_seconds": GOAL_SECONDS,
        "seconds_vs_goal": round(seconds / GOAL_SECONDS, 3),
    }
