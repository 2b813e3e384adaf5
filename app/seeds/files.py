"""Reading the curated seeds/ folder into validated schemas, every problem named by file and entry."""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from app.schemas.seeds import MetricSeed, OperationSeed, PhaseSeed, ResultSeed, SourceSeed, UnitSeed

M = TypeVar("M", bound=BaseModel)


class SeedError(Exception):
    """The seeds do not check out; `problems` lists each with its file and entry."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in seeds:\n" + "\n".join(problems))
        self.problems = problems


@dataclass
class SourceFile:
    """A source document of seeds/sources/ with its manifest entry."""

    meta: SourceSeed
    text: str
    content_hash: str


@dataclass
class ResultFile:
    """One seeds/results/*.yaml: the figures of one source."""

    path: str
    source: str
    results: list[ResultSeed]


@dataclass
class SeedBundle:
    """Everything in seeds/, parsed and schema-checked."""

    units: list[UnitSeed] = field(default_factory=list)
    metrics: list[MetricSeed] = field(default_factory=list)
    sources: list[SourceFile] = field(default_factory=list)
    operations: list[OperationSeed] = field(default_factory=list)
    phases: list[PhaseSeed] = field(default_factory=list)
    result_files: list[ResultFile] = field(default_factory=list)


def content_hash(text: str) -> str:
    """SHA-256 of a document's text: how the same document is recognised again."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_yaml(path: Path, problems: list[str]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        problems.append(f"{path}: cannot read: {exc}")
        return None


def _entry_name(raw: Any, index: int) -> str:
    if isinstance(raw, dict):
        for key in ("id", "slug", "symbol", "file"):
            if key in raw:
                return f"entry {raw[key]!r}"
    return f"entry #{index + 1}"


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'entry'}: {e['msg']}" for e in exc.errors())


def parse_list(path: Path, model: type[M], problems: list[str], raw: Any = None) -> list[M]:
    """Validate each entry of a YAML list against `model`; unknown keys are refused."""
    data = _read_yaml(path, problems) if raw is None else raw
    if data is None:
        return []
    if not isinstance(data, list):
        problems.append(f"{path}: expected a list of entries")
        return []
    out = []
    for i, item in enumerate(data):
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            problems.append(f"{path}: {_entry_name(item, i)}: {_errors(exc)}")
    return out


def _duplicates(path: Path, keys: list[str], what: str, problems: list[str]) -> None:
    seen: set[str] = set()
    for k in keys:
        if k in seen:
            problems.append(f"{path}: duplicate {what} {k!r}")
        seen.add(k)


def _sources(root: Path, problems: list[str]) -> list[SourceFile]:
    out = []
    for meta in parse_list(root / "sources.yaml", SourceSeed, problems):
        path = root / "sources" / meta.file
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            problems.append(f"{root / 'sources.yaml'}: entry {meta.file!r}: cannot read {path}: {exc}")
            continue
        out.append(SourceFile(meta=meta, text=text, content_hash=content_hash(text)))
    return out


def _result_files(root: Path, problems: list[str]) -> list[ResultFile]:
    out = []
    for path in sorted((root / "results").glob("*.yaml")):
        data = _read_yaml(path, problems)
        if not isinstance(data, dict) or set(data) - {"source", "results"} or "source" not in data:
            problems.append(f"{path}: expected keys 'source' and 'results'")
            continue
        results = parse_list(path, ResultSeed, problems, raw=data.get("results") or [])
        out.append(ResultFile(path=str(path), source=str(data["source"]), results=results))
    return out


def read_seeds(root: Path) -> SeedBundle:
    """Parse and schema-check every seed file; raise SeedError listing every problem."""
    problems: list[str] = []
    bundle = SeedBundle(
        units=parse_list(root / "units.yaml", UnitSeed, problems),
        metrics=parse_list(root / "metrics.yaml", MetricSeed, problems),
        sources=_sources(root, problems),
        operations=parse_list(root / "operations.yaml", OperationSeed, problems),
        phases=parse_list(root / "phases.yaml", PhaseSeed, problems),
        result_files=_result_files(root, problems),
    )
    _duplicates(root / "units.yaml", [u.symbol for u in bundle.units], "unit", problems)
    _duplicates(root / "metrics.yaml", [m.slug for m in bundle.metrics], "metric", problems)
    _duplicates(root / "sources.yaml", [s.meta.file for s in bundle.sources], "source", problems)
    _duplicates(root / "operations.yaml", [o.slug for o in bundle.operations], "operation", problems)
    _duplicates(root / "phases.yaml", [p.slug for p in bundle.phases], "phase", problems)
    _duplicates(
        root / "results",
        [r.id for f in bundle.result_files for r in f.results],
        "result id",
        problems,
    )
    if problems:
        raise SeedError(problems)
    return bundle
