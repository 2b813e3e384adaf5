"""Spreadsheet cells: what a CSV consumer's spreadsheet would run as a formula, and how it is kept
from running (OWASP's defence against CSV formula injection)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

BATCH_ROWS = 2000  # rows of one CSV chunk
FORMULA_STARTS = frozenset("=+-@\t\r")  # what spreadsheets may run as a formula


def neutralise(text: str) -> str:
    """A text cell a spreadsheet will not run: a leading `'` before `=`, `+`, `-`, `@`, tab or CR."""
    return "'" + text if text and text[0] in FORMULA_STARTS else text


@dataclass
class Neutralised:
    """Batches of rows of cells in header order whose text cells were neutralised where they were
    made (a query that applies FORMULA_STARTS itself, the fast path of a million rows): each batch
    written as it is, one chunk of the response."""

    batches: Iterable[Sequence[Sequence[Any]]]
