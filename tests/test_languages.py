"""A source's language: the tag given wins; otherwise the text's script decides."""

import pytest

from app.domain.errors import InvalidInput
from app.domain.text.languages import detect_language, normalize_language, primary_language


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("В ходе операции изъято более 5 тонн опия.", "ru"),
        ("More than 8.9 tons of opium were seized.", "en"),
        ("Операция «Канал» (Channel): 427 tons since 2003, изъято около 4 тысяч", "ru"),
        ("The operation Канал seized 8.9 tons of opium and heroin this year in the region.", "en"),
        ("2024 — 12,5", "en"),
        ("", "en"),
    ],
)
def test_the_script_decides_when_no_tag_is_given(text: str, tag: str) -> None:
    assert detect_language(text) == tag


@pytest.mark.parametrize(
    ("given", "tag"), [("RU", "ru"), ("en-gb", "en-GB"), ("ru-cyrl", "ru-Cyrl"), ("es-419", "es-419")]
)
def test_tags_take_their_usual_case(given: str, tag: str) -> None:
    assert normalize_language(given) == tag


@pytest.mark.parametrize("bad", ["", "russian", "r", "ru_RU", "ru-", "en--gb", "ру"])
def test_malformed_tags_are_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_language(bad)
    assert caught.value.extra["field"] == "language"


def test_the_primary_subtag_picks_the_rules() -> None:
    assert primary_language("ru-RU") == "ru"
    assert primary_language("EN") == "en"
