"""Extraction quality: `.venv/bin/python bench/extraction_quality.py`.

Per language (English: tests/extraction_corpus.yaml and the held-out texts
tests/extraction_heldout.yaml; Russian: tests/extraction_corpus_ru.yaml), a summary line, then per
phrasing: figures read with the right value, with the right
value and qualifier, the other guesses, and precision. On the five seed documents: a per-document
table (curated figures, candidates, matched, recall, precision) and how often the guesses of
matched figures agree with the curated ones. Writes it all to bench/RESULTS-extraction.md with the
command and the date.
"""

import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.extraction.catalog import catalog_from_seeds  # noqa: E402
from app.extraction.quality import (  # noqa: E402
    CONFIDENT,
    CORPUS_FIELDS,
    FIELDS,
    DocScore,
    PhrasingScore,
    corpus_total,
    evaluate,
    evaluate_corpus,
    total,
)

COMMAND = ".venv/bin/python bench/extraction_quality.py"


def pct(x: float | None) -> str:
    """A share as a percentage, or a dash when undefined (no curated figures or no candidates)."""
    return "—" if x is None else f"{100 * x:.0f}%"


def doc_table(scores: list[DocScore]) -> list[str]:
    """The per-document table in Markdown."""
    lines = [
        f"| document | curated | candidates | matched | recall | precision | "
        f"candidates ≥{CONFIDENT} | precision ≥{CONFIDENT} | missed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in [*scores, total(scores)]:
        name = f"**{s.file}**" if s.file == "all" else s.file
        lines.append(
            f"| {name} | {s.curated} | {s.candidates} | {s.matched} | {pct(s.recall)} | {pct(s.precision)} "
            f"| {s.confident} | {pct(s.confident_precision)} | {', '.join(s.missed) or '—'} |"
        )
    return lines


def agreement_table(scores: list[DocScore]) -> list[str]:
    """How often each guess of a matched figure equals the curated value, per document and overall."""
    lines = ["| document | matched | " + " | ".join(FIELDS) + " |", "|---|---:|" + "---:|" * len(FIELDS)]
    for s in [*scores, total(scores)]:
        if not s.matched:
            continue
        cells = " | ".join(f"{s.agree[f]}/{s.matched} ({pct(s.agree[f] / s.matched)})" for f in FIELDS)
        name = f"**{s.file}**" if s.file == "all" else s.file
        lines.append(f"| {name} | {s.matched} | {cells} |")
    return lines


def phrasing_table(scores: list[PhrasingScore]) -> list[str]:
    """Per phrasing: value, value + qualifier, the other guesses, precision, in Markdown."""
    lines = [
        "| phrasing | figures | value | value + qualifier | "
        + " | ".join(CORPUS_FIELDS)
        + f" | candidates | precision | precision ≥{CONFIDENT} |",
        "|---|---:|---:|---:|" + "---:|" * len(CORPUS_FIELDS) + "---:|---:|---:|",
    ]
    for s in [*scores, corpus_total(scores)]:
        name = "**all**" if s.phrasing == "all" else s.phrasing
        agree = " | ".join(f"{s.agree[f]}/{s.value}" for f in CORPUS_FIELDS)
        lines.append(
            f"| {name} | {s.figures} | {s.value} | {s.value_qualifier} ({pct(s.vq_share)}) | {agree} "
            f"| {s.candidates} | {pct(s.precision)} | {pct(s.confident_precision)} |"
        )
    return lines


def missed_list(scores: list[PhrasingScore]) -> list[str]:
    """Every figure read wrong, one bullet each."""
    missed = corpus_total(scores).missed
    return [f"- {m}" for m in missed] or ["- none"]


def corpus_section(title: str, what: str, scores: list[PhrasingScore]) -> list[str]:
    """One corpus's tables."""
    return [
        f"## {title}",
        "",
        what,
        "",
        *phrasing_table(scores),
        "",
        "Value or qualifier wrong:",
        "",
        *missed_list(scores),
        "",
    ]


CORPORA = (
    ("en", "development corpus", "tests/extraction_corpus.yaml"),
    ("en", "held-out texts", "tests/extraction_heldout.yaml"),
    ("ru", "development corpus", "tests/extraction_corpus_ru.yaml"),
)


def language_table(results: list[tuple[str, str, list[PhrasingScore]]]) -> list[str]:
    """One line per language and corpus: figures, value + qualifier, precision."""
    lines = [
        "| language | corpus | figures | value + qualifier | candidates | precision |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for (lang, name, _), (_, _, scores) in zip(CORPORA, results, strict=True):
        t = corpus_total(scores)
        lines.append(
            f"| {lang} | {name} | {t.figures} | {t.value_qualifier} ({pct(t.vq_share)}) "
            f"| {t.candidates} | {pct(t.precision)} |"
        )
    return lines


def report(scores: list[DocScore], corpora: list[tuple[str, str, list[PhrasingScore]]]) -> str:
    """The whole report in Markdown."""
    corpus, held_out, russian = (c[2] for c in corpora)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            "# Extraction quality",
            "",
            f"Command: `{COMMAND}` — run {when}.",
            "",
            "A corpus figure is read when a candidate stands at its number with the same value; other",
            "columns count the read figures whose guess agrees (operation of a phase figure is the",
            "phase's operation). Precision = candidates standing at a listed figure / all candidates",
            "(each text lists every figure a curator would record).",
            "",
            "## Per language",
            "",
            *language_table(corpora),
            "",
            *corpus_section(
                "Development corpus (tests/extraction_corpus.yaml)",
                "Texts written for the project, modelled on the phrasings of issue 12; the rules were "
                "developed against them.",
                corpus,
            ),
            *corpus_section(
                "Held-out texts (tests/extraction_heldout.yaml)",
                "Written after the rules were frozen and scored before any change; see the file's header.",
                held_out,
            ),
            *corpus_section(
                "Russian development corpus (tests/extraction_corpus_ru.yaml)",
                "Russian texts written for the project (issue 20), in the phrasing of CSTO and ministry "
                "releases; the Russian rules were developed against them.",
                russian,
            ),
            "# The seed documents",
            "",
            "A curated figure (seeds/results/*.yaml) is matched by a candidate whose quote overlaps the",
            "curated quote and whose value and unit are the same; each candidate matches at most once.",
            "Precision = matched candidates / candidates emitted. Documents 001 and 003 have no curated",
            "figures (and no candidates), so their recall and precision are undefined (—).",
            "",
            "## Recall and precision",
            "",
            *doc_table(scores),
            "",
            "## Agreement of the guesses on matched figures",
            "",
            "`operation` of a phase figure is the phase's operation; `quote` counts identical quotes.",
            "",
            *agreement_table(scores),
            "",
        ]
    )


def main() -> None:
    """Evaluate, print, and write bench/RESULTS-extraction.md."""
    catalog = catalog_from_seeds(root=ROOT / "seeds")
    corpora = [(lang, name, evaluate_corpus(ROOT / path, catalog)) for lang, name, path in CORPORA]
    text = report(evaluate(ROOT / "seeds"), corpora)
    print(text)
    (ROOT / "bench" / "RESULTS-extraction.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
