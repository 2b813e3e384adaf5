"""Numbers that are not figures: dates, times, phones, file names, ordinals, durations, shares, names,
references to legal provisions and documents.

Each rule returns the reason it skips a number, so a curator (or a test) can see why a number in a
text did not become a candidate.
"""

import re

from app.domain.text.numbers import NumberMatch
from app.domain.text.sentences import FILE_NAME_RE, Span

MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
    "|января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_RANGE = r"\s*(?:-|–|—|to|and|по|и)\s*"  # Russian: "с 22 по 26 сентября"
# Spans of the text whose digits are never figures, with the reason.
_MASKS: list[tuple[str, re.Pattern[str]]] = [
    ("file name", FILE_NAME_RE),
    ("web address", re.compile(r"(?:https?://|www\.)\S+|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("phone number", re.compile(r"\+\d[\d \t()\-]{7,}\d")),
    ("date", re.compile(r"(?<![\d.])\d{1,2}\.\d{1,2}\.\d{2,4}(?![\d])|\b\d{4}-\d{2}-\d{2}\b")),
    ("time", re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")),
    ("date", re.compile(rf"\b(?:{_DAY}{_RANGE})?{_DAY}\s+(?:of\s+)?(?:{MONTHS})\b")),
    ("date", re.compile(rf"\b(?:{MONTHS})\.?\s+{_DAY}\b(?:{_RANGE}{_DAY}\b)?")),
    ("year range", re.compile(r"\b(?:19|20)\d{2}\s*(?:-|–|—)\s*(?:19|20)?\d{2}\b")),
]
_ORDINAL_RE = re.compile(r"(?:st|nd|rd|th)\b", re.IGNORECASE)
_DURATION_RE = re.compile(
    r"\s*-?\s*(?:years?|months?|weeks?|days?|hours?|minutes?|decades?|centur(?:y|ies)"
    r"|лет|года?|году|месяц(?:а|ев)?|недел[ьиюя]|дн(?:я|ей)|день|сут(?:ки|ок)|час(?:а|ов)?|минут)(?!\w)",
    re.IGNORECASE,
)
_SHARE_RE = re.compile(r"\s*(?:%|percent\b|per\s+cent\b|процент)", re.IGNORECASE)
# Measures no metric counts: areas and lengths (e.g. "233,000 hectares", "625 km section of the border").
_MEASURE_RE = re.compile(
    r"\s*(?:hectares?|ha|km|kilomet(?:re|er)s?|met(?:re|er)s?|miles?|sq\.?\s*km|square"
    r"|гектар\w*|га|км|километр\w*|метр\w*|кв\.)(?!\w)",
    re.IGNORECASE,
)
_YEAR_RE = re.compile(r"(?:19|20)\d{2}")
# Numbers that name a legal provision or a document: "Article 228", "Part 2", "Resolution No. 5".
_REFERENCE_RE = re.compile(
    r"\b(?:articles?|art\.|part|paragraph|para\.|clause|item|no\.|nos\.|number|resolution|decision|"
    r"decree|protocol|стат(?:ья|ьи|ье|ьей)|ст\.|част(?:ь|и)|ч\.|пункт\w*|п\.)\s*$|[§#№]\s*$",
    re.IGNORECASE,
)


def masked_spans(text: str) -> list[tuple[Span, str]]:
    """Spans of the text that hold no figures (dates, times, phones, file names), with the reason."""
    return [(Span(m.start(), m.end()), why) for why, rx in _MASKS for m in rx.finditer(text)]


def skip_reason(text: str, match: NumberMatch, *, masked: str | None, mass_unit_follows: bool) -> str | None:
    """Why the number is not a figure of an operation (`masked`: the reason of a masked span it is
    in, see masked_spans), or None when it may be one."""
    if masked is not None:
        return masked
    after = text[match.end : match.end + 40]
    before = text[max(0, match.start - 2) : match.start]
    checks = (
        ("ordinal", bool(_ORDINAL_RE.match(after))),
        ("part of a name", len(before) == 2 and before[1] == "-" and before[0].isalpha()),
        ("reference number", bool(_REFERENCE_RE.search(text[max(0, match.start - 14) : match.start]))),
        ("list item number", _is_list_mark(text, match)),
        ("year", _is_year(match) and not mass_unit_follows),
        ("duration", bool(_DURATION_RE.match(after))),
        ("percentage", bool(_SHARE_RE.match(after))),
        ("area or length", bool(_MEASURE_RE.match(after))),
    )
    return next((why for why, hit in checks if hit), None)


def _is_year(match: NumberMatch) -> bool:
    """A bare four-digit number from 1900 to 2099 ("Since 2003", "the 2025 Road Map")."""
    return bool(_YEAR_RE.fullmatch(match.text))


def _is_list_mark(text: str, match: NumberMatch) -> bool:
    """A number opening a line and followed by "." or ")" ("1. Resolution of crisis situations")."""
    line_start = text.rfind("\n", 0, match.start) + 1
    if text[line_start : match.start].strip(" \t\u00a0-•"):
        return False
    return bool(re.match(r"[.)]\s", text[match.end : match.end + 2]))
