"""The date of a statement, as the text gives it."""

from datetime import date

from app.domain.text.dates import statement_date

STREAM = (
    "On 24 April 2024, in Moscow, consultations took place.\n\n"
    "Statement by the Secretary General in Minsk on 18 May 2023 18.05.2023\n\n"
    "Since 2003, 31 active phases of the operation have been conducted."
)


def test_the_last_date_before_the_figure_dates_it():
    at = STREAM.index("Since 2003")
    assert statement_date(STREAM, at, len(STREAM)) == date(2023, 5, 18)
    assert statement_date(STREAM, 10, 40) == date(2024, 4, 24)


def test_a_date_in_the_quote_wins_and_dates_after_publication_are_not_taken():
    text = "On 1 March 2020 it began. The centre said on May 3, 2021 that 5 t were seized."
    assert statement_date(text, 26, len(text)) == date(2021, 5, 3)
    assert statement_date(text, 26, len(text), latest=date(2020, 12, 31)) == date(2020, 3, 1)


def test_periods_and_impossible_dates_are_not_statement_dates():
    assert statement_date("From 19 to 23 May 2025, 5 t were seized.", 0, 40) is None
    assert statement_date("Said on 31 February 2023: 5 t.", 0, 30) is None
