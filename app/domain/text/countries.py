"""The states the sources name and every way they write them, so a country share can be checked."""

import re

# Name as written → the name results use.
COUNTRIES = {
    "Russian Federation": "Russia",
    "Russia": "Russia",
    "Belarus": "Belarus",
    "Kazakhstan": "Kazakhstan",
    "Kyrgyz Republic": "Kyrgyzstan",
    "Kyrgyzstan": "Kyrgyzstan",
    "Tajikistan": "Tajikistan",
    "Armenia": "Armenia",
    "Uzbekistan": "Uzbekistan",
    "Azerbaijan": "Azerbaijan",
    "Afghanistan": "Afghanistan",
    "Iran": "Iran",
    "China": "China",
    "Mongolia": "Mongolia",
    "Turkey": "Turkey",
    "Serbia": "Serbia",
}
ADJECTIVES = {
    "Russian": "Russia",
    "Belarusian": "Belarus",
    "Kazakh": "Kazakhstan",
    "Kazakhstani": "Kazakhstan",
    "Kyrgyz": "Kyrgyzstan",
    "Tajik": "Tajikistan",
    "Armenian": "Armenia",
    "Uzbek": "Uzbekistan",
    "Afghan": "Afghanistan",
    "Iranian": "Iran",
}


def forms_of(country: str) -> list[str]:
    """Every way a text may name `country`: its name, other names of the state, its adjective."""
    canonical = next((v for k, v in COUNTRIES.items() if k.casefold() == country.casefold()), country)
    names = {canonical, country}
    names.update(k for k, v in COUNTRIES.items() if v == canonical)
    names.update(k for k, v in ADJECTIVES.items() if v == canonical)
    return sorted(names, key=len, reverse=True)


def names_country(text: str, country: str) -> bool:
    """True when `text` names `country` in one of its forms, as a whole word."""
    return any(
        re.search(rf"(?<!\w){re.escape(form)}(?!\w)", text, re.IGNORECASE) for form in forms_of(country)
    )
