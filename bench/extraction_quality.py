"""Extraction quality on the five seed documents: `.venv/bin/python bench/extraction_quality.py`.

Prints a per-document table (curated figures, candidates, matched, recall, precision) and how often
the guesses of matched figures agree with the curated ones, and writes it to
bench/RESULTS-extraction.md with the command and the date.
"""

import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.extraction.quality import CONFIDENT, FIELDS, DocScore, evaluate, total  # noqa: E402

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


def report(scores: list[DocScore]) -> str:
    """The whole report in Markdown."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            "# Extraction quality on the seed documents",
            "",
            f"Command: `{COMMAND}` — run {when}.",
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
    text = report(evaluate(ROOT / "seeds"))
    print(text)
    (ROOT / "bench" / "RESULTS-extraction.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
