"""How well extraction finds the curated figures of seeds/: recall, precision and field agreement.

A curated figure is found when a candidate's quote overlaps the curated quote and both state the
same value in the same unit; each candidate is matched at most once. Precision is matched
candidates over candidates emitted (all, and those with confidence ≥ CONFIDENT).
"""

from dataclasses import dataclass, field
from pathlib import Path

from app.domain.provenance import locate_quote
from app.domain.text.numbers import as_decimal
from app.extraction.catalog import Catalog, catalog_from_seeds
from app.extraction.extract import CandidateDraft, extract_candidates
from app.seeds.files import ResultFile, read_seeds

CONFIDENT = 0.6  # every candidate with a metric scores at least 0.65, every one without at most 0.50
FIELDS = ("metric", "qualifier", "operation", "phase", "country", "quote")


@dataclass(frozen=True)
class Curated:
    """A curated figure reduced to what extraction guesses, with its quote's offsets."""

    id: str
    value: float
    unit: str
    metric: str
    qualifier: str
    operation: str | None
    phase: str | None
    country: str | None
    quote: str
    quote_start: int
    quote_end: int


class Precision:
    """Precision of a set of candidates: the share that are real figures, overall and when confident."""

    candidates: int
    matched: int
    confident: int
    confident_matched: int

    @property
    def precision(self) -> float | None:
        """Candidates that are real figures, as a share (None without candidates)."""
        return self.matched / self.candidates if self.candidates else None

    @property
    def confident_precision(self) -> float | None:
        """The same among candidates with confidence ≥ CONFIDENT."""
        return self.confident_matched / self.confident if self.confident else None


@dataclass
class DocScore(Precision):
    """One document's figures, candidates, matches and field agreements."""

    file: str
    curated: int
    candidates: int
    confident: int
    matched: int
    confident_matched: int
    missed: list[str] = field(default_factory=list)
    agree: dict[str, int] = field(default_factory=dict)

    @property
    def recall(self) -> float | None:
        """Curated figures found, as a share (None without curated figures)."""
        return self.matched / self.curated if self.curated else None


def curated_figures(text: str, results: ResultFile, catalog: Catalog) -> list[Curated]:
    """The curated results of one source with the operation their phase implies and quote offsets."""
    out = []
    for r in results.results:
        start = locate_quote(text, r.quote, r.quote_occurrence)
        phase = catalog.phases.get(r.phase) if r.phase else None
        operation = r.operation or (phase.operation if phase else None)
        out.append(
            Curated(
                id=r.id,
                value=r.value,
                unit=r.unit,
                metric=r.metric,
                qualifier=r.qualifier.value,
                operation=operation,
                phase=r.phase,
                country=r.country,
                quote=r.quote,
                quote_start=start,
                quote_end=start + len(r.quote),
            )
        )
    return out


def matches(figure: Curated, cand: CandidateDraft) -> bool:
    """Overlapping quotes, the same value and the same unit."""
    overlap = cand.quote_start < figure.quote_end and figure.quote_start < cand.quote_end
    same_value = as_decimal(cand.value) == as_decimal(figure.value)
    return overlap and same_value and cand.unit == figure.unit


def score_document(
    file: str, figures: list[Curated], cands: list[CandidateDraft]
) -> tuple[DocScore, list[tuple[Curated, CandidateDraft]]]:
    """Match curated figures to candidates (each candidate once) and count agreements."""
    free = list(cands)
    pairs: list[tuple[Curated, CandidateDraft]] = []
    missed = []
    for fig in figures:
        hit = next((c for c in free if matches(fig, c)), None)
        if hit is None:
            missed.append(fig.id)
            continue
        free.remove(hit)
        pairs.append((fig, hit))
    agree = {f: sum(getattr(fig, f) == getattr(c, f) for fig, c in pairs) for f in FIELDS}
    score = DocScore(
        file=file,
        curated=len(figures),
        candidates=len(cands),
        confident=sum(c.confidence >= CONFIDENT for c in cands),
        matched=len(pairs),
        confident_matched=sum(c.confidence >= CONFIDENT for _, c in pairs),
        missed=missed,
        agree=agree,
    )
    return score, pairs


def evaluate(root: Path) -> list[DocScore]:
    """Score extraction on every seed document against its curated results."""
    bundle = read_seeds(root)
    catalog = catalog_from_seeds(root=root)
    texts = {s.meta.file: s.text for s in bundle.sources}
    out = []
    for rf in sorted(bundle.result_files, key=lambda f: f.source):
        text = texts[rf.source]
        figures = curated_figures(text, rf, catalog)
        score, _ = score_document(rf.source, figures, extract_candidates(text=text, catalog=catalog))
        out.append(score)
    return out


def total(scores: list[DocScore]) -> DocScore:
    """All documents together."""
    agree = {f: sum(s.agree.get(f, 0) for s in scores) for f in FIELDS}
    return DocScore(
        file="all",
        curated=sum(s.curated for s in scores),
        candidates=sum(s.candidates for s in scores),
        confident=sum(s.confident for s in scores),
        matched=sum(s.matched for s in scores),
        confident_matched=sum(s.confident_matched for s in scores),
        missed=[m for s in scores for m in s.missed],
        agree=agree,
    )


# ---------------------------------------------------------------- the development corpus

CORPUS_FIELDS = ("unit", "metric", "scope", "operation", "phase")


@dataclass(frozen=True)
class Expected:
    """One figure of a corpus text as a curator records it, located by where its number stands."""

    doc: str
    phrasing: str
    number: str
    number_start: int
    value: float
    unit: str
    qualifier: str
    metric: str
    scope: str
    operation: str | None
    phase: str | None


@dataclass
class PhrasingScore(Precision):
    """How extraction reads the figures of one phrasing: values, qualifiers, other fields, noise."""

    phrasing: str
    figures: int = 0
    value: int = 0
    value_qualifier: int = 0
    candidates: int = 0
    matched: int = 0
    confident: int = 0
    confident_matched: int = 0
    agree: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CORPUS_FIELDS, 0))
    missed: list[str] = field(default_factory=list)

    @property
    def vq_share(self) -> float | None:
        """Figures read with the right value and qualifier, as a share."""
        return self.value_qualifier / self.figures if self.figures else None


def read_corpus(path: Path) -> list[tuple[str, str, str, list[Expected]]]:
    """The corpus file: (id, phrasing, text, expected figures) per text; refuses a number not in it."""
    import yaml

    out = []
    for doc in yaml.safe_load(path.read_text(encoding="utf-8")):
        text, figures = doc["text"], []
        for f in doc["figures"]:
            start = -1
            for _ in range(f.get("occurrence", 1)):
                start = text.find(f["number"], start + 1)
            if start < 0:
                raise ValueError(f"{doc['id']}: {f['number']!r} is not in the text")
            figures.append(
                Expected(
                    doc=doc["id"],
                    phrasing=doc["phrasing"],
                    number=f["number"],
                    number_start=start,
                    value=f["value"],
                    unit=f["unit"],
                    qualifier=f["qualifier"],
                    metric=f["metric"],
                    scope=f["scope"],
                    operation=f.get("operation") or _operation_of(f.get("phase")),
                    phase=f.get("phase"),
                )
            )
        out.append((doc["id"], doc["phrasing"], text, figures))
    return out


def _operation_of(phase: str | None) -> str | None:
    """The operation a corpus phase slug belongs to (corpus phases are all Channel's)."""
    return "channel" if phase else None


def evaluate_corpus(path: Path, catalog: Catalog) -> list[PhrasingScore]:
    """Score extraction on every corpus text, per phrasing, in the corpus's order of phrasings."""
    scores: dict[str, PhrasingScore] = {}
    for doc_id, phrasing, text, figures in read_corpus(path):
        s = scores.setdefault(phrasing, PhrasingScore(phrasing))
        cands = {c.number_start: c for c in extract_candidates(text=text, catalog=catalog)}
        expected_at = {f.number_start for f in figures}
        s.candidates += len(cands)
        s.matched += sum(start in expected_at for start in cands)
        s.confident += sum(c.confidence >= CONFIDENT for c in cands.values())
        s.confident_matched += sum(c.confidence >= CONFIDENT and st in expected_at for st, c in cands.items())
        for f in figures:
            _score_figure(s, f, cands.get(f.number_start), doc_id)
    return list(scores.values())


def _score_figure(s: PhrasingScore, f: Expected, c: CandidateDraft | None, doc_id: str) -> None:
    """Count one expected figure against the candidate at its number (if any)."""
    s.figures += 1
    if c is None or as_decimal(c.value) != as_decimal(f.value):
        s.missed.append(f"{doc_id}: {f.number!r} not read as {f.value:g}")
        return
    s.value += 1
    if c.qualifier == f.qualifier:
        s.value_qualifier += 1
    else:
        s.missed.append(f"{doc_id}: {f.number!r} read {c.qualifier}, not {f.qualifier}")
    for name in CORPUS_FIELDS:
        s.agree[name] += getattr(c, name) == getattr(f, name)


def corpus_total(scores: list[PhrasingScore]) -> PhrasingScore:
    """All phrasings together."""
    t = PhrasingScore("all")
    for s in scores:
        for name in ("figures", "value", "value_qualifier", "candidates", "matched", "confident"):
            setattr(t, name, getattr(t, name) + getattr(s, name))
        t.confident_matched += s.confident_matched
        for k in CORPUS_FIELDS:
            t.agree[k] += s.agree[k]
        t.missed.extend(s.missed)
    return t
