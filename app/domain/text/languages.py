"""The language of a source: a BCP 47 tag, given by the curator or read from the text's script.

Detection is deliberately plain and explainable: a text whose letters are mostly Cyrillic is
Russian (the CSTO's working language), anything else is English. A curator who knows better says
so; the tag given always wins over the guess.
"""

import re

from app.domain.errors import InvalidInput

DEFAULT_LANGUAGE = "en"
CYRILLIC_LANGUAGE = "ru"
CYRILLIC_SHARE = 0.3
# RFC 5646's shape: a 2-3 letter primary language, then subtags of 1-8 letters or digits.
_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")


def detect_language(text: str) -> str:
    """The tag a text's script implies: `ru` when Cyrillic letters are a fair share, else `en`."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return DEFAULT_LANGUAGE
    cyrillic = sum(1 for c in letters if "\u0400" <= c <= "\u04ff")
    return CYRILLIC_LANGUAGE if cyrillic / len(letters) >= CYRILLIC_SHARE else DEFAULT_LANGUAGE


def normalize_language(tag: str) -> str:
    """A well-formed BCP 47 tag in its usual case (`ru`, `en-GB`), or a refusal naming the field."""
    if not _TAG.match(tag):
        raise InvalidInput(f"'{tag}' is not a BCP 47 language tag (for example 'ru', 'en')", field="language")
    head, *rest = tag.split("-")
    return "-".join([head.lower(), *(_subtag_case(s) for s in rest)])


def _subtag_case(subtag: str) -> str:
    """RFC 5646's conventional case: regions upper (GB), scripts title (Cyrl), the rest lower."""
    if len(subtag) == 2 and subtag.isalpha():
        return subtag.upper()
    if len(subtag) == 4 and subtag.isalpha():
        return subtag.title()
    return subtag.lower()


def primary_language(tag: str) -> str:
    """The primary subtag (`ru` of `ru-RU`): what picks the extraction rules."""
    return tag.split("-", 1)[0].lower()
