"""Numbers as sources write them and their qualifiers.

Forms read: digits with comma, space or no-break-space thousands separators ("6,500", "137 795");
decimal points, and decimal commas ("2,6 t"; "1,500" is a decimal comma only in a text that
groups thousands with spaces and writes decimal commas elsewhere); scale words and abbreviations
after digits ("4 thousand", "1.8 million", "1.5 bln", "84 mln", "3 thous.", "50k"); numbers in
words ("Twelve", "two thousand", "one hundred and five", read by text2num) and "a dozen".
"""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from text_to_num import text2num

from app.domain.text import numbers_ru
from app.domain.text.languages import CYRILLIC_LANGUAGE, detect_language
from app.domain.vocabulary import Qualifier

MILLION = Decimal(10) ** 6
SCALES = {
    "hundred": Decimal(100),
    "thousand": Decimal(1000),
    "thous": Decimal(1000),
    "thous.": Decimal(1000),
    "k": Decimal(1000),
    "million": MILLION,
    "mln": MILLION,
    "mn": MILLION,
    "billion": Decimal(10) ** 9,
    "bln": Decimal(10) ** 9,
    "bn": Decimal(10) ** 9,
}
_GAP = r"[ \u00a0\u202f]"  # a space, a no-break space or a narrow no-break space
_SCALE = (
    rf"(?:{_GAP}*(?P<scale>hundred|thousand|million|billion|mln|bln|mn|bn|thous\.?)(?![\w])"
    rf"|{_GAP}*(?P<ru_scale>{numbers_ru.DIGIT_SCALE})(?![\w])"
    rf"(?:{_GAP}+(?P<rest>\d{{1,3}})(?![\d.,]|{_GAP}\d))?"
    r"|(?P<k>[kK])(?![\w]))"
)
_DIGITS = (
    r"(?<![\w.,])(?P<num>"
    r"\d{1,3}(?:,\d{3})+(?:\.\d+)?"  # 6,500 / 1,234.5
    rf"|\d{{1,3}}(?:{_GAP}\d{{3}})+(?:,\d{{1,2}}(?!\d))?(?![\d])"  # 137 795 / 1 512,5
    r"|\d+(?:[.,]\d+)?"  # 8.9 / 2,6 / 2000
    r")"
)
NUMBER_RE = re.compile(_DIGITS + rf"(?:{_SCALE})?", re.IGNORECASE)

_UNITS = "one|two|three|four|five|six|seven|eight|nine"
_TEENS = "ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_CARDINAL = rf"(?:(?:{_TENS})(?:[- \u00a0](?:{_UNITS}))?|{_TEENS}|{_UNITS})"
_WORD_SCALE = r"(?:hundred|thousand|million|billion)"
_WORD_PART = rf"(?:{_CARDINAL}(?:\s+{_WORD_SCALE})*)"
# "two thousand", "one hundred and five", "a thousand", "a dozen", "two dozen"; never "dozens".
WORDS_RE = re.compile(
    rf"(?<![\w-])(?P<words>(?:{_WORD_PART}|a\s+{_WORD_SCALE}(?:\s+{_WORD_SCALE})*)"
    rf"(?:(?:\s+and\s+|\s+|-){_WORD_PART})*)(?:\s+(?P<dozen>dozen))?(?![\w-])"
    rf"|(?<![\w-])(?P<a_dozen>a\s+dozen)(?![\w-])",
    re.IGNORECASE,
)
# "one" is a figure in "one laboratory", not in "one of the", "one another", "no one".
_NOT_A_NUMBER_AFTER = re.compile(r"\s+(?:of|another|or|by|side|hand|day|way|time)\b", re.IGNORECASE)
_NOT_A_NUMBER_BEFORE = re.compile(r"\b(?:no|any|every|each|some|which|this|that|the)\s+$", re.IGNORECASE)
# A text writes decimal commas when it groups thousands with spaces and has "2,6"-style numbers.
_SPACE_GROUPED_RE = re.compile(rf"(?<![\d,.])\d{{1,3}}{_GAP}\d{{3}}(?![\d])")
_DECIMAL_COMMA_RE = re.compile(r"(?<![\d,.])\d+,\d{1,2}(?![\d,])")
_COMMA_GROUPED_RE = re.compile(r"\d,\d{3}(?:,\d{3}|\.\d)")

# Longest phrases first, so "no more than" is never read as "more than" (see CONTRACT "Qualifiers").
QUALIFIER_WORDS: list[tuple[str, Qualifier]] = sorted(
    [
        ("more than", Qualifier.more_than),
        ("over", Qualifier.more_than),
        ("well over", Qualifier.more_than),
        ("just over", Qualifier.more_than),
        ("in excess of", Qualifier.more_than),
        ("exceeding", Qualifier.more_than),
        ("above", Qualifier.more_than),
        ("upwards of", Qualifier.more_than),
        ("at least", Qualifier.at_least),
        ("not less than", Qualifier.at_least),
        ("no less than", Qualifier.at_least),
        ("not fewer than", Qualifier.at_least),
        ("no fewer than", Qualifier.at_least),
        ("a minimum of", Qualifier.at_least),
        ("some", Qualifier.about),
        ("around", Qualifier.about),
        ("roughly", Qualifier.about),
        ("approximately", Qualifier.about),
        ("approx.", Qualifier.about),
        ("an estimated", Qualifier.about),
        ("about", Qualifier.about),
        ("nearly", Qualifier.almost),
        ("almost", Qualifier.almost),
        ("close to", Qualifier.almost),
        ("just under", Qualifier.almost),
        ("up to", Qualifier.up_to),
        ("no more than", Qualifier.up_to),
        ("not more than", Qualifier.up_to),
        ("at most", Qualifier.up_to),
        ("a maximum of", Qualifier.up_to),
        ("less than", Qualifier.less_than),
        ("fewer than", Qualifier.less_than),
        ("under", Qualifier.less_than),
        ("below", Qualifier.less_than),
        ("as many as", Qualifier.exact),
        ("as much as", Qualifier.exact),
        *numbers_ru.QUALIFIER_WORDS,
    ],
    key=lambda p: len(p[0]),
    reverse=True,
)
_QUALIFIER_OF = {w: q for w, q in QUALIFIER_WORDS}
# A currency sign or code may stand between the qualifier and the number ("more than $ 84 million").
_QUALIFIER_RE = re.compile(
    r"(?:^|[^\w])(?P<q>" + "|".join(re.escape(w) for w, _ in QUALIFIER_WORDS) + r")"
    r"\s+(?:(?:US\s?\$|\$|€|₽|USD|EUR|RUB)\s*)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class NumberMatch:
    """One number in a text: where it is, how it is written, what it is worth."""

    start: int
    end: int
    text: str
    value: Decimal


def uses_decimal_commas(text: str) -> bool:
    """True for a Russian text, or when the text groups thousands with spaces, writes decimals with
    a comma and never groups thousands with commas ("1,234,567", "1,234.5")."""
    if detect_language(text) == CYRILLIC_LANGUAGE:
        return True  # Russian writes "1 300" and "5,7", never "1,300"
    return bool(
        _SPACE_GROUPED_RE.search(text)
        and _DECIMAL_COMMA_RE.search(text)
        and not _COMMA_GROUPED_RE.search(text)
    )


def parse_number(text: str, *, decimal_comma: bool = False) -> Decimal:
    """The value of a number as written ("1.8 million" → 1800000); ValueError if it is none."""
    found = find_numbers(text.strip(), decimal_comma=decimal_comma)
    if len(found) != 1 or found[0].text != text.strip():
        raise ValueError(f"not a number: {text!r}")
    return found[0].value


def _digits_value(num: str, decimal_comma: bool) -> Decimal:
    """The value of the digits of a number ("137 795", "6,500", "2,6")."""
    num = re.sub(_GAP, "", num)
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", num) and not decimal_comma:
        num = num.replace(",", "")
    else:
        num = num.replace(",", ".")
    try:
        return Decimal(num)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only digits
        raise ValueError(num) from exc


def _scaled(m: re.Match[str], decimal_comma: bool) -> Decimal:
    """The digits times their scale word ("1,5 млн"), plus digits after a Russian one ("2 тысячи 500")."""
    base = _digits_value(m.group("num"), decimal_comma)
    if m.group("ru_scale"):
        ru_scale = numbers_ru.scale_value(m.group("ru_scale")) or Decimal(1)
        return base * ru_scale + Decimal(m.group("rest") or 0)
    scale = m.group("scale") or m.group("k")
    return base * SCALES[scale.lower()] if scale else base


def _words_value(m: re.Match[str]) -> Decimal | None:
    """The value of a number in words, or None when text2num does not read it as one number."""
    if m.group("a_dozen"):
        return Decimal(12)
    words = re.sub(r"\s+", " ", m.group("words").lower().replace("-", " "))
    words = re.sub(r"^a ", "one ", words)
    try:
        value = Decimal(text2num(words, "en"))
    except ValueError:
        return None
    return value * 12 if m.group("dozen") else value


def _word_numbers(text: str) -> list[NumberMatch]:
    """Numbers written in words, except "one" used as a pronoun ("one of the", "no one")."""
    out = []
    for m in WORDS_RE.finditer(text):
        value = _words_value(m)
        if value is None or value == 0:
            continue
        if m.group(0).lower() == "one" and (
            _NOT_A_NUMBER_AFTER.match(text, m.end()) or _NOT_A_NUMBER_BEFORE.search(text[: m.start()])
        ):
            continue
        out.append(NumberMatch(m.start(), m.end(), m.group(0), value))
    return out


def find_numbers(text: str, *, decimal_comma: bool | None = None) -> list[NumberMatch]:
    """Every number in `text` in digits or words, with scale words applied, in text order.

    `decimal_comma` None decides from the text itself (uses_decimal_commas)."""
    dc = uses_decimal_commas(text) if decimal_comma is None else decimal_comma
    digits = [NumberMatch(m.start(), m.end(), m.group(0), _scaled(m, dc)) for m in NUMBER_RE.finditer(text)]
    taken = [(n.start, n.end) for n in digits]
    spelled = _word_numbers(text) + [
        NumberMatch(a, b, text[a:b], v) for a, b, v in numbers_ru.word_numbers(text)
    ]
    words = [w for w in spelled if not any(a < w.end and w.start < b for a, b in taken)]
    if decimal_comma is None and not dc:
        digits = _parts_within_total(text, digits)
    return sorted(digits + words, key=lambda n: n.start)


# "12,4 tons of drugs, including 8,215 tons": a part cannot exceed its total, so "8,215" is a
# decimal comma. The cue follows the total's noun phrase (up to six words) in the same sentence.
_PARTS_CUE_RE = re.compile(
    r"(?:[ \t\u00a0]+[^\W\d_]+){0,6}[\s,(]+(?:including|of\s+which|among\s+them|в\s+том\s+числе|из\s+них)\b",
    re.IGNORECASE,
)
_AMBIGUOUS_RE = re.compile(r"\d{1,3},\d{3}")
_TOTAL_RE = re.compile(r"\d+,\d{1,2}")
_SENTENCE_END_RE = re.compile(r"[.!?](?:\s|$)")


def _parts_within_total(text: str, digits: list[NumberMatch]) -> list[NumberMatch]:
    """Read "d,ddd" after a decimal-comma total and "including" as decimals when, read as
    thousands, the part would exceed the total and, read as decimals, it does not."""
    out: list[NumberMatch] = []
    total: NumberMatch | None = None
    for n in digits:
        if total is not None and _SENTENCE_END_RE.search(text, total.end, n.start):
            total = None
        plain = Decimal(n.text.replace(",", ".")) if _AMBIGUOUS_RE.fullmatch(n.text) else None
        if total is not None and plain is not None and n.value > total.value >= plain:
            n = NumberMatch(n.start, n.end, n.text, plain)
        elif _TOTAL_RE.fullmatch(n.text) and _PARTS_CUE_RE.match(text, n.end):
            total = n
        out.append(n)
    return out


def qualifier_before(text: str, start: int) -> Qualifier:
    """The qualifier written just before position `start` ("more than 8.9" → more_than)."""
    lo = max(0, start - 32)
    m = _QUALIFIER_RE.search(text[lo:start])
    if not m or (m.start("q") == 0 and lo > 0 and text[lo - 1].isalnum()):
        return Qualifier.exact
    return _QUALIFIER_OF[re.sub(r"\s+", " ", m.group("q").lower())]


# "500 kg or more", "60 drug groups or more": up to three words (unit, counted noun) between, no
# punctuation; never "or more than ...", "or more precisely", "and more importantly".
_QUALIFIER_AFTER_RE = re.compile(
    r"(?:[ \t\u00a0]+[^\W\d_]+\.?){0,3}[ \t\u00a0]+"
    r"(?P<q>or\s+more|and\s+more|or\s+over|or\s+less|or\s+fewer"
    r"|и\s+более|или\s+более|и\s+больше|и\s+свыше|и\s+менее|или\s+менее)(?![\w])(?!\s*[\d$€₽])"
    r"(?!\s+(?:than|precisely|exactly|accurately|specifically|importantly|often|likely)\b)",
    re.IGNORECASE,
)
_QUALIFIER_AFTER = {
    "or more": Qualifier.at_least,
    "and more": Qualifier.at_least,
    "or over": Qualifier.at_least,
    "or less": Qualifier.up_to,
    "or fewer": Qualifier.up_to,
    **numbers_ru.QUALIFIER_AFTER,
}


def qualifier_of(text: str, match: NumberMatch) -> Qualifier:
    """The qualifier the words give a number: before it ("more than 8.9"), else right after it and
    its unit ("500 kg or more" → at_least, "40 or fewer" → up_to)."""
    before = qualifier_before(text, match.start)
    if before is not Qualifier.exact:
        return before
    m = _QUALIFIER_AFTER_RE.match(text, match.end)
    return _QUALIFIER_AFTER[re.sub(r"\s+", " ", m.group("q").lower())] if m else Qualifier.exact


def as_decimal(value: float | int | Decimal | str) -> Decimal:
    """A float from JSON or YAML as the decimal it was written as (8.9, not 8.9000000001)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))
