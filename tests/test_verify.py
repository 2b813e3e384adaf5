"""check_figure: the qualifier the words give, country shares named in the quote, every number form."""

from datetime import date
from hashlib import sha256
from typing import Any

import pytest
from sqlmodel import Session

from app.curation.verify import FigureRejected, check_figure
from app.models import Source
from app.schemas.results import ResultBase

RELEASE = (
    "The operation “Channel-Center” was held in the spring.\n\n"
    "Officers of the Ministry of Internal Affairs of Russia reported their share. "
    "Some 16,000 kg of drugs were seized, at least 2.6 tons of hashish and no more than 40 kg of heroin. "
    "Less than 30 kg of cocaine was found, and as many as 58 drug groups were neutralised.\n\n"
    "Since 2003, Eleven firearms, a dozen laboratories and two thousand cartridges were registered; "
    "1 512 internet resources were blocked and 3 thous. foreigners expelled. "
    "Property worth over 1 bln roubles was arrested and $1.5 bln in illicit proceeds was traced; "
    "fines exceeding 2 million US dollars were imposed."
)
PHASE_SENTENCE = (
    "Some 16,000 kg of drugs were seized, at least 2.6 tons of hashish and no more than 40 kg of heroin."
)
COCAINE_SENTENCE = "Less than 30 kg of cocaine was found, and as many as 58 drug groups were neutralised."
SINCE_SENTENCE = (
    "Since 2003, Eleven firearms, a dozen laboratories and two thousand cartridges were registered; "
    "1 512 internet resources were blocked and 3 thous. foreigners expelled."
)
MONEY_SENTENCE = (
    "Property worth over 1 bln roubles was arrested and $1.5 bln in illicit proceeds was traced; "
    "fines exceeding 2 million US dollars were imposed."
)


@pytest.fixture
def release(session: Session) -> Source:
    """A source written for these tests, stored in the test's transaction."""
    source = Source(
        title="Test release",
        publisher="test",
        published_on=date(2026, 5, 1),
        content_hash=sha256(RELEASE.encode()).hexdigest(),
        text=RELEASE,
    )
    session.add(source)
    session.flush()
    return source


def check(session: Session, source: Source, **fields: Any):
    """check_figure on a draft built from `fields`."""
    return check_figure(session=session, draft=ResultBase(**fields), source=source)


def phase_figure(**fields: Any) -> dict[str, Any]:
    base = {"phase": "channel-center-2019", "scope": "phase", "quote": PHASE_SENTENCE}
    return {**base, **fields}


@pytest.mark.parametrize(
    ("metric", "value", "unit", "stated", "refused"),
    [
        ("drugs_seized", 16000, "kg", "about", ["exact", "more_than", "almost"]),
        ("hashish_seized", 2.6, "t", "at_least", ["exact", "about", "more_than"]),
        ("heroin_seized", 40, "kg", "up_to", ["more_than", "exact", "less_than"]),
    ],
)
def test_only_the_qualifier_the_words_give(session, release, metric, value, unit, stated, refused):
    fields = phase_figure(metric=metric, value=value, unit=unit)
    assert check(session, release, **fields, qualifier=stated).qualifier == stated
    for q in refused:
        with pytest.raises(FigureRejected) as err:
            check(session, release, **fields, qualifier=q)
        assert err.value.field == "qualifier"


def test_less_than_and_as_many_as(session, release):
    fields = {"phase": "channel-center-2019", "scope": "phase", "quote": COCAINE_SENTENCE}
    c = check(session, release, **fields, metric="cocaine_seized", value=30, unit="kg", qualifier="less_than")
    assert c.qualifier == "less_than"
    n = check(session, release, **fields, metric="drug_groups_neutralised", value=58, unit="count")
    assert n.qualifier == "exact"
    with pytest.raises(FigureRejected, match="qualifier"):
        check(
            session,
            release,
            **fields,
            metric="drug_groups_neutralised",
            value=58,
            unit="count",
            qualifier="more_than",
        )


@pytest.mark.parametrize(
    ("metric", "value", "number_text"),
    [
        ("firearms_seized", 11, "Eleven"),
        ("drug_laboratories_eliminated", 12, "a dozen"),
        ("ammunition_seized", 2000, "two thousand"),
        ("internet_resources_blocked", 1512, "1 512"),
        ("foreign_nationals_expelled", 3000, "3 thous."),
    ],
)
def test_values_in_every_form(session, release, metric, value, number_text):
    c = check(
        session,
        release,
        operation="channel",
        scope="cumulative",
        quote=SINCE_SENTENCE,
        metric=metric,
        value=value,
        unit="count",
    )
    assert c.number_text == number_text
    with pytest.raises(FigureRejected, match="value"):
        check(
            session,
            release,
            operation="channel",
            scope="cumulative",
            quote=SINCE_SENTENCE,
            metric=metric,
            value=value * 7 + 1,
            unit="count",
        )


@pytest.mark.parametrize(
    ("metric", "value", "unit", "qualifier", "number_text"),
    [
        ("property_arrested_rub", 1e9, "RUB", "more_than", "1 bln"),
        ("illicit_proceeds_identified", 1.5e9, "USD", "exact", "1.5 bln"),
        ("fines_imposed", 2e6, "USD", "more_than", "2 million"),
    ],
)
def test_money_in_its_own_currency(session, release, metric, value, unit, qualifier, number_text):
    fields = {"operation": "channel", "scope": "cumulative", "quote": MONEY_SENTENCE, "metric": metric}
    c = check(session, release, **fields, value=value, unit=unit, qualifier=qualifier)
    assert (c.number_text, c.value_base, c.base_unit) == (number_text, value, unit)
    other = "EUR" if unit != "EUR" else "USD"
    with pytest.raises(FigureRejected) as err:
        check(session, release, **fields, value=value, unit=other, qualifier=qualifier)
    assert err.value.field == "unit"


def test_tonnes_are_metric_tonnes(session, release):
    c = check(
        session, release, **phase_figure(metric="hashish_seized", value=2.6, unit="t"), qualifier="at_least"
    )
    assert (c.value_base, c.base_unit) == (2600, "kg")


def test_a_country_must_be_named_in_the_quote_or_the_sentence_before(session, release):
    fields = phase_figure(metric="drugs_seized", value=16000, unit="kg", qualifier="about")
    assert check(session, release, **fields, country="Russia").country == "Russia"
    with pytest.raises(FigureRejected) as err:
        check(session, release, **fields, country="Narnia")
    assert err.value.field == "country"
    with pytest.raises(FigureRejected, match="country"):
        check(session, release, **fields, country="Iran")


def test_a_phase_figure_needs_a_phase(session, release):
    fields = phase_figure(metric="drugs_seized", value=16000, unit="kg", qualifier="about")
    fields.pop("phase")
    with pytest.raises(FigureRejected) as err:
        check(session, release, **fields, operation="channel")
    assert err.value.field == "phase"


def test_at_least_and_less_than_are_stored_and_filtered(client, session, release):
    from app.curation.results import create_result
    from app.curation.unit_of_work import UnitOfWork, bump_data_version
    from app.writes import WriteContext

    uow = UnitOfWork(WriteContext(session, "test"))
    hashish = check(
        session, release, **phase_figure(metric="hashish_seized", value=2.6, unit="t"), qualifier="at_least"
    )
    create_result(uow, hashish, result_id="test-hashish-at-least")
    fields = {"phase": "channel-center-2019", "scope": "phase", "quote": COCAINE_SENTENCE}
    cocaine = check(
        session, release, **fields, metric="cocaine_seized", value=30, unit="kg", qualifier="less_than"
    )
    create_result(uow, cocaine, result_id="test-cocaine-less-than")
    bump_data_version(session=session, at=uow.instant)
    session.flush()
    for qualifier, result_id in (
        ("at_least", "test-hashish-at-least"),
        ("less_than", "test-cocaine-less-than"),
    ):
        r = client.get(f"/api/v1/results?qualifier={qualifier}")
        assert r.status_code == 200, r.text
        assert [i["id"] for i in r.json()["items"]] == [result_id]
    assert client.get("/api/v1/results?qualifier=at_most").status_code == 422
