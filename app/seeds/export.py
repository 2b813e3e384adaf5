"""`opstats export`: the curated database written back in the seeds/ format, to review and commit.

The output is deterministic (a function of the data alone: fixed key order, fixed sort order,
null and default fields left out), so `seed` then `export` reproduces seeds/ byte for byte.
Retracted results are exported with `retracted: true` and their `retracted_reason` (a fresh load
retracts them again, so export → seed keeps that history); not exported: candidates, keys, audit.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, col, select

from app.domain.provenance import is_repeated, occurrence_at
from app.domain.text.units import factor
from app.models import (
    Metric,
    Operation,
    OperationAlias,
    OperationSource,
    OperationStatus,
    Phase,
    PhaseSource,
    Result,
    Source,
    Unit,
)
from app.progress import SILENT, Progress

WIDTH = 1_000_000  # never fold a line: one quote stays one line, diffs stay readable
HEADERS = {
    "units.yaml": (
        "# Units the sources state figures in; `words` are how a text writes them after a number\n"
        '# (money also before it: "$1.5 bln", "USD 5 million").\n'
    ),
    "sources.yaml": (
        "# The documents, unchanged in seeds/sources/. A document may be a news stream of several dated\n"
        "# items: published_on is the newest date it states (date_basis says how it is known).\n"
        "# Figures carry their own as_of: the date of the item that states them.\n"
    ),
}


@dataclass
class ExportReport:
    """The files an export wrote, and the names it gave to sources added through the API."""

    written: list[Path] = field(default_factory=list)
    named: dict[int, str] = field(default_factory=dict)


class Flow(list[Any]):
    """A short list written on one line: `words: [tons, t]`."""


class FlowMap(dict[str, Any]):
    """A small mapping written on one line: `- {alias: Kanal, language: ru-Latn}`."""


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes Flow and FlowMap in flow style."""


_Dumper.add_representer(Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))
_Dumper.add_representer(
    FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True)
)


def dump_yaml(data: Any, header: str = "") -> str:
    """The one YAML style of seeds/: block style, keys in the given order, unicode as is, no folding."""
    body = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=WIDTH, default_flow_style=False
    )
    return header + body


def compact(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry without its null and empty-list fields (their defaults in the *Seed models)."""
    return {k: v for k, v in entry.items() if v is not None and v != []}


def number(v: float) -> int | float:
    """11.0 is written 11, as a curator writes it."""
    return int(v) if float(v).is_integer() else v


def unit_order(u: Unit) -> tuple[str, float, str]:
    """Units by dimension, then size (g, kg, t)."""
    try:
        size = float(factor(u.pint, "gram")) if u.dimension == "mass" else 0.0
    except Exception:  # pint cannot convert: keep the name order
        size = 0.0
    return u.dimension, size, u.symbol


def file_names(sources: list[Source]) -> dict[int, str]:
    """Every source's file name; API-added sources get `NNN_<16 hex of the content hash>.txt`."""
    names = {s.id or 0: s.file_name for s in sources if s.file_name}
    used = [int(m.group(1)) for n in names.values() if (m := re.match(r"^(\d+)_", n))]
    nxt = max(used, default=-1) + 1
    for s in sorted((s for s in sources if not s.file_name), key=lambda s: s.id or 0):
        names[s.id or 0] = f"{nxt:03d}_{s.content_hash[:16]}.txt"
        nxt += 1
    return names


class _Exporter:
    """One export over one session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sources = list(session.exec(select(Source).order_by(col(Source.id))))
        self.names = file_names(self.sources)

    def units(self) -> list[dict[str, Any]]:
        rows = sorted(self.session.exec(select(Unit)), key=unit_order)
        return [
            compact(
                {
                    "symbol": u.symbol,
                    "label": u.label,
                    "dimension": u.dimension,
                    "pint": u.pint,
                    "words": Flow(u.words),
                }
            )
            for u in rows
        ]

    def metrics(self) -> list[dict[str, Any]]:
        rows = self.session.exec(select(Metric).order_by(col(Metric.slug)))
        return [
            compact(
                {
                    "slug": m.slug,
                    "label": m.label,
                    "dimension": m.dimension,
                    "base_unit": m.base_unit,
                    "description": m.description,
                    "keywords": Flow(m.keywords),
                }
            )
            for m in rows
        ]

    def source_list(self) -> list[dict[str, Any]]:
        by_name = sorted(self.sources, key=lambda s: self.names[s.id or 0])
        return [
            compact(
                {
                    "file": self.names[s.id or 0],
                    "title": s.title,
                    "publisher": s.publisher,
                    "published_on": s.published_on,
                    "date_basis": s.date_basis,
                    "url": s.url,
                    "language": s.language,
                    "retrieved_at": s.retrieved_at,
                    "raw_hash": s.raw_hash,
                }
            )
            for s in by_name
        ]

    def name_of(self, source_id: int | None) -> str | None:
        return self.names.get(source_id) if source_id is not None else None

    def operations(self) -> list[dict[str, Any]]:
        ops = self.session.exec(select(Operation).order_by(col(Operation.position), col(Operation.slug)))
        return [self.operation(op) for op in ops]

    def operation(self, op: Operation) -> dict[str, Any]:
        aliases = self.session.exec(
            select(OperationAlias)
            .where(OperationAlias.operation_slug == op.slug)
            .order_by(col(OperationAlias.id))
        )
        statuses = self.session.exec(
            select(OperationStatus)
            .where(OperationStatus.operation_slug == op.slug)
            .order_by(col(OperationStatus.id))
        )
        links = self.session.exec(
            select(OperationSource.source_id).where(OperationSource.operation_slug == op.slug)
        )
        started = {
            "year": op.started_year,
            "precision": op.started_precision,
            "basis": op.started_basis or "",
            "source": self.name_of(op.started_source_id),
            "quote": op.started_quote,
        }
        return compact(
            {
                "slug": op.slug,
                "name": op.name,
                "name_ru": op.name_ru,
                "purpose": op.purpose,
                "aliases": [
                    FlowMap(
                        compact({"alias": a.alias, "language": None if a.language == "en" else a.language})
                    )
                    for a in aliases
                ],
                "started": compact(started),
                "status_history": [
                    compact(
                        {
                            "status": s.status,
                            "since": s.since,
                            "note": s.note,
                            "source": self.name_of(s.source_id),
                            "quote": s.quote,
                        }
                    )
                    for s in statuses
                ],
                "sources": Flow(sorted(self.names[i] for i in links)),
            }
        )

    def phases(self) -> list[dict[str, Any]]:
        position = {o.slug: o.position for o in self.session.exec(select(Operation))}
        rows = sorted(
            self.session.exec(select(Phase)),
            key=lambda p: (
                position.get(p.operation_slug, 0),
                p.start_date is None,
                p.start_date or "",
                p.slug,
            ),
        )
        return [self.phase(p) for p in rows]

    def phase(self, p: Phase) -> dict[str, Any]:
        links = self.session.exec(select(PhaseSource.source_id).where(PhaseSource.phase_slug == p.slug))
        return compact(
            {
                "slug": p.slug,
                "operation": p.operation_slug,
                "name": p.name,
                "kind": p.kind,
                "start_date": p.start_date,
                "end_date": p.end_date,
                "headquarters": p.headquarters,
                "participants": list(p.participants),
                "observers": list(p.observers),
                "note": p.note,
                "sources": Flow(sorted(self.names[i] for i in links)),
            }
        )

    def results_of(self, source: Source) -> list[dict[str, Any]]:
        rows = self.session.exec(select(Result).where(Result.source_id == source.id))
        ordered = sorted(rows, key=lambda r: (r.quote_start, r.quote.find(r.number_text), r.id))
        phase_ops = {p.slug: p.operation_slug for p in self.session.exec(select(Phase))}
        return [result_entry(r, source.text, phase_ops) for r in ordered]


def result_entry(r: Result, text: str, phase_ops: dict[str, str]) -> dict[str, Any]:
    """A result as a seeds/results entry; the operation is left out when its phase implies it."""
    implied = r.phase_slug is not None and phase_ops.get(r.phase_slug) == r.operation_slug
    occurrence = occurrence_at(text, r.quote, r.quote_start)
    return compact(
        {
            "id": r.id,
            "operation": None if implied else r.operation_slug,
            "phase": r.phase_slug,
            "metric": r.metric_slug,
            "value": number(r.value),
            "unit": r.unit,
            "qualifier": r.qualifier,
            "scope": r.scope,
            "country": r.country,
            "period_start": r.period_start,
            "period_end": r.period_end,
            "as_of": r.as_of,
            "quote_occurrence": occurrence if is_repeated(text, r.quote) else None,
            "duplicate_of": r.duplicate_of,
            "note": r.note,
            "retracted": True if r.retracted else None,
            "retracted_reason": r.retracted_reason if r.retracted else None,
            "quote": r.quote,
        }
    )


def _write(path: Path, content: str, report: ExportReport) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8", newline="")
    report.written.append(path)


CATALOGUE = ("units.yaml", "metrics.yaml", "sources.yaml", "operations.yaml", "phases.yaml")


def export_seeds(*, session: Session, out: Path, progress: Progress = SILENT) -> ExportReport:
    """Write the database to `out` in the seeds/ format; files not produced here are left alone.

    Progress counts the files written: the catalogue, then each source's text and results."""
    ex = _Exporter(session)
    report = ExportReport(named={s.id or 0: ex.names[s.id or 0] for s in ex.sources if not s.file_name})
    progress.expect(len(CATALOGUE) + 2 * len(ex.sources))
    catalogue = (ex.units, ex.metrics, ex.source_list, ex.operations, ex.phases)
    for name, data in zip(CATALOGUE, catalogue, strict=True):
        _write(out / name, dump_yaml(data(), HEADERS.get(name, "")), report)
        progress.advance()
    for s in ex.sources:
        file = ex.names[s.id or 0]
        _write(out / "sources" / file, s.text, report)
        entries = {"source": file, "results": ex.results_of(s)}
        _write(out / "results" / f"{Path(file).stem}.yaml", dump_yaml(entries), report)
        progress.advance(2)
    return report
