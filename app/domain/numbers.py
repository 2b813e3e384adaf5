"""Numbers as sources write them ("8.9", "6,500", "4 thousand", "1.8 million") and their qualifiers."""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from app.models.enums import Qualifier

SCALES = {"thousand": Decimal(1000), "million": Decimal(10) ** 6, "billion": Decimal(10) ** 9}

NUMBER_RE = re.compile(
    r"(?<![\w.,])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s+(?P<scale>thousand|million|billion)\b)?",
    re.IGNORECASE,
)

# Longest phrases first, so "no more than" is not read as "more than".
QUALIFIER_WORDS: list[tuple[str, Qualifier]] = [
    ("more than", Qualifier.more_than),
    ("over", Qualifier.more_than),
    ("in excess of", Qualifier.more_than),
    ("exceeding", Qualifier.more_than),
    ("approximately", Qualifier.about),
    ("about", Qualifier.about),
    ("around", Qualifier.about),
    ("nearly", Qualifier.almost),
    ("almost", Qualifier.almost),
    ("up to", Qualifier.up_to),
]
_QUALIFIER_RE = re.compile(
    r"(?:^|[^\w])(?P<q>" + "|".join(re.escape(w) for w, _ in QUALIFIER_WORDS) + r")\s+$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class NumberMatch:
    """One number in a text: where it is, how it is written, what it is worth."""

    start: int
    end: int
    text: str
    value: Decimal


def parse_number(text: str) -> Decimal:
    """The value of a number as written ("1.8 million" → 1800000); ValueError if it is none."""
    m = NUMBER_RE.fullmatch(text.strip())
    if not m:
        raise ValueError(f"not a number: {text!r}")
    return _value(m)


def _value(m: re.Match[str]) -> Decimal:
    try:
        base = Decimal(m.group("num").replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only digits
        raise ValueError(m.group(0)) from exc
    scale = m.group("scale")
    return base * SCALES[scale.lower()] if scale else base


def find_numbers(text: str) -> list[NumberMatch]:
    """Every number in `text`, with number words applied."""
    return [NumberMatch(m.start(), m.end(), m.group(0), _value(m)) for m in NUMBER_RE.finditer(text)]


def qualifier_before(text: str, start: int) -> Qualifier:
    """The qualifier written just before position `start` ("more than 8.9" → more_than)."""
    window = text[max(0, start - 24) : start]
    m = _QUALIFIER_RE.search(window)
    if not m:
        return Qualifier.exact
    word = m.group("q").lower()
    return next(q for w, q in QUALIFIER_WORDS if w == word)


def as_decimal(value: float | int | Decimal | str) -> Decimal:
    """A float from JSON or YAML as the decimal it was written as (8.9, not 8.9000000001)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))
