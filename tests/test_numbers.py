"""Numbers and qualifiers as the sources write them."""

from decimal import Decimal

import pytest

from app.domain.text.numbers import (
    find_numbers,
    parse_number,
    qualifier_before,
    qualifier_of,
    uses_decimal_commas,
)
from app.domain.text.units import compatible, to_base
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
        ("1.5 bln", "1500000000"),
        ("84 mln", "84000000"),
        ("3 thous.", "3000"),
        ("3.2 thousand", "3200"),
        ("45k", "45000"),
        ("137 795", "137795"),
        ("1 512", "1512"),
        ("24\u00a0580", "24580"),
        ("2,6", "2.6"),
        ("Four", "4"),
        ("Twelve", "12"),
        ("ninety-nine", "99"),
        ("a dozen", "12"),
        ("two dozen", "24"),
        ("two thousand", "2000"),
        ("one million", "1000000"),
        ("a thousand", "1000"),
        ("one hundred and five", "105"),
        ("forty-two thousand", "42000"),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text) == Decimal(value)


def test_decimal_commas_where_the_text_uses_them():
    assert parse_number("1,500") == Decimal(1500)
    assert parse_number("1,500", decimal_comma=True) == Decimal("1.5")
    text = "12 300 kg of opium and 2,6 t of hashish; 1,500 t of drugs"
    assert uses_decimal_commas(text)
    assert [n.value for n in find_numbers(text)] == [Decimal(12300), Decimal("2.6"), Decimal("1.5")]
    assert not uses_decimal_commas("12 300 kg, 2,6 t and 1,234,567 people")


@pytest.mark.parametrize(
    "text",
    ["one of the leaders", "no one was hurt", "dozens of couriers", "one another", "hundreds of sites"],
)
def test_words_that_are_no_figures(text):
    assert find_numbers(text) == []


def test_a_space_does_not_join_a_year_and_a_number():
    assert [n.text for n in find_numbers("In 2019 150 people")] == ["2019", "150"]


def test_parse_number_refuses_words():
    with pytest.raises(ValueError):
        parse_number("many")
    with pytest.raises(ValueError):
        parse_number("dozens")


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
        ("some 16,000 kg", Qualifier.about),
        ("Some 80,000", Qualifier.about),
        ("roughly 19 thousand", Qualifier.about),
        ("an estimated 740 kg", Qualifier.about),
        ("approximately 2,300", Qualifier.about),
        ("around 95 kg", Qualifier.about),
        ("at least 2.6 tons", Qualifier.at_least),
        ("not less than 640", Qualifier.at_least),
        ("a minimum of 18", Qualifier.at_least),
        ("no fewer than 3", Qualifier.at_least),
        ("no more than 40 kg", Qualifier.up_to),
        ("not more than 7", Qualifier.up_to),
        ("at most 90", Qualifier.up_to),
        ("less than 30 kg", Qualifier.less_than),
        ("fewer than 15", Qualifier.less_than),
        ("under 5 kg", Qualifier.less_than),
        ("below 900 g", Qualifier.less_than),
        ("nearly 3.2 thousand", Qualifier.almost),
        ("close to 410 kg", Qualifier.almost),
        ("in excess of 75 kg", Qualifier.more_than),
        ("exceeding 2 million US dollars", Qualifier.more_than),
        ("above 1,100", Qualifier.more_than),
        ("more than $ 84 million", Qualifier.more_than),
        ("over 1 bln roubles", Qualifier.more_than),
        ("over one million", Qualifier.more_than),
        ("as many as 58", Qualifier.exact),
        ("the thunder 30 kg", Qualifier.exact),
    ],
)
def test_qualifier_before(text, qualifier):
    m = find_numbers(text)[0]
    assert qualifier_before(text, m.start) is qualifier


@pytest.mark.parametrize(
    ("text", "qualifier"),
    [
        ("25 kg or more of heroin", Qualifier.at_least),
        ("60 drug groups or more", Qualifier.at_least),
        ("30 people or fewer", Qualifier.up_to),
        ("12 firearms and more.", Qualifier.at_least),
        ("12 firearms and more than 300 rounds", Qualifier.exact),
        ("more than 8.9 tons or more", Qualifier.more_than),
        ("5 tons of opium or more precisely 5.2", Qualifier.exact),
        ("500 kg of heroin or more", Qualifier.at_least),
    ],
)
def test_qualifier_after_the_number(text, qualifier):
    assert qualifier_of(text, find_numbers(text)[0]) is qualifier


def test_only_the_number_right_after_the_qualifier_is_qualified():
    text = "More than 17 kg of mephedrone and 12.5 kg of amphetamine"
    first, second = find_numbers(text)
    assert qualifier_before(text, first.start) is Qualifier.more_than
    assert qualifier_before(text, second.start) is Qualifier.exact


def test_conversion_is_exact_and_dimension_checked():
    assert to_base(8.9, "tonne", "kilogram") == Decimal("8900")
    assert to_base(865, "gram", "kilogram") == Decimal("0.865")
    assert not compatible("kilogram", "count")


def test_currencies_never_convert_into_each_other():
    assert to_base(1.5, "USD", "USD") == Decimal("1.5")
    assert not compatible("USD", "RUB")
    assert not compatible("EUR", "USD")
    assert not compatible("RUB", "kilogram")
