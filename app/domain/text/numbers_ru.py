"""Russian numbers and qualifiers as sources write them: numerals in every case and gender
("три тонны", "двух тысяч", "трёхсот", "четверо", "полторы"), scale words after digits
("5 тыс.", "1,5 млн", "2 тысячи 500") and the qualifier words of CONTRACT "Sources in Russian".

numbers.py reads these beside the English forms, so extraction and verification agree.
"""

import re
from decimal import Decimal

from app.domain.vocabulary import Qualifier

# Each numeral as a pattern of its case forms, with its value and its rank (3 hundreds, 2 tens,
# 1 units and teens): a numeral is a run of words of falling rank, closed by a scale word.
_STEM_FORMS = r"(?:ь|и|ью)"
_NUMERALS: list[tuple[str, int, int]] = [
    (r"один|одна|одно|одного|одной|одному|одним|одном|одну|одною", 1, 1),
    (r"два|две|двух|двум|двумя", 2, 1),
    (r"три|тр[её]х|тр[её]м|тремя", 3, 1),
    (r"четыре|четыр[её]х|четыр[её]м|четырьмя", 4, 1),
    (r"пять|пяти|пятью", 5, 1),
    (r"шесть|шести|шестью", 6, 1),
    (r"семь|семи|семью", 7, 1),
    (r"восемь|восьми|восемью|восьмью", 8, 1),
    (r"девять|девяти|девятью", 9, 1),
    (rf"десят{_STEM_FORMS}", 10, 1),
    (rf"одиннадцат{_STEM_FORMS}", 11, 1),
    (rf"двенадцат{_STEM_FORMS}", 12, 1),
    (rf"тринадцат{_STEM_FORMS}", 13, 1),
    (rf"четырнадцат{_STEM_FORMS}", 14, 1),
    (rf"пятнадцат{_STEM_FORMS}", 15, 1),
    (rf"шестнадцат{_STEM_FORMS}", 16, 1),
    (rf"семнадцат{_STEM_FORMS}", 17, 1),
    (rf"восемнадцат{_STEM_FORMS}", 18, 1),
    (rf"девятнадцат{_STEM_FORMS}", 19, 1),
    (rf"двадцат{_STEM_FORMS}", 20, 2),
    (rf"тридцат{_STEM_FORMS}", 30, 2),
    (r"сорок|сорока", 40, 2),
    (r"пятьдесят|пятидесяти|пятьюдесятью", 50, 2),
    (r"шестьдесят|шестидесяти|шестьюдесятью", 60, 2),
    (r"семьдесят|семидесяти|семьюдесятью", 70, 2),
    (r"восемьдесят|восьмидесяти|восемьюдесятью", 80, 2),
    (r"девяносто|девяноста", 90, 2),
    (r"сто|ста", 100, 3),
    (r"двести|двухсот|двумстам|двумястами|двухстах", 200, 3),
    (r"триста|тр[её]хсот|тр[её]мстам|тремястами|тр[её]хстах", 300, 3),
    (r"четыреста|четыр[её]хсот|четыр[её]мстам|четырьмястами|четыр[её]хстах", 400, 3),
    (r"пятьсот|пятисот|пятистам|пятьюстами|пятистах", 500, 3),
    (r"шестьсот|шестисот|шестистам|шестьюстами|шестистах", 600, 3),
    (r"семьсот|семисот|семистам|семьюстами|семистах", 700, 3),
    (r"восемьсот|восьмисот|восьмистам|восемьюстами|восьмистах", 800, 3),
    (r"девятьсот|девятисот|девятистам|девятьюстами|девятистах", 900, 3),
    # Collective numerals count people: "четверо задержанных", "двоих граждан".
    (r"двое|двоих|двоим|двоими", 2, 1),
    (r"трое|троих|троим|троими", 3, 1),
    (r"четверо|четверых|четверым|четверыми", 4, 1),
    (r"пятеро|пятерых|пятерым", 5, 1),
    (r"шестеро|шестерых", 6, 1),
    (r"семеро|семерых", 7, 1),
]
_HALF = r"полтора|полторы|полутора"
SCALE_WORDS: list[tuple[str, Decimal]] = [
    (r"тысяч[а-яё]*|тыс\.?", Decimal(1000)),
    (r"миллион[а-яё]*|млн\.?", Decimal(10) ** 6),
    (r"миллиард[а-яё]*|млрд\.?", Decimal(10) ** 9),
]
# After digits: "5 тыс.", "1,5 млн", "2 тысячи 500" (the digits after the scale add to it).
DIGIT_SCALE = r"тысяч[а-яё]*|тыс\.?|миллион[а-яё]*|млн\.?|миллиард[а-яё]*|млрд\.?"

_WORD = r"[а-яё]+\.?"
_TOKEN_RE = re.compile(r"(?<![\w-])" + _WORD, re.IGNORECASE)
_GLUE_RE = re.compile(r"[ \t\u00a0]+")
_NUMERAL_RES = [(re.compile(rf"(?:{p})", re.IGNORECASE), v, r) for p, v, r in _NUMERALS]
_SCALE_RES = [(re.compile(rf"(?:{p})", re.IGNORECASE), v) for p, v in SCALE_WORDS]
_HALF_RE = re.compile(rf"(?:{_HALF})", re.IGNORECASE)
# "одного из", "одна из": a pronoun, not a figure.
_PRONOUN_AFTER_RE = re.compile(r"\s+(?:из|другого|другой|другому|другим|раз)\b", re.IGNORECASE)

# Longest first, so "не более" is never read as "более" (CONTRACT "Sources in Russian").
QUALIFIER_WORDS: list[tuple[str, Qualifier]] = [
    ("более чем", Qualifier.more_than),
    ("более", Qualifier.more_than),
    ("свыше", Qualifier.more_than),
    ("больше", Qualifier.more_than),
    ("превысил", Qualifier.more_than),
    ("превысила", Qualifier.more_than),
    ("превысило", Qualifier.more_than),
    ("превысили", Qualifier.more_than),
    ("не менее", Qualifier.at_least),
    ("не меньше", Qualifier.at_least),
    ("как минимум", Qualifier.at_least),
    ("около", Qualifier.about),
    ("порядка", Qualifier.about),
    ("примерно", Qualifier.about),
    ("приблизительно", Qualifier.about),
    ("почти", Qualifier.almost),
    ("практически", Qualifier.almost),
    ("до", Qualifier.up_to),
    ("не более", Qualifier.up_to),
    ("не больше", Qualifier.up_to),
    ("максимум", Qualifier.up_to),
    ("менее", Qualifier.less_than),
    ("меньше", Qualifier.less_than),
]
# "500 кг и более", "10 человек или менее".
QUALIFIER_AFTER: dict[str, Qualifier] = {
    "и более": Qualifier.at_least,
    "или более": Qualifier.at_least,
    "и больше": Qualifier.at_least,
    "и свыше": Qualifier.at_least,
    "и менее": Qualifier.up_to,
    "или менее": Qualifier.up_to,
}


def scale_value(word: str) -> Decimal | None:
    """The value of a Russian scale word or abbreviation ("тысячи", "млн"), else None."""
    for rx, value in _SCALE_RES:
        if rx.fullmatch(word):
            return value
    return None


def _numeral(word: str) -> tuple[Decimal, int] | None:
    """The value and rank of one numeral word in any case form, else None."""
    if _HALF_RE.fullmatch(word):
        return Decimal("1.5"), 1
    for rx, value, rank in _NUMERAL_RES:
        if rx.fullmatch(word):
            return Decimal(value), rank
    return None


def word_numbers(text: str) -> list[tuple[int, int, Decimal]]:
    """Every Russian number in words as (start, end, value): "двух тысяч пятисот" → 2500."""
    out: list[tuple[int, int, Decimal]] = []
    tokens = list(_TOKEN_RE.finditer(text))
    i = 0
    while i < len(tokens):
        found = _read_from(text, tokens, i)
        if found is None:
            i += 1
            continue
        j, value = found
        start, end = tokens[i].start(), tokens[j - 1].end()
        if not _is_pronoun(text, tokens[i].group(0), end):
            out.append((start, end, value))
        i = j
    return out


def _read_from(text: str, tokens: list[re.Match[str]], i: int) -> tuple[int, Decimal] | None:
    """The number starting at token i: (index after its last word, value), or None."""
    total, group, rank, j = Decimal(0), Decimal(0), 4, i
    while j < len(tokens):
        if j > i and not _GLUE_RE.fullmatch(text[tokens[j - 1].end() : tokens[j].start()]):
            break
        word = tokens[j].group(0)
        scale = scale_value(word)
        numeral = None if scale else _numeral(word.rstrip("."))
        if scale is not None:
            total += (group or Decimal(1)) * scale
            group, rank = Decimal(0), 4
        elif numeral is not None and numeral[1] < rank:
            group += numeral[0]
            rank = numeral[1]
        else:
            break
        j += 1
    if j == i:
        return None
    return j, total + group


def _is_pronoun(text: str, word: str, end: int) -> bool:
    """ "одного из", "одна из": the word "один" used as a pronoun."""
    return word.lower().startswith("одн") and bool(_PRONOUN_AFTER_RE.match(text, end))
