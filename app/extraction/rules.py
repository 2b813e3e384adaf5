"""The catalogue and a language compiled into patterns, once per catalogue and language: unit
words (in every form the language writes them), currency signs before numbers, metric keywords,
operation aliases and phase names."""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from typing import Any

from app.extraction.catalog import Catalog, MetricInfo, PhaseInfo
from app.extraction.languages import Forms, Language, language_for

COUNT = "count"
MONEY = "money"
GAP_MARK = "…"  # "A … B" in a keyword: A, then B later in the same clause


@dataclass(frozen=True)
class _Keyword:
    """A metric keyword compiled: its phrase and, for "A … B", the phrase B that must follow A."""

    text: str
    head: re.Pattern[str]
    tail: re.Pattern[str] | None


@dataclass(frozen=True)
class Rules:
    """The catalogue compiled into patterns once per catalogue."""

    unit_re: re.Pattern[str] | None
    unit_before_re: re.Pattern[str] | None
    unit_of_word: dict[str, str]
    count_unit: str
    keyword_res: tuple[tuple[_Keyword, MetricInfo], ...]
    alias_re: re.Pattern[str] | None
    alias_slug: dict[str, str]
    phase_res: tuple[tuple[re.Pattern[str], PhaseInfo], ...]
    lang: Language


def _words_re(words: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for whole words or phrases, longest first."""
    ordered = sorted(set(words), key=len, reverse=True)
    if not ordered:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in ordered) + r")(?!\w)", re.IGNORECASE)


def _phrase_re(phrase: str, forms: Forms | None) -> re.Pattern[str]:
    """A phrase as whole words, spaces flexible: the catalogue's with a plural s optional
    ("firearm(s)"), a language's with each word in any of its forms (`forms`)."""
    if forms is None:
        body = r"\s+".join(re.escape(w) for w in phrase.split()) + "s?"
    else:
        body = r"\s+".join("(?:" + "|".join(re.escape(f) for f in forms(w)) + ")" for w in phrase.split())
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _keyword(keyword: str, forms: Forms | None = None) -> _Keyword:
    """Compile a metric keyword, "A … B" into A and B."""
    head, _, tail = (p.strip() for p in keyword.partition(GAP_MARK))
    return _Keyword(keyword, _phrase_re(head, forms), _phrase_re(tail, forms) if tail else None)


def _inflected(phrase: str, forms: Forms) -> list[str]:
    """Every form of a phrase, word by word ("доллар США" → долларов США, доллара США, ...)."""
    return [" ".join(p) for p in product(*(forms(w) for w in phrase.split()))]


def _sign_or_code(word: str) -> bool:
    """A currency sign or code ("$", "€", "USD", "US$"): the unit words written before a number."""
    return word.isupper() or not any(c.isalpha() for c in word)


def _before_re(words: Iterable[str]) -> re.Pattern[str] | None:
    """Currency signs and codes written right before a number ("$1.5 bln", "USD 5 million")."""
    ordered = sorted(set(words), key=len, reverse=True)
    if not ordered:
        return None
    return re.compile(r"(?<![\w$])(?:" + "|".join(re.escape(w) for w in ordered) + r")[ \t\u00a0]*\Z")


def _phase_re(name: str) -> re.Pattern[str]:
    """A phase name with hyphens, dashes, quotes and spaces between its words optional."""
    tokens = re.findall(r"\w+", name)
    return re.compile(r"(?<!\w)" + r"\W{0,5}".join(re.escape(t) for t in tokens) + r"(?!\w)", re.IGNORECASE)


@lru_cache(maxsize=32)
def _compile(key: tuple[Any, ...], tag: str) -> Rules:
    """Compile the catalogue's patterns and its language's words (cached by contents and language;
    the language's word-form analyser is built here, once per compile)."""
    units, dims, metrics, aliases, phases = key
    lang = language_for(tag)
    forms = lang.forms()
    unit_words = [(sym, w) for sym, words in units for w in words]
    unit_words += [
        (sym, f) for sym, words in lang.unit_words.items() for w in words for f in _inflected(w, forms)
    ]
    unit_of_word = {w.casefold(): sym for sym, w in unit_words}
    money = {s for s, d in dims if d == MONEY}
    alias_words = [(f, s) for a, s in aliases for f in _inflected(a, forms)]
    return Rules(
        unit_re=_words_re(w for _, w in unit_words),
        unit_before_re=_before_re(w for s, w in unit_words if s in money and _sign_or_code(w)),
        unit_of_word=unit_of_word,
        count_unit=next((s for s, d in dims if d == COUNT), COUNT),
        keyword_res=_keyword_patterns(metrics, lang, forms),
        alias_re=_words_re(a for a, _ in alias_words),
        alias_slug={a.casefold(): s for a, s in alias_words},
        phase_res=_phase_patterns(phases, lang),
        lang=lang,
    )


def _keyword_patterns(
    metrics: Sequence[MetricInfo], lang: Language, forms: Forms
) -> tuple[tuple[_Keyword, MetricInfo], ...]:
    """The catalogue's keywords of every metric, then the language's own for the same metrics."""
    out = [(_keyword(k), m) for m in metrics for k in m.keywords]
    out += [(_keyword(k, forms), m) for m in metrics for k in lang.metric_keywords.get(m.slug, ())]
    return tuple(out)


def _phase_patterns(
    phases: Sequence[PhaseInfo], lang: Language
) -> tuple[tuple[re.Pattern[str], PhaseInfo], ...]:
    """Each phase's catalogue name and the language's names for it."""
    names = [(p.name, p) for p in phases] + [(n, p) for p in phases for n in lang.phase_names.get(p.slug, ())]
    return tuple((_phase_re(n), p) for n, p in names if re.search(r"\w", n))


def compiled_rules(catalog: Catalog, tag: str) -> Rules:
    """The compiled rules of a catalogue in one language."""
    key = (
        tuple(sorted(catalog.units.items())),
        tuple(sorted(catalog.unit_dimensions.items())),
        tuple(sorted(catalog.metrics.values(), key=lambda m: m.slug)),
        tuple(sorted(catalog.aliases.items())),
        tuple(sorted(catalog.phases.values(), key=lambda p: p.slug)),
    )
    return _compile(key, tag)
