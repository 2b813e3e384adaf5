"""The package's README.md and CITATION.cff: made from what was written, so they say what it holds."""

from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml

CFF_VERSION = "1.2.0"
KEYWORDS = ["CSTO", "security operations", "drug seizures", "provenance"]
AUTHORS = [{"name": "opstats"}]  # the compilation's author; each figure's author is its source's publisher


@dataclass(frozen=True)
class Document:
    """A source document as the package cites it: `path` its URL, else its text in the package."""

    title: str
    publisher: str
    published_on: date | None
    path: str


@dataclass(frozen=True)
class About:
    """What the README and the citation say of the package."""

    title: str
    description: str
    created: str  # RFC 3339
    as_of: bool  # the package shows the data as it stood at `created` (an `at=` package)
    license: dict[str, str]
    rows: dict[str, int]


FILES = {
    "operations": "the operations, with every spelling of their names, start and status history",
    "phases": "their phases, with dates at the precision the sources give",
    "metrics": "what is counted or weighed, and the base unit of each",
    "sources": "the source documents (metadata, URL and `text_path`)",
    "results": "every reported figure with its verbatim quote; retracted ones are kept, `retracted=true`",
}


def readme(about: About) -> str:
    """A short README: what the package holds, how its CSVs are written, licence and citation."""
    state = "as it stood at" if about.as_of else "as of its last change,"
    lines = [
        f"# {about.title}",
        "",
        about.description,
        "",
        f"This package holds the dataset {state} {about.created}. `datapackage.json` describes every "
        "file (a Frictionless Data Package v2): each column's type, description and unit, the keys "
        "and the foreign keys between the tables.",
        "",
        "| file | rows | what it holds |",
        "|---|---|---|",
        *(f"| `{name}.csv` | {about.rows.get(name, 0)} | {what} |" for name, what in FILES.items()),
        "| `sources/<id>.txt` | | the full text of each source, UTF-8: quote and number offsets index it |",
        "",
        "## Reading the tables",
        "",
        "- CSV, UTF-8, comma-separated, CRLF line ends, a header row of the field names.",
        "- An empty cell is null. Lists of names are joined with `; `; lists of objects (aliases, status "
        "history, sources) are JSON arrays.",
        "- A text cell that would start with `=`, `+`, `-`, `@`, a tab or a carriage return starts with "
        "`'` (so that no spreadsheet runs it as a formula); remove that one leading `'` to get the text.",
        "- `value` is the figure as stated, in `unit`; `value_base` the same in the metric's `base_unit`; "
        "`qualifier` says how the source qualifies it (`more_than`: more than). Figures with "
        "`duplicate_of` are other reports of the same figure: never add them up twice.",
        "- `quote` is verbatim: `text[quote_start:quote_end]` of the source's text (offsets count "
        "Unicode code points), and `text[number_start:number_end]` is `number_text`.",
        "",
        "## Licence and citation",
        "",
        f"The data is published under the {about.license['title']} ({about.license['path']}). The texts "
        "of the source documents remain their publishers' and are included as the evidence of the "
        "figures. Cite the dataset as `CITATION.cff` says, and each figure's source document.",
        "",
    ]
    return "\n".join(lines)


def _reference(doc: Document) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "generic", "title": doc.title, "authors": [{"name": doc.publisher}]}
    if doc.published_on is not None:
        out["date-published"] = doc.published_on.isoformat()
    if doc.path.startswith(("http://", "https://")):
        out["url"] = doc.path
    return out


def citation_cff(about: About, documents: list[Document]) -> str:
    """CITATION.cff (Citation File Format 1.2.0) of the dataset, with its source documents as references."""
    data = {
        "cff-version": CFF_VERSION,
        "message": "If you use this dataset, please cite it as below, and cite the source of each figure.",
        "type": "dataset",
        "title": about.title,
        "abstract": about.description,
        "authors": AUTHORS,
        "date-released": about.created[:10],
        "version": about.created,
        "license": about.license["name"],
        "keywords": KEYWORDS,
        "references": [_reference(d) for d in documents],
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1_000_000)
