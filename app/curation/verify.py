"""The one validation path for figures: seeds and the write API both pass every result through it."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from app.domain.errors import FigureRejected
from app.domain.provenance import locate_quote, quote_context
from app.domain.text.countries import names_country
from app.domain.text.numbers import NumberMatch, as_decimal, find_numbers, qualifier_of, uses_decimal_commas
from app.domain.text.sentences import paragraphs, split_sentences
from app.domain.text.units import compatible, russian_unit_follows, to_base
from app.models import Metric, Phase, Qualifier, Scope, Source, Unit
from app.read.catalog import resolve_operation
from app.schemas.results import ResultBase


@dataclass(frozen=True)
class CheckedFigure:
    """A figure whose quote, number, unit and references were verified; offsets computed."""

    operation: str | None
    phase: str | None
    metric: str
    value: float
    unit: str
    number_text: str
    value_base: float
    base_unit: str
    qualifier: str
    scope: str
    country: str | None
    period_start: str | None
    period_end: str | None
    as_of: date
    source_id: int
    quote: str
    quote_start: int
    quote_end: int
    quote_prefix: str
    quote_suffix: str
    number_start: int
    number_end: int
    duplicate_of: str | None
    note: str | None


def _unit_follows(quote: str, match: NumberMatch, unit: Unit) -> bool:
    """True when the words right after the number name `unit` (counts need no unit word), or, for
    money, a currency sign or code stands right before it ("$1.5 bln", "USD 5 million")."""
    if not unit.words:
        return True
    after = quote[match.end :].lstrip().lower()
    if russian_unit_follows(after, unit.symbol):
        return True
    if any(after.startswith(w.lower()) and not after[len(w) : len(w) + 1].isalpha() for w in unit.words):
        return True
    before = quote[: match.start].rstrip().lower()
    return unit.dimension == "money" and any(
        before.endswith(w.lower()) and not before[-len(w) - 1 : -len(w)].isalpha() for w in unit.words
    )


def find_number(quote: str, value: Decimal, unit: Unit, *, decimal_comma: bool = False) -> NumberMatch:
    """The occurrence of `value` in the quote written with `unit`, in any form numbers.py reads
    (digits, words, scale words; decimal commas when the source writes them); refuses otherwise."""
    found = find_numbers(quote, decimal_comma=decimal_comma or None)
    same = [m for m in found if m.value == value]
    if not same:
        raise FigureRejected("value", f"the number {value.normalize():f} does not appear in the quote")
    for m in same:
        if _unit_follows(quote, m, unit):
            return m
    raise FigureRejected(
        "unit",
        f"the quote does not state {same[0].text} in {unit.symbol} ({', '.join(unit.words)})",
    )


def _check_country(text: str, quote_start: int, quote_end: int, country: str) -> None:
    """A country share must name its state in the quote, or in the sentence just before it in the
    same paragraph (where the release names the acting agencies)."""
    if names_country(text[quote_start:quote_end], country):
        return
    paragraph = next((p for p in paragraphs(text) if p.contains(quote_start)), None)
    before = [s for s in split_sentences(text) if s.end <= quote_start]
    previous = before[-1] if before else None
    in_paragraph = bool(paragraph and previous and previous.start >= paragraph.start)
    if in_paragraph and previous and names_country(text[previous.start : previous.end], country):
        return
    raise FigureRejected(
        "country", f"{country!r} is not named in the quote (nor in the sentence just before it)"
    )


def _check_scope(scope: Scope, operation: str | None, phase: Phase | None, country: str | None) -> None:
    """Scope rules that keep totals honest."""
    if scope is Scope.phase and phase is None:
        raise FigureRejected("phase", "a phase figure needs a phase")
    if scope is not Scope.phase and phase is not None:
        raise FigureRejected("scope", f"a {scope.value} figure cannot name a phase")
    if scope is Scope.cumulative and operation is None:
        raise FigureRejected("operation", "a cumulative figure needs an operation")
    if scope is Scope.programme and operation is not None:
        raise FigureRejected("operation", "a programme figure is organisation-wide: no operation")
    if country and scope is not Scope.phase:
        raise FigureRejected("country", "a country's share is a share of a phase")


def _resolve_refs(session: Session, draft: ResultBase) -> tuple[str | None, Phase | None, Metric, Unit]:
    """Operation, phase, metric and unit of a draft, each refused when unknown."""
    operation = None
    if draft.operation is not None:
        op = resolve_operation(session=session, key=draft.operation)
        if op is None:
            raise FigureRejected("operation", f"unknown operation {draft.operation!r}")
        operation = op.slug
    phase = session.get(Phase, draft.phase) if draft.phase else None
    if draft.phase and phase is None:
        raise FigureRejected("phase", f"unknown phase {draft.phase!r}")
    if phase is not None:
        if operation is None:
            operation = phase.operation_slug
        elif phase.operation_slug != operation:
            raise FigureRejected("phase", f"phase {phase.slug!r} belongs to {phase.operation_slug!r}")
    metric = session.get(Metric, draft.metric)
    if metric is None:
        raise FigureRejected("metric", f"unknown metric {draft.metric!r}")
    unit = session.get(Unit, draft.unit)
    if unit is None:
        raise FigureRejected("unit", f"unknown unit {draft.unit!r}")
    return operation, phase, metric, unit


def check_figure(
    *,
    session: Session,
    draft: ResultBase,
    source: Source,
    occurrence: int | None = None,
    self_id: str | None = None,
) -> CheckedFigure:
    """Verify one figure against its source and the catalogue; compute offsets and base value."""
    operation, phase, metric, unit = _resolve_refs(session, draft)
    base = session.get(Unit, metric.base_unit)
    if base is None or not compatible(unit.pint, base.pint):
        raise FigureRejected(
            "unit",
            f"{unit.symbol} is not a unit of {metric.dimension} "
            f"({metric.slug} is counted in {metric.base_unit})",
        )
    _check_scope(draft.scope, operation, phase, draft.country)
    start = locate_quote(source.text, draft.quote, occurrence)
    if draft.country:
        _check_country(source.text, start, start + len(draft.quote), draft.country)
    value = as_decimal(draft.value)
    match = find_number(draft.quote, value, unit, decimal_comma=uses_decimal_commas(source.text))
    stated = qualifier_of(draft.quote, match)
    if stated is not draft.qualifier:
        said = "no qualifier" if stated is Qualifier.exact else repr(stated.value)
        raise FigureRejected(
            "qualifier", f"the quote says {said} around {match.text}: the qualifier is {stated.value!r}"
        )
    if draft.period_start and draft.period_end and draft.period_start > draft.period_end:
        raise FigureRejected("period_end", "ends before period_start")
    if draft.duplicate_of is not None and draft.duplicate_of == self_id:
        raise FigureRejected("duplicate_of", "a result cannot duplicate itself")
    as_of = draft.as_of or source.published_on
    if as_of is None:
        raise FigureRejected("as_of", "the source has no date: state the date of the statement")
    end = start + len(draft.quote)
    prefix, suffix = quote_context(source.text, start, end)
    return CheckedFigure(
        operation=operation,
        phase=phase.slug if phase else None,
        metric=metric.slug,
        value=float(value),
        unit=unit.symbol,
        number_text=match.text,
        value_base=float(to_base(value, unit.pint, base.pint)),
        base_unit=base.symbol,
        qualifier=draft.qualifier.value,
        scope=draft.scope.value,
        country=draft.country,
        period_start=draft.period_start,
        period_end=draft.period_end,
        as_of=as_of,
        source_id=source.id or 0,
        quote=draft.quote,
        quote_start=start,
        quote_end=end,
        quote_prefix=prefix,
        quote_suffix=suffix,
        number_start=start + match.start,
        number_end=start + match.end,
        duplicate_of=draft.duplicate_of,
        note=draft.note,
    )
