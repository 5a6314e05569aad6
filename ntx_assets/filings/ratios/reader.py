"""Reads the NRB ratios from a report's layout text (pure: text in, `RatioReading` out).

The text is what `documents.extract_layout_text` gives: pages separated by form feeds, each line laid out
with spaces so that a character's offset in its line stands for its horizontal position on the page.

How a figure is chosen:
1. The ratio table is found by its heading: "4 Ratios" (pre-NFRS) or "Ratios as per NRB Directive"
   (NFRS). It ends at "Additional Information" (pre-NFRS), at the next statement's heading (NFRS), at
   the page's end, or after more than three lines in a row that carry no figure.
2. A row is a line that ends in figures (percentages, "-", "NA"); its label is the text before them,
   joined with the figureless lines just above or below when a label wraps. The label must match one of
   the ratio's variants (labels.py) in full, else it is reported as not recognised.
3. Each figure's column is told by the headings above the table, by position: a figure belongs to the
   nearest heading of the lowest heading level (e.g. "Upto This Quarter (YTD)"), that heading to the
   nearest heading of the next level (e.g. "Current Year"), and so on ("Group" / "Bank"). The figure
   taken is the one under this quarter (pre-NFRS) or the current year (NFRS; its YTD column, else its
   This Quarter column), and under the bank's own heading where Group and Bank are both printed. A
   table whose headings do not say which column is this quarter's gives no figure at all.
4. A figure outside its plausible range (labels.PLAUSIBLE_RANGES) is set aside with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ntx_assets.filings.ratios import labels as L

PRE_NFRS = "pre_nfrs_unaudited"
NFRS = "nfrs_interim"
MIN_TEXT_CHARS = 40  # fewer letters and digits than this in the whole document: no text layer


@dataclass
class RatioReading:
    """What one document gave: its format, its period, the seven ratios (None where not read) and why.

    `as_json()` is the CLI's and the integration's form:
    {"format", "period": {"fiscal_year", "quarter", "as_at"} | None, "ratios": {...}, "problems": [...]}.
    """

    format: str | None
    period: dict[str, Any] | None
    ratios: dict[str, float | None] = field(default_factory=lambda: dict.fromkeys(L.RATIO_KEYS))
    problems: list[str] = field(default_factory=list)

    @property
    def read_count(self) -> int:
        return sum(value is not None for value in self.ratios.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "period": None if self.period is None else dict(self.period),
            "ratios": {key: self.ratios.get(key) for key in L.RATIO_KEYS},
            "problems": list(self.problems),
        }


def failed(reason: str) -> RatioReading:
    """The reading of a document that could not be read at all."""
    reading = RatioReading(format=None, period=None)
    reading.problems.append(reason)
    return reading


# ---------------------------------------------------------------------------------------------- tokens

_NUMBER = r"\(?[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\)?"
_VALUE_TOKEN = re.compile(rf"^(?P<prefix>[A-Za-z]{{3,}})?(?P<num>{_NUMBER})(?P<pct>%?)$")
_BLANK_TOKENS = frozenset({"-", "–", "—", "--", "na", "n/a", "n.a.", "nil", "*"})
_SERIAL_TOKEN = re.compile(r"^\d{1,2}(\.\d{1,2})?\.?$")
_SERIAL_MAX_COLUMN = 15
_CHUNK = re.compile(r"\S+(?: \S+)*")


@dataclass(frozen=True)
class Cell:
    text: str  # as printed ("11.37%", "-")
    value: float | None  # None for a blank ("-", "NA")
    start: int
    end: int

    @property
    def center(self) -> float:
        return (self.start + self.end) / 2


@dataclass
class Line:
    index: int
    text: str
    label: str  # the text before the figures, stripped
    label_end: int
    cells: list[Cell]


def _number(text: str) -> float:
    negative = text.startswith("(") and text.endswith(")")
    cleaned = text.strip("()").replace(",", "").replace("−", "-")
    value = float(cleaned)
    return -value if negative else value


def split_line(index: int, text: str) -> Line:
    """A line's label and the figures it ends in (read from the right until a token is no figure)."""
    tokens = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", text)]
    cells: list[Cell] = []
    position = len(tokens)
    while position > 0:
        start, end, token = tokens[position - 1]
        if token == "%" and position > 1 and _VALUE_TOKEN.match(tokens[position - 2][2]):
            # "11.37 %": the sign printed apart from its number.
            start, _, token = tokens[position - 2][0], end, tokens[position - 2][2] + "%"
            position -= 1
        match = _VALUE_TOKEN.match(token)
        if match is not None:
            number_start = start + (len(match.group("prefix") or ""))
            cells.append(Cell(token[number_start - start :], _number(match.group("num")), number_start, end))
        elif token.lower() in _BLANK_TOKENS:
            cells.append(Cell(token, None, start, end))
        else:
            break
        # A heading word glued to a figure ("Quarter11.52%") is heading, not label: the figure is kept.
        position -= 1
    cells.reverse()
    if (
        cells
        and position == 0
        and _SERIAL_TOKEN.match(cells[0].text)
        and cells[0].start < _SERIAL_MAX_COLUMN
        and len(cells) > 1
    ):
        # "4.5      79.11%  77.97%  75.23%": a serial number, its label wrapped onto the lines around.
        cells = cells[1:]
        position = 1
    label_end = tokens[position - 1][1] if position > 0 else 0
    label = text[:label_end].strip()
    return Line(index, text, label, label_end, cells)


# ------------------------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Anchor:
    level: str  # "period", "span" (This Quarter / YTD) or "entity" (Group / Bank)
    role: str
    start: int
    end: int

    @property
    def center(self) -> float:
        return (self.start + self.end) / 2


def _find_section(lines: list[str]) -> tuple[str, int] | None:
    for index, text in enumerate(lines):
        if L.PRE_NFRS_SECTION.search(text):
            return PRE_NFRS, index
        if L.NFRS_SECTION.search(text):
            return NFRS, index
    return None


def _header_anchors(format_: str, header: list[str], label_edge: int) -> list[Anchor]:
    anchors: list[Anchor] = []
    period_rules = L.PRE_NFRS_PERIOD if format_ == PRE_NFRS else L.NFRS_PERIOD
    for text in header:
        for chunk in _CHUNK.finditer(text):
            if chunk.end() <= label_edge:
                continue
            words = chunk.group()
            for level, rules in (("entity", L.ENTITY), ("span", L.NFRS_SPAN if format_ == NFRS else ())):
                role = next((r for r, pattern in rules if pattern.search(words)), None)
                if role is not None:
                    anchors.append(Anchor(level, role, chunk.start(), chunk.end()))
                    break
            else:
                role = next((r for r, pattern in period_rules if pattern.search(words)), None)
                if role is not None:
                    anchors.append(Anchor("period", role, chunk.start(), chunk.end()))
    return anchors


def _merged(anchors: list[Anchor]) -> list[Anchor]:
    """Headings of one level, those of one role stacked over each other ("Upto This" over "Quarter
    (YTD)") made one."""
    groups: list[Anchor] = []
    for anchor in sorted(anchors, key=lambda a: a.start):
        same = next(
            (g for g in groups if g.role == anchor.role and anchor.start <= g.end and g.start <= anchor.end),
            None,
        )
        if same is not None:
            groups[groups.index(same)] = Anchor(
                same.level, same.role, min(same.start, anchor.start), max(same.end, anchor.end)
            )
        else:
            groups.append(anchor)
    return sorted(groups, key=lambda a: a.start)


@dataclass(frozen=True)
class Level:
    anchors: list[Anchor]
    half_widths: list[float]  # half the distance to the nearest neighbouring heading of the level


def _levels(anchors: list[Anchor]) -> list[Level]:
    """The heading levels, lowest (the most headings) first."""
    default = {"span": 0, "period": 1, "entity": 2}
    by_level: dict[str, list[Anchor]] = {}
    for anchor in anchors:
        by_level.setdefault(anchor.level, []).append(anchor)
    merged = {level: _merged(found) for level, found in by_level.items()}
    order = sorted(merged, key=lambda level: (-len(merged[level]), default[level]))
    levels: list[Level] = []
    for name in order:
        found = merged[name]
        centers = [a.center for a in found]
        halves = []
        for i, center in enumerate(centers):
            gaps = [abs(center - other) for j, other in enumerate(centers) if j != i]
            halves.append(min(gaps) / 2 if gaps else 0.0)
        levels.append(Level(found, halves))
    return levels


def _roles(levels: list[Level], cell: Cell) -> dict[str, str]:
    """The headings a figure stands under. At the lowest level a figure is near its heading's centre
    (centred figures) or its right edge near the heading cell's right edge (right-aligned figures, the
    heading centred over them); above it, a heading is near the centre of the one it spans."""
    roles: dict[str, str] = {}
    position = cell.center
    for depth, level in enumerate(levels):

        def distance(
            i: int, level: Level = level, depth: int = depth, position: float = position
        ) -> tuple[float, int]:
            anchor = level.anchors[i]
            near = abs(anchor.center - position)
            if depth == 0:
                near = min(near, abs(cell.end - (anchor.center + level.half_widths[i])))
            return near, anchor.start

        nearest = level.anchors[min(range(len(level.anchors)), key=distance)]
        roles[nearest.level] = nearest.role
        position = nearest.center
    return roles


def _rows(lines: list[Line]) -> list[tuple[Line, str]]:
    """Each line with figures and its label, wrapped label lines joined (above, below, or both)."""
    rows: list[tuple[Line, str]] = []
    for position, line in enumerate(lines):
        if not line.cells:
            continue
        before = lines[position - 1] if position > 0 and not lines[position - 1].cells else None
        after = lines[position + 1] if position + 1 < len(lines) and not lines[position + 1].cells else None
        own = line.label
        candidates = [own]
        if after is not None:
            candidates.append(f"{own} {after.label}")
        if before is not None:
            candidates.append(f"{before.label} {own}")
        if before is not None and after is not None:
            candidates.append(f"{before.label} {own} {after.label}")
        chosen = next((c for c in candidates if L.ratio_for_label(c) is not None), None)
        if chosen is None:
            # Not one of the seven: report it as printed (its wrapped continuation if it has one).
            chosen = candidates[1] if len(own) < 3 and len(candidates) > 1 else own
        rows.append((line, re.sub(r"\s+", " ", chosen).strip()))
    return rows


def _section_lines(all_lines: list[str], format_: str, anchor: int) -> tuple[list[str], list[Line]]:
    """The heading lines above the first row, and the table's lines from the first row to its end."""
    header: list[str] = []
    if format_ == PRE_NFRS:
        above: list[str] = []
        for text in reversed(all_lines[max(0, anchor - 6) : anchor]):
            if "\f" in text or split_line(0, text).cells:
                break
            above.append(text)
        header.extend(reversed(above))
        header.append(all_lines[anchor])
    body: list[Line] = []
    quiet = 0
    end_pattern = L.PRE_NFRS_END if format_ == PRE_NFRS else L.NFRS_END
    for index in range(anchor + 1, min(len(all_lines), anchor + 80)):
        text = all_lines[index]
        if text.startswith("\f") and body:
            break
        text = text.lstrip("\f")
        if end_pattern.search(text) and (body or format_ == PRE_NFRS):
            break
        line = split_line(index, text)
        if not body and not line.cells:
            header.append(text)
            continue
        if line.cells:
            quiet = 0
        elif text.strip():
            quiet += 1
            if quiet > 3:
                break
        else:
            continue
        body.append(line)
    return header, body


def read_ratios_from_text(text: str) -> RatioReading:
    """The ratios a report's layout text prints (see the module's docstring for the rules)."""
    if sum(ch.isalnum() for ch in text) < MIN_TEXT_CHARS:
        return failed("no text layer: the PDF has no extractable text (an image or outlines only; no OCR)")
    all_lines = [line for page in text.split("\f") for line in ("\f" + page).split("\n")]
    all_lines[0] = all_lines[0].lstrip("\f")
    found = _find_section(all_lines)
    period = read_period(text)
    if found is None:
        reading = RatioReading(format=None, period=period)
        reading.problems.append(
            "no ratio table: neither '4 Ratios' nor 'Ratios as per NRB Directive' is printed"
        )
        return reading
    format_, anchor = found
    reading = RatioReading(format=format_, period=period)
    header, body = _section_lines(all_lines, format_, anchor)
    rows = _rows(body)
    if not rows:
        reading.problems.append("ratio table has no row with a figure")
        _name_missing(reading, set())
        return reading
    label_edge = max((line.label_end for line, _ in rows if line.label), default=0)
    anchors = _header_anchors(format_, header, label_edge)
    levels = _levels(anchors)
    has_period = any(a.level == "period" and a.role == "current" for a in anchors)
    has_entity = any(a.level == "entity" for a in anchors)
    if has_entity and not any(a.role == "bank" for a in anchors if a.level == "entity"):
        reading.problems.append("a Group column is printed but no Bank column heading is recognised")
        has_period = False
    if not has_period:
        reading.problems.append("column headings not recognised: cannot tell which column is this quarter's")
    seen: dict[str, str] = {}
    duplicated: set[str] = set()
    for line, label in rows:
        key = L.ratio_for_label(label)
        if key is None:
            figures = " ".join(cell.text for cell in line.cells)
            reading.problems.append(f"label not recognised: {label!r} ({figures})")
            continue
        if key in seen:
            duplicated.add(key)
            reading.problems.append(f"{key}: printed twice ({seen[key]!r} and {label!r}); neither is taken")
            reading.ratios[key] = None
            continue
        seen[key] = label
        if has_period:
            _take(reading, key, line, levels, has_entity)
    for key in duplicated:
        reading.ratios[key] = None
    _name_missing(reading, set(seen))
    return reading


def _take(reading: RatioReading, key: str, line: Line, levels: list[Level], has_entity: bool) -> None:
    chosen: dict[str, list[Cell]] = {}
    headings: dict[tuple[str, ...], int] = {}
    for cell in line.cells:
        roles = _roles(levels, cell)
        signature = tuple(sorted(roles.items()))
        headings[signature] = headings.get(signature, 0) + 1
        if roles.get("period") != "current" or (has_entity and roles.get("entity") != "bank"):
            continue
        chosen.setdefault(roles.get("span", ""), []).append(cell)
    if any(count > 1 for count in headings.values()):
        reading.problems.append(f"{key}: two figures under one column heading ({line.text.strip()!r})")
        return
    for span in ("ytd", "quarter", ""):
        figures = [cell for cell in chosen.get(span, []) if cell.value is not None]
        if figures:
            cell = figures[0]
            low, high = L.PLAUSIBLE_RANGES[key]
            assert cell.value is not None
            if not low <= cell.value <= high:
                reading.problems.append(
                    f"{key}: {cell.text} is outside the plausible range {low:g} to {high:g}%; set aside"
                )
                return
            reading.ratios[key] = cell.value
            return
    printed = [cell.text for cells in chosen.values() for cell in cells]
    if printed:
        reading.problems.append(f"{key}: printed as {' '.join(printed)!r} in this quarter's column")
    else:
        reading.problems.append(f"{key}: no figure in this quarter's column")


def _name_missing(reading: RatioReading, seen: set[str]) -> None:
    for key in L.RATIO_KEYS:
        if key not in seen:
            reading.problems.append(f"{key}: not printed in the ratio table")


# ------------------------------------------------------------------------------------------- the period

_MONTHS = {
    "baisakh": 1, "baishakh": 1, "jestha": 2, "jeth": 2, "ashadh": 3, "asadh": 3, "asar": 3, "ashad": 3,
    "shrawan": 4, "saun": 4, "bhadra": 5, "bhadau": 5, "ashwin": 6, "asoj": 6, "ashoj": 6,
    "kartik": 7, "mangsir": 8, "marga": 8, "poush": 9, "paush": 9, "push": 9,
    "magh": 10, "falgun": 11, "phalgun": 11, "chaitra": 12, "chait": 12,
}  # fmt: skip
_QUARTER_OF_MONTH = {6: 1, 9: 2, 12: 3, 3: 4}  # Asoj, Poush, Chaitra, Asar end the fiscal quarters
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}
_FISCAL_YEAR = re.compile(r"(?:fiscal|financial)\s+year\s*[:\-]?\s*(\d{4})\s*[/\-]\s*(\d{2,4})", re.I)
_QUARTER_WORD = re.compile(r"\b(first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter\b", re.I)
_NUMERIC_DATE = re.compile(r"quarter\s*\((\d{1,2}[/.]\d{1,2}[/.]20[4-9]\d)\)", re.I)
_QUARTER_ENDED = re.compile(
    r"(?:quarter\s+end(?:ed|ing)|as\s+(?:on|at)(?:\s+end\s+of)?)\s*(?:on\s+)?"
    r"(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+),?\s+(20[4-9]\d)",
    re.I,
)


def _fiscal_year(first: int, second: str) -> str:
    return f"{first}/{second[-2:]}"


def read_period(text: str) -> dict[str, Any] | None:
    """{"fiscal_year": "2076/77", "quarter": 2, "as_at": "29 Poush 2076"} as far as the document says.

    The fiscal year and quarter are the document's words where it prints them ("of the Fiscal Year
    2068/69", "4th Quarter"); else they follow from its quarter-end date in Bikram Sambat (a fiscal year
    runs Shrawan to Asar; Asoj, Poush, Chaitra and Asar end its quarters).
    """
    head = text[:200_000]
    fiscal_year = quarter = as_at = None
    month = year = None
    for match in _QUARTER_ENDED.finditer(head):
        number = _MONTHS.get(match.group(2).lower())
        if number is not None:
            as_at = f"{int(match.group(1))} {match.group(2).capitalize()} {match.group(3)}"
            month, year = number, int(match.group(3))
            break
    if as_at is None:
        dated = _NUMERIC_DATE.search(head)
        if dated is not None:
            as_at = dated.group(1)
            parts = re.split(r"[/.]", as_at)
            month, year = int(parts[1]), int(parts[2])
    found_year = _FISCAL_YEAR.search(head)
    if found_year is not None:
        fiscal_year = _fiscal_year(int(found_year.group(1)), found_year.group(2))
    found_quarter = _QUARTER_WORD.search(head)
    if found_quarter is not None:
        quarter = _ORDINALS[found_quarter.group(1).lower()]
    if month is not None and year is not None:
        if quarter is None:
            quarter = _QUARTER_OF_MONTH.get(month)
        if fiscal_year is None and 1 <= month <= 12:
            start = year if month >= 4 else year - 1
            fiscal_year = _fiscal_year(start, str(start + 1))
    if fiscal_year is None and quarter is None and as_at is None:
        return None
    return {"fiscal_year": fiscal_year, "quarter": quarter, "as_at": as_at}
