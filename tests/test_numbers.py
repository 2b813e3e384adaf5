"""Numbers and qualifiers as the sources write them."""

from decimal import Decimal

import pytest

from app.domain.numbers import find_numbers, parse_number, qualifier_before
from app.domain.units import compatible, to_base
from app.models import Qualifier


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("8.9", "8.9"),
        ("6,500", "6500"),
        ("4 thousand", "4000"),
        ("1.8 million", "1800000"),
        ("220,000", "220000"),
        ("4.5 thousand", "4500"),
        ("12.5", "12.5"),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text) == Decimal(value)


def test_parse_number_refuses_words():
    with pytest.raises(ValueError):
        parse_number("many")


@pytest.mark.parametrize(
    ("text", "qualifier"),
    [
        ("more than 8.9 tons", Qualifier.more_than),
        ("over 500 persons", Qualifier.more_than),
        ("about 4 thousand cases", Qualifier.about),
        ("Almost 6,000 wanted", Qualifier.almost),
        ("up to 4,000 fighters", Qualifier.up_to),
        ("784 drug crimes", Qualifier.exact),
        ("the turnover 500 kg", Qualifier.exact),
    ],
)
def test_qualifier_before(text, qualifier):
    m = find_numbers(text)[0]
    assert qualifier_before(text, m.start) is qualifier


def test_only_the_number_right_after_the_qualifier_is_qualified():
    text = "More than 17 kg of mephedrone and 12.5 kg of amphetamine"
    first, second = find_numbers(text)
    assert qualifier_before(text, first.start) is Qualifier.more_than
    assert qualifier_before(text, second.start) is Qualifier.exact


def test_conversion_is_exact_and_dimension_checked():
    assert to_base(8.9, "metric_ton", "kilogram") == Decimal("8900")
    assert to_base(865, "gram", "kilogram") == Decimal("0.865")
    assert not compatible("kilogram", "count")
