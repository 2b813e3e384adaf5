"""Unit conversion with pint: values are converted beside the stated unit, never instead of it."""

import re
from decimal import Decimal
from functools import lru_cache

import pint

from app.domain.text.numbers import as_decimal

# Each currency is its own dimension: converting one into another needs a dated exchange rate,
# which no source states beside its figure, so USD, RUB and EUR never convert into each other.
CURRENCIES = {"USD": "US_dollar", "RUB": "rouble", "EUR": "euro"}


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry[Decimal]:
    """One pint registry per process, computing in Decimal so 8.9 t is exactly 8900 kg.

    Metric tonnes are pint's `tonne` (its `ton` is a short ton of 907.18474 kg)."""
    ureg: pint.UnitRegistry[Decimal] = pint.UnitRegistry(non_int_type=Decimal)
    for code, name in CURRENCIES.items():
        ureg.define(f"{code} = [currency_{code}] = {name}")
    return ureg


@lru_cache(maxsize=256)
def factor(from_pint: str, to_pint: str) -> Decimal:
    """How many `to_pint` one `from_pint` is (1 t → 1000 kg); raises on incompatible dimensions."""
    if from_pint == to_pint:
        return Decimal(1)
    ureg = registry()
    q = ureg.Quantity(Decimal(1), from_pint).to(to_pint)
    return Decimal(q.magnitude)


def to_base(value: float | Decimal, from_pint: str, to_pint: str) -> Decimal:
    """`value` in `from_pint` expressed in `to_pint`, exact in decimal."""
    return (as_decimal(value) * factor(from_pint, to_pint)).normalize()


def compatible(from_pint: str, to_pint: str) -> bool:
    """True when a conversion between the two exists."""
    try:
        factor(from_pint, to_pint)
    except (pint.errors.DimensionalityError, pint.errors.UndefinedUnitError):
        return False
    return True


# Russian unit words by unit symbol, so a Russian quote states its unit in any case form:
# stems take any ending ("тонн" → тонна, тонны, тонн), abbreviations stand as written ("т", "кг").
RU_UNIT_STEMS: dict[str, tuple[str, ...]] = {
    "t": ("тонн",),
    "kg": ("килограмм",),
    "g": ("грамм",),
    "USD": ("доллар",),
    "RUB": ("рубл",),
    "EUR": ("евро",),
}
RU_UNIT_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "t": ("т", "т."),
    "kg": ("кг", "кг."),
    "g": ("г", "г."),
    "USD": ("долл.", "$"),
    "RUB": ("руб.", "руб", "₽"),
}


def russian_unit_follows(after: str, symbol: str) -> bool:
    """True when `after` (the text right after a number) opens with a Russian word for `symbol`."""
    after = after.lower()
    word = re.match(r"[а-яё]+\.?|[$₽]", after)
    if word is None:
        return False
    w = word.group(0)
    stems = RU_UNIT_STEMS.get(symbol, ())
    return (
        any(w.startswith(s) for s in stems)
        or w in RU_UNIT_ABBREVIATIONS.get(symbol, ())
        or (w.endswith(".") and w[:-1] in RU_UNIT_ABBREVIATIONS.get(symbol, ()))
    )
