"""Russian extraction: number forms, the contract's qualifier words, the corpus, and verification
agreeing with extraction on Russian quotes."""

from datetime import date
from decimal import Decimal
from hashlib import sha256
from pathlib import Path

import pytest
from sqlmodel import Session

from app.curation.verify import FigureRejected, check_figure
from app.domain.errors import InvalidInput
from app.domain.text.numbers import find_numbers, qualifier_of
from app.extraction.catalog import catalog_from_seeds
from app.extraction.extract import extract_candidates
from app.extraction.languages import language_for
from app.extraction.quality import CORPUS_FIELDS, corpus_total, evaluate_corpus, read_corpus
from app.models import Source
from app.schemas.results import ResultBase

ROOT = Path(__file__).resolve().parents[1]
CORPUS_RU = ROOT / "tests" / "extraction_corpus_ru.yaml"
CATALOG = catalog_from_seeds(root=ROOT / "seeds")
MIN_SHARE = 0.95


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("три", 3),
        ("триста", 300),
        ("двух тысяч", 2000),
        ("двух тысяч пятисот", 2500),
        ("четверо", 4),
        ("семисот тысяч", 700000),
        ("сорок три", 43),
        ("двести сорок", 240),
        ("трёхсот", 300),
        ("полторы тысячи", 1500),
        ("1 300", 1300),
        ("1\u00a0300", 1300),
        ("5,7", Decimal("5.7")),
        ("2 тысяч 500", 2500),
        ("2,5 тысяч", 2500),
        ("3 тыс.", 3000),
        ("1,5 млн", 1500000),
        ("2 млрд", 2000000000),
        ("4 миллиона", 4000000),
        ("1,500", Decimal("1.5")),  # Russian writes decimal commas, never comma thousands
    ],
)
def test_russian_numbers_in_every_form(text, value):
    found = find_numbers(f"изъято {text} единиц")
    assert [(n.text, n.value) for n in found] == [(text, Decimal(value))]


def test_one_as_a_pronoun_is_no_number():
    assert find_numbers("одного из задержанных") == []


@pytest.mark.parametrize(
    ("words", "qualifier"),
    [
        ("более", "more_than"),
        ("свыше", "more_than"),
        ("больше", "more_than"),
        ("более чем", "more_than"),
        ("превысил", "more_than"),
        ("превысила", "more_than"),
        ("превысило", "more_than"),
        ("превысили", "more_than"),
        ("не менее", "at_least"),
        ("не меньше", "at_least"),
        ("как минимум", "at_least"),
        ("около", "about"),
        ("порядка", "about"),
        ("примерно", "about"),
        ("приблизительно", "about"),
        ("почти", "almost"),
        ("практически", "almost"),
        ("до", "up_to"),
        ("не более", "up_to"),
        ("не больше", "up_to"),
        ("максимум", "up_to"),
        ("менее", "less_than"),
        ("меньше", "less_than"),
    ],
)
def test_the_contracts_russian_qualifiers(words, qualifier):
    text = f"Изъято {words} 5 тонн героина."
    (match,) = find_numbers(text)
    assert qualifier_of(text, match).value == qualifier


def test_a_qualifier_after_the_number_and_its_unit():
    text = "Партии по 500 кг и более, 2,4 тонны героина и свыше 3 тонн опия."
    got = [qualifier_of(text, n).value for n in find_numbers(text)]
    assert got == ["at_least", "exact", "more_than"]


def test_the_russian_corpus_is_large_enough_and_covers_every_form():
    figures = [f for _, _, _, figs in read_corpus(CORPUS_RU) for f in figs]
    assert len(figures) >= 80
    phrasings = {f.phrasing for f in figures}
    assert all(sum(f.phrasing == p for f in figures) >= 5 for p in phrasings)
    assert {f.qualifier for f in figures} >= {
        "exact",
        "more_than",
        "at_least",
        "about",
        "almost",
        "up_to",
        "less_than",
    }
    assert {f.unit for f in figures} >= {"count", "g", "kg", "t", "USD", "RUB", "EUR"}
    assert {f.scope for f in figures} == {"phase", "cumulative", "programme"}


def test_the_russian_corpus_value_qualifier_and_precision(capsys):
    scores = evaluate_corpus(CORPUS_RU, CATALOG)
    t = corpus_total(scores)
    with capsys.disabled():
        for s in [*scores, t]:
            print(f"\n{s.phrasing}: {s.value_qualifier}/{s.figures} value+qualifier", end="")
        print("\nmissed:", t.missed)
    assert t.vq_share is not None and t.vq_share >= MIN_SHARE, t.missed
    assert t.precision is not None and t.precision >= MIN_SHARE
    for name in CORPUS_FIELDS:
        assert t.agree[name] / t.value >= 0.85, (name, t.agree)


def test_the_language_picks_the_rules_and_is_detected_otherwise():
    text = "В ходе операции «Канал-Центр» изъято более 2,4 тонны героина."
    (detected,) = extract_candidates(text=text, catalog=CATALOG)
    (tagged,) = extract_candidates(text=text, catalog=CATALOG, language="ru-RU")
    assert detected == tagged
    assert (tagged.value, tagged.unit, tagged.qualifier, tagged.metric) == (
        2.4,
        "t",
        "more_than",
        "heroin_seized",
    )
    assert tagged.phase == "channel-center-2019"
    assert language_for("ru-RU").tag == "ru" and language_for("fr").tag == "en"
    with pytest.raises(InvalidInput) as err:
        extract_candidates(text=text, catalog=CATALOG, language="not a tag")
    assert err.value.extra["field"] == "language"


def test_russian_operation_names_in_case_forms_and_scope_cues():
    text = (
        "В рамках операции «Нелегал» задержано 640 нелегальных мигрантов.\n\n\n"
        "С 2003 года в ходе операции «Канал» изъято более 245 тонн наркотиков.\n\n\n"
        "В ходе всех операций ОДКБ изъято 60 тонн наркотиков."
    )
    got = [(c.value, c.operation, c.scope) for c in extract_candidates(text=text, catalog=CATALOG)]
    assert got == [(640, "illegal", "cumulative"), (245, "channel", "cumulative"), (60, None, "programme")]


RELEASE_RU = (
    "В ходе операции «Канал-Центр» изъято более 2,4 тонны героина и почти три тонны гашиша. "
    "Выявлены доходы на сумму свыше семисот тысяч рублей."
)


@pytest.fixture
def release_ru(session: Session) -> Source:
    """A Russian source written for these tests, stored in the test's transaction."""
    source = Source(
        title="Тестовый релиз",
        publisher="test",
        published_on=date(2026, 5, 1),
        content_hash=sha256(RELEASE_RU.encode()).hexdigest(),
        text=RELEASE_RU,
    )
    session.add(source)
    session.flush()
    return source


def _draft(quote: str, **fields: object) -> ResultBase:
    """A phase figure of the Russian release."""
    return ResultBase(**{"phase": "channel-center-2019", "scope": "phase", "quote": quote, **fields})


def test_verification_accepts_the_russian_candidates_and_refuses_a_wrong_number(session, release_ru):
    sentence = RELEASE_RU.split(". ")[0] + "."
    cands = extract_candidates(text=RELEASE_RU, catalog=CATALOG, language="ru")
    heroin, hashish = cands[0], cands[1]
    for c in (heroin, hashish):
        fields = {"metric": c.metric, "value": c.value, "unit": c.unit, "qualifier": c.qualifier}
        checked = check_figure(session=session, draft=_draft(c.quote, **fields), source=release_ru)
        assert checked.number_text == c.number_text
    assert (hashish.value, hashish.unit, hashish.qualifier) == (3, "t", "almost")
    with pytest.raises(FigureRejected) as err:
        draft = _draft(sentence, metric="heroin_seized", value=2.5, unit="t", qualifier="more_than")
        check_figure(session=session, draft=draft, source=release_ru)
    assert err.value.field == "value"
    with pytest.raises(FigureRejected) as err:
        draft = _draft(sentence, metric="heroin_seized", value=2.4, unit="t", qualifier="exact")
        check_figure(session=session, draft=draft, source=release_ru)
    assert err.value.field == "qualifier"


# ---------------------------------------------------------------- the English gaps of issue 20


def test_english_decimal_commas_resolved_by_the_lists_own_total():
    text = (
        "More than 12,4 tons of drugs were seized, including 8,215 tons of opium and 2,930 tons of hashish."
    )
    assert [n.value for n in find_numbers(text)] == [Decimal("12.4"), Decimal("8.215"), Decimal("2.930")]
    # Without a smaller total before them, "8,215" and "2,930" stay thousands.
    alone = "Officers seized 8,215 kg of opium and 2,930 kg of hashish. Then 12,4 tons more."
    assert [n.value for n in find_numbers(alone)][:2] == [Decimal(8215), Decimal(2930)]


def test_english_metric_tons_and_number_words_before_counted_nouns():
    text = (
        "Over 7 metric tons of drugs were seized in the “Channel-Center” phase. Five cases of fraud were "
        "opened, and Thirty-one criminal groups were neutralised; the two countries agreed."
    )
    got = [(c.number_text, c.value, c.unit) for c in extract_candidates(text=text, catalog=CATALOG)]
    assert got == [("7", 7, "t"), ("Five", 5, "count"), ("Thirty-one", 31, "count")]


def test_pints_metric_ton_is_a_tonne():
    from app.domain.text.units import to_base

    assert to_base(Decimal("8.215"), "metric_ton", "kilogram") == Decimal(8215)


def test_the_cli_extracts_a_russian_file_and_refuses_a_bad_language_tag(tmp_path):
    import json

    from typer.testing import CliRunner

    from app.cli import cli

    f = tmp_path / "release.txt"
    f.write_text("В ходе операции «Нелегал» задержано около 300 нелегальных мигрантов.", encoding="utf-8")
    result = CliRunner().invoke(cli, ["extract", str(f), "--format", "json", "--language", "ru"])
    assert result.exit_code == 0, result.output
    (c,) = json.loads(result.output)
    assert (c["value"], c["qualifier"], c["metric"], c["operation"]) == (
        300,
        "about",
        "illegal_migrants_detained",
        "illegal",
    )
    bad = CliRunner().invoke(cli, ["extract", str(f), "--language", "русский"])
    assert bad.exit_code == 2 and "language" in bad.output


def test_a_curator_accepts_every_candidate_of_a_russian_release_over_http(client, session):
    from tests.factories import SOURCE, bearer

    cur = bearer(session)
    text = (
        "В ходе операции «Канал-Центр» изъято более 2,4 тонны героина, почти три тонны гашиша и "
        "свыше 140 единиц огнестрельного оружия.\n\nЗадержано около 300 нелегальных мигрантов."
    )
    body = {**SOURCE, "text": text, "title": "Канал-Центр (тест)"}
    sid = client.post("/api/v1/sources", json=body, headers=cur).json()["id"]
    cands = client.post(f"/api/v1/sources/{sid}/candidates", headers=cur).json()["items"]
    assert [(c["value"], c["unit"], c["qualifier"]) for c in cands] == [
        (2.4, "t", "more_than"),
        (3, "t", "almost"),
        (140, "count", "more_than"),
        (300, "count", "about"),
    ]
    for c in cands:
        fix = {} if c["phase"] else {"operation": "channel", "scope": "cumulative"}
        r = client.post(f"/api/v1/candidates/{c['id']}/accept", json=fix, headers=cur)
        assert r.status_code == 201, r.text
        assert r.json()["quote"] == c["quote"]
