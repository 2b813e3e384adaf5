"""The date of a statement as the text gives it ("on 18 May 2023", a dateline "18.05.2023").

A release or a stream of items dates its statements in their headings ("Statement by ... in Minsk
on 18 May 2023") or in the sentence itself; a figure's statement is dated by the last such date at
or before it (within the quote first). A period ("from 19 to 23 May 2025") is not a statement date.
"""

import re
from datetime import date

MONTHS = {
    m: i + 1
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ]
    )
}
MONTH = "|".join(MONTHS)
DAY_MONTH_YEAR = re.compile(rf"\b[Oo]n\s+(\d{{1,2}})\s+({MONTH})\s+(\d{{4}})\b", re.IGNORECASE)
MONTH_DAY_YEAR = re.compile(rf"\b[Oo]n\s+({MONTH})\s+(\d{{1,2}}),?\s+(\d{{4}})\b", re.IGNORECASE)
DATELINE = re.compile(r"(?:^|\s)(\d{2})\.(\d{2})\.(\d{4})[ \t]*$", re.MULTILINE)


def _dates(text: str) -> list[tuple[int, date]]:
    """Every statement date in the text, with where it ends, in text order."""
    found: list[tuple[int, int, int, int]] = []  # end, year, month, day
    found += [(m.end(), int(m[3]), MONTHS[m[2].lower()], int(m[1])) for m in DAY_MONTH_YEAR.finditer(text)]
    found += [(m.end(), int(m[3]), MONTHS[m[1].lower()], int(m[2])) for m in MONTH_DAY_YEAR.finditer(text)]
    found += [(m.end(), int(m[3]), int(m[2]), int(m[1])) for m in DATELINE.finditer(text)]
    out: list[tuple[int, date]] = []
    for end, year, month, day in sorted(found):
        try:
            out.append((end, date(year, month, day)))
        except ValueError:  # "on 31 February 2023" is no date
            continue
    return out


def statement_date(text: str, quote_start: int, quote_end: int, latest: date | None = None) -> date | None:
    """The date of the statement a quote belongs to: the last date in the quote, else the last one
    before it; None when the text gives none (or only dates after `latest`, the publication date)."""
    usable = [(end, d) for end, d in _dates(text) if latest is None or d <= latest]
    inside = [d for end, d in usable if quote_start < end <= quote_end]
    if inside:
        return inside[-1]
    before = [d for end, d in usable if end <= quote_start]
    return before[-1] if before else None
