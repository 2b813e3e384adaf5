"""What extraction reads differently per language, one module per primary language tag.

The engine (extract.py) is language-neutral: it asks the language for its sentence splitter, the
word forms of a catalogue phrase, its own unit, metric and phase words, and its scope cues.
Adding a language is adding one module here and one line to LANGUAGES.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from app.domain.text.languages import DEFAULT_LANGUAGE, primary_language
from app.domain.text.sentences import Span

# A factory, called once per compile of the rules: it returns the forms of one word ("тонна" →
# тонна, тонны, тонн, ...), so an expensive analyser is built once per compiled catalogue.
Forms = Callable[[str], tuple[str, ...]]
FormsFactory = Callable[[], Forms]


@dataclass(frozen=True)
class Language:
    """One language's words and cues; the catalogue's own (English) words are always read too."""

    tag: str
    split_sentences: Callable[[str], list[Span]]
    forms: FormsFactory
    phrase_end: re.Pattern[str]  # words ending the noun phrase after a number
    cumulative: re.Pattern[str]  # a sentence about years of work
    total: re.Pattern[str]  # "in total": cumulative unless a phase is named
    anaphoric: re.Pattern[str]  # "during that time": continues the sentence before
    organisation: re.Pattern[str]  # the organisation's joint work: programme
    unit_words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # unit symbol → words
    metric_keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # slug → keywords
    phase_names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # phase slug → names
    counted_nouns: re.Pattern[str] | None = None  # a number in words before one is a figure
    acting_state: Callable[[str], str | None] | None = None  # the state acting in a sentence


def _registry() -> dict[str, Language]:
    """The languages extraction reads, by primary tag."""
    from app.extraction.languages import en, ru

    return {en.LANGUAGE.tag: en.LANGUAGE, ru.LANGUAGE.tag: ru.LANGUAGE}


def language_for(tag: str) -> Language:
    """The rules of a BCP 47 tag's primary language (`ru-RU` → ru); English when none is known."""
    known = _registry()
    return known.get(primary_language(tag)) or known[DEFAULT_LANGUAGE]
