"""The NRB ratios of banks, development banks, finance companies and microfinance institutions, read from
the text layer of their quarterly report PDFs (no OCR). See docs/report-ratios.md.

    from ntx_assets.filings.ratios import read_report_ratios
    reading = read_report_ratios("report.pdf")  # or the PDF's bytes
    reading.as_json()  # {"format", "period", "ratios": {...seven keys...}, "problems": [...]}

`reader` is pure (layout text in, `RatioReading` out); `documents` opens a PDF within bounds (bytes,
pages, seconds, memory) in a child process, and `server` does the same for many documents through one
long-lived child that forks per document; `labels` holds the label variants and plausible ranges;
`results` turns a reading into its stored row.
"""

from __future__ import annotations

import os

from ntx_assets.filings.ratios.documents import DEFAULT_LIMITS, Extracted, Limits, extract_layout_text
from ntx_assets.filings.ratios.labels import PLAUSIBLE_RANGES, RATIO_KEYS
from ntx_assets.filings.ratios.reader import NFRS, PRE_NFRS, RatioReading, failed, read_ratios_from_text
from ntx_assets.filings.ratios.server import LayoutServer

__all__ = [
    "DEFAULT_LIMITS",
    "NFRS",
    "PLAUSIBLE_RANGES",
    "PRE_NFRS",
    "RATIO_KEYS",
    "Extracted",
    "LayoutServer",
    "Limits",
    "RatioReading",
    "read_ratios_from_text",
    "read_report_ratios",
]


def read_report_ratios(
    path_or_bytes: str | os.PathLike[str] | bytes,
    limits: Limits = DEFAULT_LIMITS,
    server: LayoutServer | None = None,
) -> RatioReading:
    """The NRB ratios one report document prints, never raising for a bad document.

    `path_or_bytes` is a PDF's path or its bytes. The result always has the seven ratio keys
    (`RATIO_KEYS`), each a float in percent (12.45 for "12.45%") or None; `problems` names every ratio
    not read and why, and, when nothing could be read, the document's reason: too big, too many pages,
    too slow, malformed, no text layer, no ratio table. `format` is "pre_nfrs_unaudited", "nfrs_interim"
    or None; `period` is {"fiscal_year": "2076/77", "quarter": 2, "as_at": "29 Poush 2076"} as far as
    the document says, or None. The PDF is parsed in a child process bounded by `limits`
    (documents.Limits: 20 MiB, 60 pages, 30 s, 1 GiB by default); one call takes about half a second
    for a one-page report. With a `server` (server.LayoutServer, whose own limits then hold), the same
    bounded parse costs a fork instead of an interpreter start: about 0.03 s; for many documents.
    """
    if server is None:
        extracted = extract_layout_text(path_or_bytes, limits)
    else:
        extracted = server.extract(path_or_bytes)
    if extracted.error is not None or extracted.text is None:
        return failed(extracted.error or "no text extracted")
    return read_ratios_from_text(extracted.text)
