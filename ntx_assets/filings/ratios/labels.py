"""The labels of the NRB ratios as the two report formats print them, and of their column headings.

A row label is normalised (`normalise_label`: case, spacing, hyphens, "&", the "(%)" and serial number
stripped, and the qualifiers in `_QUALIFIERS` removed) and then must match one of a ratio's patterns in
full: a label that matches none is "not recognised", never taken for the nearest one.

Pre-NFRS "Unaudited Financial Results (Quarterly)", section "4 Ratios":
    4.1 Capital Fund to Risk Weighted Assets (RWA)
    4.2 Non Performing Loan (NPL) to Total Loan
    4.3 Total Loan Loss Provision to Total NPL
    4.4 Cost of Fund (Annualized)
    4.5 Credit to Deposit Ratio (Calculated as per NRB Directives)
    4.6 Base Rate
    4.7 Average Monthly Interest Rate Spread LCY (Calculated as per NRB Directives)
NFRS interim report, "Ratios as per NRB Directive":
    Capital Fund to RWA (%); Non-Performing Loan (NPL) to Total Loan (%); Total Loan Loss Provision to
    Total NPL (%); Cost of Funds (%); Credit to Deposit Ratio (CCD Ratio as per NRB) (%); Base Rate (%);
    Interest Rate Spread (%)
Microfinance institutions print "Credit to Deposit and Borrowing Ratio" where banks print the CD ratio.
"""

from __future__ import annotations

import re

RATIO_KEYS: tuple[str, ...] = (
    "capital_fund_to_rwa_pct",
    "npl_pct",
    "provision_to_npl_pct",
    "cost_of_funds_pct",
    "cd_ratio_pct",
    "base_rate_pct",
    "spread_pct",
)

# Plausible ranges, inclusive, in percent. A figure outside is set aside (a misread column, a ratio
# printed as a fraction, an amount in the wrong row), never clipped.
PLAUSIBLE_RANGES: dict[str, tuple[float, float]] = {
    # NRB's minimum is 11% (10% plus buffer); a negative capital fund (a failing institution) is set
    # aside too: it is rare enough that a person should look.
    "capital_fund_to_rwa_pct": (0.0, 100.0),
    "npl_pct": (0.0, 100.0),
    # Total provision (general provision on pass loans included) over NPL: several hundred percent when
    # NPL is tiny (NSBL printed 657.59% at 0.19% NPL).
    "provision_to_npl_pct": (0.0, 2000.0),
    "cost_of_funds_pct": (0.0, 25.0),
    # Credit to deposit (90% cap for banks); microfinance's credit to deposit and borrowing likewise.
    "cd_ratio_pct": (0.0, 200.0),
    "base_rate_pct": (0.0, 30.0),
    "spread_pct": (0.0, 20.0),
}

# Parenthesised or trailing qualifiers that do not change which ratio a label names.
_QUALIFIERS = (
    r"\(calculated as per nrb directives?\)",
    r"\(as per nrb directives?\)",
    r"\(ccd ratio as per nrb\)",
    r"\(cd ratio as per nrb\)",
    r"\(as per nrb\)",
    r"\(annuali[sz]ed\)",
    r"\(lcy\)",
    r"\(local currency\)",
    r"\(ytd\)",
    r"\(rwa\)",
    r"\(npl\)",
    r"\(car\)",
    r"\(%\)",
    r"\bin %",
    r"%",
)

_PATTERNS: dict[str, tuple[str, ...]] = {
    "capital_fund_to_rwa_pct": (
        r"(total )?capital fund to (risk weighted assets|rwa)( ratio)?",
        r"capital adequacy( ratio)?",
    ),
    "npl_pct": (
        r"non performing loans? to total loans?( and advances)?",
        r"npl to total loans?( and advances)?",
    ),
    "provision_to_npl_pct": (r"(total )?loan loss provisions? to (total )?(npl|non performing loans?)",),
    "cost_of_funds_pct": (r"(average )?cost of funds?",),
    "cd_ratio_pct": (
        r"credit to deposit ratio",
        r"credit to deposit and borrowings? ratio",
        r"credit to core capital (cum|and) deposit ratio",
        r"c ?c ?d ratio",
        r"c ?d ratio",
    ),
    "base_rate_pct": (r"(average )?base rate",),
    "spread_pct": (
        r"(average )?(monthly )?interest rate spread( lcy)?",
        r"(average )?(monthly )?interest spread( rate)?( lcy)?",
    ),
}

_COMPILED = {key: tuple(re.compile(p) for p in patterns) for key, patterns in _PATTERNS.items()}
_QUALIFIER_RE = re.compile("|".join(_QUALIFIERS))
_SERIAL = re.compile(r"^\(?\d{1,2}(\.\d{1,2}){0,2}[.)]?\s+|^\(?[a-z]\)\s+|^[a-z]\.\s+")


def normalise_label(text: str) -> str:
    """Lower case, single spaces, "-" and "&" spelled out, serial number and qualifiers removed."""
    label = text.lower().replace("&", " and ").replace("–", "-")
    label = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", label)
    label = re.sub(r"\(\s+", "(", label)
    label = re.sub(r"\s+\)", ")", label)
    label = re.sub(r"\s+", " ", label).strip()
    label = _SERIAL.sub("", label)
    label = _QUALIFIER_RE.sub(" ", label)
    label = re.sub(r"[\s:.\-]+$", "", label)
    return re.sub(r"\s+", " ", label).strip()


def ratio_for_label(text: str) -> str | None:
    """The ratio key a row label names, or None when it names none of them."""
    label = normalise_label(text)
    for key, patterns in _COMPILED.items():
        if any(p.fullmatch(label) for p in patterns):
            return key
    return None


# Section headings.
PRE_NFRS_SECTION = re.compile(r"^\s*4\.?\s+Ratios\b", re.IGNORECASE)
PRE_NFRS_END = re.compile(r"^\s*(\d\.?\s+)?Additional\s+Information\b|^\s*5\.?\s+[A-Z]", re.IGNORECASE)
NFRS_SECTION = re.compile(r"Ratios\s+as\s+per\s+NRB\s+Directives?", re.IGNORECASE)
NFRS_END = re.compile(r"Statement\s+of|^\s*Notes?\b|^\s*Additional\s+Information\b", re.IGNORECASE)

# Column headings, one chunk of a heading line at a time (see reader._header_anchors).
# Pre-NFRS: This Quarter / Previous Quarter / Corresponding Previous Year Quarter.
PRE_NFRS_PERIOD = (
    ("previous_year", re.compile(r"corresponding|previous\s+year", re.IGNORECASE)),
    ("previous_quarter", re.compile(r"previous\s+quarter|^previous$", re.IGNORECASE)),
    ("current", re.compile(r"\bthis\b|\bcurrent\b", re.IGNORECASE)),
)
# NFRS: Current Year (or Quarter) / Previous Year (Corresponding Previous Year Quarter), each with This
# Quarter and Upto This Quarter (YTD).
NFRS_PERIOD = (
    ("previous_year", re.compile(r"corresponding|previous\s+year|^previous$", re.IGNORECASE)),
    ("current", re.compile(r"\bcurrent\b", re.IGNORECASE)),
)
NFRS_SPAN = (
    ("ytd", re.compile(r"\bytd\b|\bup\s*to\b", re.IGNORECASE)),
    ("quarter", re.compile(r"^this\s+quarter$", re.IGNORECASE)),
)
ENTITY = (
    ("group", re.compile(r"^(the\s+)?(group|consolidated)$", re.IGNORECASE)),
    ("bank", re.compile(r"^(the\s+)?(bank|bank\s+alone|bank\s+only|standalone|company)$", re.IGNORECASE)),
)
