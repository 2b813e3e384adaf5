"""Extraction: the figures of a text as candidates for a curator, found by explainable rules.

The rules are language-neutral; the words they look for (sentence ends, word forms, unit, metric
and phase words, scope cues) come from the text's language module (app/extraction/languages), and
the catalogue's own words are always read too. The examples below are English; ru.py holds Russian.

For every number in the text (numbers.find_numbers) that is a figure (extraction_filters says
why the others are not: dates, times, phones, file names, ordinals, durations, percentages, areas,
years, list marks, counts inside names), a candidate records:

- value and number_text: the number as written, in digits or words, scale words applied
  ("4 thousand" → 4000, "1.5 bln" → 1500000000, "Twelve" → 12, "137 795" → 137795);
- unit: the unit word right after the number (tons/tonnes → t, kg, grams → g, roubles → RUB), a
  currency sign or code right before it ("$1.5 bln", "USD 5 million"), else a count;
- qualifier: numbers.qualifier_of (every phrase of CONTRACT "Qualifiers" before the number, and
  "or more" / "or less" after it);
- metric: a metric keyword (seeds/metrics.yaml) in the number's own noun phrase ("8.9 tons of
  opium"), else later in its clause, else earlier in its clause; the metric's dimension must agree
  with the unit (mass for t/kg/g, count for counts, money only in the metric's own currency); a
  keyword "A … B" is A followed by B in the clause ("internet resources … blocked") and beats A
  alone; without a metric, `note` says why;
- operation and phase: an alias or phase name in the sentence, else the nearest one before it in
  the same news item (an alias counts only written as a name: capitalised, not a sentence's first
  word unless quoted, so "illegal migration" and "channels of entry" name nothing);
- scope: a sentence about years of work ("since 2003", "over 14 years", "over the past two
  decades", "during that time" after such a sentence, or "in total" when it names no phase
  itself) is cumulative and names no phase; a sentence about the organisation's joint work
  ("CSTO special services", "all operations") that names no operation itself is programme; else
  phase when a phase is named, cumulative when only an operation is, programme when neither is;
- country: a state named as the actor ("agencies of the Islamic Republic of Iran", "Ministry of
  Internal Affairs of Russia") in the sentence or the one before it in the same paragraph, for
  phase figures only (a country's share is a share of a phase);
- a number in words becomes a candidate only when a metric describes it ("Twelve firearms"; not
  "the two countries", "in five regions"), so prose does not flood the review queue;
- quote: the sentence holding the number, verbatim, with offsets (sentences.split_sentences);
- confidence: the sum of the evidence, documented at `confidence`.
"""

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from app.domain.text.languages import detect_language, normalize_language
from app.domain.text.numbers import NumberMatch, find_numbers, qualifier_of
from app.domain.text.sentences import Span, news_items, paragraphs
from app.extraction.catalog import Catalog, MetricInfo, PhaseInfo
from app.extraction.filters import masked_spans, skip_reason
from app.extraction.languages import Language
from app.extraction.rules import COUNT, MONEY, Rules, compiled_rules

# Evidence weights of the confidence score (they sum to 1.0).
W_BASE = 0.15  # a number that passed every non-figure rule
W_METRIC = 0.50  # a metric keyword of the right dimension describes it
W_ATTACHED = 0.10  # a unit word or the metric keyword stands right after the number
W_OPERATION_SENTENCE = 0.15  # the sentence names the operation
W_OPERATION_CONTEXT = 0.10  # ... or an earlier sentence of the same news item does
W_PHASE = 0.05  # a phase is named in the sentence or the news item
W_QUALIFIER = 0.05  # "more than", "about": the way reports state results

_CLAUSE_END_RE = re.compile(r"[,;:()]|\s[-–—]\s")
_UNIT_GAP_RE = re.compile(r"[ \t\u00a0]*-?[ \t\u00a0]*")


@dataclass(frozen=True)
class CandidateDraft:
    """One figure found in a text, with every guess a curator confirms or corrects."""

    value: float
    unit: str
    number_text: str
    number_start: int
    qualifier: str
    metric: str | None
    operation: str | None
    phase: str | None
    country: str | None
    quote: str
    quote_start: int
    quote_end: int
    confidence: float
    scope: str = "phase"
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able fields, in declaration order."""
        return asdict(self)


@dataclass(frozen=True)
class Mention:
    """A place where the text names an operation or a phase (`key` is its slug)."""

    start: int
    end: int
    key: str


# ---------------------------------------------------------------- extraction


@dataclass(frozen=True)
class _Text:
    """A text with its sentences, paragraphs, news items and the names it mentions."""

    text: str
    sentences: list[Span]
    paragraphs: list[Span]
    items: list[Span]
    numbers: list[NumberMatch]
    operations: list[Mention]
    phases: list[Mention]
    lang: Language


def extract_candidates(*, text: str, catalog: Catalog, language: str | None = None) -> list[CandidateDraft]:
    """Every figure of `text` as a candidate, ordered by where its number stands; `language` is a
    BCP 47 tag picking the language's rules (detected from the text's script when None)."""
    tag = normalize_language(language) if language else detect_language(text)
    rules = compiled_rules(catalog, tag)
    sentences = rules.lang.split_sentences(text)
    doc = _Text(
        text=text,
        sentences=sentences,
        paragraphs=paragraphs(text),
        items=news_items(text),
        numbers=find_numbers(text),
        operations=_operation_mentions(text, rules, sentences),
        phases=[],
        lang=rules.lang,
    )
    doc = replace(doc, phases=_phase_mentions(doc, rules))
    masked = _masked_numbers(text, doc.numbers)
    out = []
    for match in doc.numbers:
        unit, unit_end = _unit_after(text, match, rules)
        why = skip_reason(
            text, match, masked=masked.get(match.start), mass_unit_follows=unit != rules.count_unit
        )
        if why is not None:
            continue
        sentence = _containing(doc.sentences, match.start)
        if sentence is None:
            continue
        draft = _draft(doc, match, unit, unit_end, sentence, rules, catalog)
        if draft.metric is None and not match.text[:1].isdigit() and not _counted(text, match, unit, rules):
            continue  # "the two countries", "five regions": words without a metric are prose
        out.append(draft)
    return out


def _counted(text: str, match: NumberMatch, unit: str, rules: Rules) -> bool:
    """A number in words before a unit or a counted noun ("two kilograms", "Five cases of fraud")."""
    if unit != rules.count_unit:
        return True
    nouns = rules.lang.counted_nouns
    return nouns is not None and nouns.match(text, match.end) is not None


def _draft(
    doc: _Text, match: NumberMatch, unit: str, unit_end: int, sentence: Span, rules: Rules, catalog: Catalog
) -> CandidateDraft:
    """Assemble one candidate from the guesses around its number."""
    dimension = catalog.unit_dimensions.get(unit, COUNT)
    metric, attached = _guess_metric(doc, match, unit_end, sentence, (dimension, unit), rules)
    attached = attached or unit != rules.count_unit
    qualifier = qualifier_of(doc.text, match)
    operation, phase, op_in_sentence = _guess_operation_phase(doc, match.start, sentence, catalog)
    scope, operation, phase = _scope(doc, sentence, operation, phase, op_in_sentence)
    country = _guess_country(doc, sentence) if scope == "phase" else None
    score = confidence(
        metric=metric is not None,
        attached=attached,
        operation="sentence" if op_in_sentence else ("context" if operation else None),
        phase=phase is not None,
        qualified=qualifier.value != "exact",
    )
    return CandidateDraft(
        value=float(match.value),
        unit=unit,
        number_text=match.text,
        number_start=match.start,
        qualifier=qualifier.value,
        metric=metric,
        operation=operation,
        phase=phase,
        country=country,
        quote=doc.text[sentence.start : sentence.end],
        quote_start=sentence.start,
        quote_end=sentence.end,
        confidence=score,
        scope=scope,
        note=None if metric else _no_metric_reason(doc, unit_end, sentence, (dimension, unit), rules),
    )


def confidence(*, metric: bool, attached: bool, operation: str | None, phase: bool, qualified: bool) -> float:
    """The evidence summed: 0.15 for a figure-number, +0.50 metric keyword, +0.10 unit word or
    keyword right after the number, +0.15 operation named in the sentence (0.10 earlier in the
    news item), +0.05 phase named, +0.05 qualifier stated. Without a metric it stays ≤ 0.50."""
    score = W_BASE
    score += W_METRIC if metric else 0.0
    score += W_ATTACHED if attached else 0.0
    score += {"sentence": W_OPERATION_SENTENCE, "context": W_OPERATION_CONTEXT}.get(operation or "", 0.0)
    score += W_PHASE if phase else 0.0
    score += W_QUALIFIER if qualified else 0.0
    return round(min(score, 1.0), 2)


def _masked_numbers(text: str, numbers: Sequence[NumberMatch]) -> dict[int, str]:
    """Number starts inside a masked span (date, time, phone, file name), with the reason."""
    out: dict[int, str] = {}
    for span, why in masked_spans(text):
        for n in _between(numbers, span.start, span.end):
            out.setdefault(n.start, why)
    return out


def _containing(spans: Sequence[Span], pos: int) -> Span | None:
    """The span holding position `pos` (spans sorted and disjoint: a binary search)."""
    i = bisect_right(spans, pos, key=lambda s: s.start) - 1
    return spans[i] if i >= 0 and spans[i].contains(pos) else None


def _between(items: Sequence[Any], lo: int, hi: int) -> Sequence[Any]:
    """The items (sorted by `.start`) starting in [lo, hi)."""
    return items[
        bisect_left(items, lo, key=lambda x: x.start) : bisect_left(items, hi, key=lambda x: x.start)
    ]


def _unit_after(text: str, match: NumberMatch, rules: Rules) -> tuple[str, int]:
    """The unit written right after the number ("8.9 tons" → t) or a currency right before it
    ("$1.5 bln" → USD), and where the number's unit ends; else a count."""
    if rules.unit_before_re is not None:
        b = rules.unit_before_re.search(text, max(0, match.start - 8), match.start)
        if b is not None:
            word = b.group(0).rstrip(" \t\u00a0")
            return rules.unit_of_word[word.casefold()], match.end
    if rules.unit_re is not None:
        gap = _UNIT_GAP_RE.match(text, match.end)
        u = rules.unit_re.match(text, gap.end() if gap else match.end)
        if u is not None:
            return rules.unit_of_word[u.group(0).casefold()], u.end()
    return rules.count_unit, match.end


# ---------------------------------------------------------------- metric


Fit = tuple[str, str]  # (dimension, unit) a metric must fit


@dataclass(frozen=True)
class _Hit:
    """A metric keyword found in the text; `head_end` ends its first phrase ("A" of "A … B")."""

    start: int
    head_end: int
    end: int
    key: str
    keyword: str


def _fits(metric: MetricInfo, fit: Fit) -> bool:
    """Same dimension; money only in the metric's own currency (no exchange rates)."""
    dimension, unit = fit
    return metric.dimension == dimension and (dimension != MONEY or metric.base_unit == unit)


def _guess_metric(
    doc: _Text, match: NumberMatch, unit_end: int, sentence: Span, fit: Fit, rules: Rules
) -> tuple[str | None, bool]:
    """The metric a keyword names near the number, and whether it is in the number's own phrase.

    First the noun phrase right after the number ("8.9 tons of opium"), its last keyword winning
    ("205 kg of drugs of synthetic origin" → synthetic) and "A … B" beating A; then the rest of
    the clause ("580 people were brought to administrative responsibility"); then the clause
    before the number."""
    text = doc.text
    clause_end = _clause_end(doc, unit_end, sentence.end)
    phrase = rules.lang.phrase_end.search(text, unit_end, clause_end)
    phrase_end = phrase.start() if phrase else clause_end
    hits = _keyword_hits(text, unit_end, clause_end, fit, rules)
    clause_start = _clause_start(doc, match.start, sentence.start)
    in_phrase = [h for h in hits if h.head_end <= phrase_end]
    in_phrase += _around(text, (clause_start, match.start), (unit_end, phrase_end), fit, rules)
    if in_phrase:
        return max(in_phrase, key=lambda h: (h.head_end, h.end - h.start)).key, True
    if hits:
        return min(hits, key=lambda h: (h.start, h.start - h.end)).key, False
    before = _keyword_hits(text, clause_start, match.start, fit, rules)
    if before:
        return max(before, key=lambda h: (h.end, h.end - h.start)).key, False
    return None, False


def _keyword_hits(text: str, start: int, end: int, fit: Fit | None, rules: Rules) -> list[_Hit]:
    """Metric keywords within text[start:end] of metrics that fit (all metrics when `fit` is None)."""
    out = []
    for kw, metric in rules.keyword_res:
        if fit is not None and not _fits(metric, fit):
            continue
        for m in kw.head.finditer(text, start, end):
            if kw.tail is None:
                out.append(_Hit(m.start(), m.end(), m.end(), metric.slug, kw.text))
            elif t := kw.tail.search(text, m.end(), end):
                out.append(_Hit(m.start(), m.end(), t.end(), metric.slug, kw.text))
    return out


def _around(text: str, before: tuple[int, int], after: tuple[int, int], fit: Fit, rules: Rules) -> list[_Hit]:
    """Keywords "A … B" with A before the number and B in its phrase ("exposed nine drug groups"
    for "exposed … drug groups"); ranked like B alone, and beating it by their length."""
    out = []
    for kw, metric in rules.keyword_res:
        if kw.tail is None or not _fits(metric, fit):
            continue
        heads = list(kw.head.finditer(text, *before))
        tail = kw.tail.search(text, *after)
        if heads and tail:
            out.append(_Hit(heads[-1].start(), tail.end(), tail.end(), metric.slug, kw.text))
    return out


def _no_metric_reason(doc: _Text, unit_end: int, sentence: Span, fit: Fit, rules: Rules) -> str:
    """Why no metric was guessed: a keyword of another dimension or currency, or none at all."""
    dimension, unit = fit
    clause_end = _clause_end(doc, unit_end, sentence.end)
    others = _keyword_hits(doc.text, unit_end, clause_end, None, rules)
    if others:
        hit = min(others, key=lambda h: h.start)
        metric = next(m for _, m in rules.keyword_res if m.slug == hit.key)
        return (
            f"'{hit.keyword}' names {metric.slug}, counted in {metric.base_unit or metric.dimension}; "
            f"the number is stated in {unit}"
        )
    if dimension == MONEY:
        return f"no keyword of a metric counted in {unit} follows or precedes the number in its clause"
    return f"no metric keyword ({dimension}) follows or precedes the number in its clause"


def _clause_end(doc: _Text, pos: int, sentence_end: int) -> int:
    """Where the number's clause ends: punctuation, the next number or the sentence end."""
    ends = [sentence_end]
    p = _CLAUSE_END_RE.search(doc.text, pos, sentence_end)
    if p:
        ends.append(p.start())
    ends.extend(n.start for n in _between(doc.numbers, pos, sentence_end))
    return min(ends)


def _clause_start(doc: _Text, pos: int, sentence_start: int) -> int:
    """Where the number's clause begins: the punctuation or number before it, or the sentence start."""
    starts = [sentence_start]
    starts.extend(p.end() for p in _CLAUSE_END_RE.finditer(doc.text, sentence_start, pos))
    starts.extend(n.end for n in _between(doc.numbers, sentence_start, pos) if n.end <= pos)
    return max(s for s in starts if s <= pos)


# ---------------------------------------------------------------- operation and phase


def _operation_mentions(text: str, rules: Rules, sentences: Sequence[Span]) -> list[Mention]:
    """Where the text names an operation: aliases written as names, not as ordinary words."""
    if rules.alias_re is None:
        return []
    out = []
    for m in rules.alias_re.finditer(text):
        if _written_as_name(text, m, sentences):
            out.append(Mention(m.start(), m.end(), rules.alias_slug[m.group(0).casefold()]))
    return out


def _written_as_name(text: str, m: re.Match[str], sentences: Sequence[Span]) -> bool:
    """Capitalised, and in capitals, quoted, hyphen-joined or inside the sentence (a sentence's first
    word may be an ordinary word: "Illegal migration grows")."""
    word = m.group(0)
    if not word[:1].isupper():
        return False
    if len(word) > 1 and word.isupper():
        return True
    before = text[max(0, m.start() - 1) : m.start()]
    after = text[m.end() : m.end() + 3]
    if before in {'"', "“", "«", "'"} or re.match(r"\s*[-–—\"”»]", after):
        return True
    sentence = _containing(sentences, m.start())
    return sentence is None or sentence.start != m.start()


def _phase_mentions(doc: _Text, rules: Rules) -> list[Mention]:
    """Where the text names a phase; a name shared by phases of several years needs its year nearby."""
    found: dict[tuple[int, int], list[PhaseInfo]] = {}
    for rx, phase in rules.phase_res:
        for m in rx.finditer(doc.text):
            same = found.setdefault((m.start(), m.end()), [])
            if m.group(0)[:1].isupper() and phase not in same:
                same.append(phase)
    out = []
    for (start, end), phases in sorted(found.items()):
        if not phases:
            continue
        chosen = phases[0] if len(phases) == 1 else _phase_by_year(doc, start, phases)
        if chosen is not None:
            out.append(Mention(start, end, chosen.slug))
    return out


def _phase_by_year(doc: _Text, pos: int, phases: list[PhaseInfo]) -> PhaseInfo | None:
    """Of phases sharing a name, the one whose start year the news item mentions (else none)."""
    item = _containing(doc.items, pos) or Span(0, len(doc.text))
    window = doc.text[item.start : item.end]
    years = [p for p in phases if p.start_year and re.search(rf"\b{p.start_year}\b", window)]
    return years[0] if len(years) == 1 else None


def _nearest(
    mentions: Sequence[Mention], sentence: Span, item: Span, pos: int
) -> tuple[Mention | None, bool]:
    """The mention in the sentence nearest `pos`, else the last one before it in the news item."""
    inside = _between(mentions, sentence.start, sentence.end)
    if inside:
        return min(inside, key=lambda m: abs(m.start - pos)), True
    before = _between(mentions, item.start, sentence.start)
    return (before[-1], False) if before else (None, False)


def _guess_operation_phase(
    doc: _Text, pos: int, sentence: Span, catalog: Catalog
) -> tuple[str | None, str | None, bool]:
    """Operation and phase named around the number; when they disagree the closer mention wins."""
    item = _containing(doc.items, pos) or Span(0, len(doc.text))
    op, op_here = _nearest(doc.operations, sentence, item, pos)
    ph, ph_here = _nearest(doc.phases, sentence, item, pos)
    phase = catalog.phases.get(ph.key) if ph else None
    if phase is None:
        return (op.key if op else None), None, op_here
    if op is None or op.key == phase.operation:
        return phase.operation, phase.slug, op_here or ph_here
    if ph is None or (op_here, -abs(op.start - pos)) > (ph_here, -abs(ph.start - pos)):
        return op.key, None, op_here
    return phase.operation, phase.slug, ph_here


def _scope(
    doc: _Text, sentence: Span, operation: str | None, phase: str | None, op_in_sentence: bool
) -> tuple[str, str | None, str | None]:
    """Scope of the sentence's figures, and the operation and phase that scope allows."""
    words = doc.text[sentence.start : sentence.end]
    if doc.lang.organisation.search(words) and not op_in_sentence:
        return "programme", None, None
    if _is_cumulative(doc, sentence):
        return ("cumulative" if operation else "programme"), operation, None
    if phase is not None:
        return "phase", operation, phase
    return ("cumulative" if operation else "programme"), operation, None


def _is_cumulative(doc: _Text, sentence: Span) -> bool:
    """A sentence about years of work, or "during that time" right after one in the same item."""
    words = doc.text[sentence.start : sentence.end]
    if doc.lang.cumulative.search(words):
        return True
    if doc.lang.total.search(words):
        return not _between(doc.phases, sentence.start, sentence.end)
    if not doc.lang.anaphoric.search(words):
        return False
    item = _containing(doc.items, sentence.start) or Span(0, len(doc.text))
    i = bisect_left(doc.sentences, sentence.start, key=lambda s: s.start)
    previous = doc.sentences[i - 1] if i > 0 else None
    return bool(
        previous
        and previous.start >= item.start
        and doc.lang.cumulative.search(doc.text[previous.start : previous.end])
    )


# ---------------------------------------------------------------- country


def _guess_country(doc: _Text, sentence: Span) -> str | None:
    """The state acting in the sentence, or in the sentence before it within the same paragraph."""
    acting = doc.lang.acting_state
    if acting is None:
        return None
    found = acting(doc.text[sentence.start : sentence.end])
    if found:
        return found
    paragraph = _containing(doc.paragraphs, sentence.start)
    i = bisect_left(doc.sentences, sentence.start, key=lambda s: s.start)
    previous = doc.sentences[i - 1] if i > 0 else None
    if paragraph and previous and previous.start >= paragraph.start:
        return acting(doc.text[previous.start : previous.end])
    return None
