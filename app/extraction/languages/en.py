"""English: the catalogue's own words, plural "s" optional, and the scope cues of English releases."""

import re

from app.domain.text.countries import ADJECTIVES, COUNTRIES
from app.domain.text.sentences import split_sentences
from app.extraction.languages import Forms, Language


def _forms() -> Forms:
    """English words as written (the engine makes a phrase's final "s" optional itself)."""
    return lambda word: (word,)


_ACTOR = (
    r"(?:agenc(?:y|ies)|ministry|affairs|officers|authorities|services?|police|guards?|customs|forces|units)"
)
_STATE = "|".join(re.escape(c) for c in sorted(COUNTRIES, key=len, reverse=True))
_ACTOR_OF_STATE_RE = re.compile(
    rf"\b{_ACTOR}\s+of\s+(?:the\s+)?(?:(?:Islamic\s+)?Republic\s+of\s+)?(?P<state>{_STATE})\b", re.IGNORECASE
)
_STATE_ADJ_RE = re.compile(
    r"\b(?P<adj>" + "|".join(ADJECTIVES) + r")\s+(?:law\s+enforcement|police|border|customs|security|"
    r"authorities|drug\s+control|special\s+services)"
)


def acting_state(sentence: str) -> str | None:
    """A state named as the actor: "<agencies|ministry|officers> of (the Republic of) <State>"."""
    m = _ACTOR_OF_STATE_RE.search(sentence)
    if m:
        name = m.group("state")
        return next(v for k, v in COUNTRIES.items() if k.casefold() == name.casefold())
    a = _STATE_ADJ_RE.search(sentence)
    return ADJECTIVES[a.group("adj")] if a else None


LANGUAGE = Language(
    tag="en",
    acting_state=acting_state,
    split_sentences=split_sentences,
    forms=_forms,
    phrase_end=re.compile(
        r"\b(?:were|was|have|has|had|are|is|been|be|will|would|and|or|which|that|who|while|during)\b",
        re.IGNORECASE,
    ),
    cumulative=re.compile(
        r"\b(?:since\s+(?:(?:19|20)\d{2}|(?:its|the)\s+(?:launch|start|inception|beginning|creation)\b)"
        r"|over\s+(?:the\s+)?(?:past\s+|last\s+)?(?:\w+\s+)?(?:years|decades)\b"
        r"|(?:for|in)\s+(?:the\s+)?(?:past|last)\s+(?:\w+\s+)?(?:years|decades)\b"
        r"|(?:throughout|over|during)\s+(?:its|the\s+operation[’']s)\s+(?:history|existence)\b"
        r"|(?:during|for)\s+the\s+(?:whole|entire)\s+period\b)",
        re.IGNORECASE,
    ),
    total=re.compile(r"\b(?:in\s+total|all\s+in\s+all|to\s+date)\b", re.IGNORECASE),
    anaphoric=re.compile(
        r"\b(?:during|over|in|for)\s+(?:that|this|the\s+same)\s+(?:time|period|years)\b", re.IGNORECASE
    ),
    organisation=re.compile(
        r"\b(?:all|several|the\s+CSTO[’']s)\s+(?:(?:the|its|anti-drug|special)\s+)*operations\b"
        r"|\bCSTO\s+special\s+services\b|\bjoint\s+(?:activities|work)\s+of\s+the\s+CSTO\b",
        re.IGNORECASE,
    ),
    unit_words={"t": ("metric tons", "metric ton", "metric tonnes", "metric tonne")},
    counted_nouns=re.compile(
        r"[ \t\u00a0]+(?:[a-z-]+\s+)?(?:cases|groups|channels|persons|people|individuals|suspects"
        r"|laboratories|crimes|offences|offenses|kilograms|tons|tonnes)\b",
        re.IGNORECASE,
    ),
)
