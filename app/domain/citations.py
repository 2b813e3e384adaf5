"""Citations of one figure: CSL-JSON (the structured form), BibTeX, RIS and plain text (citeproc-py).

Every form names the source document, the figure in words with its qualifier, the verbatim quote
and the permanent URL of the figure as it stood at the instant of the citation (`at=`).
"""

import os
import re
import warnings
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import citeproc
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON

QUALIFIER_WORDS = {
    "exact": "",
    "more_than": "more than",
    "at_least": "at least",
    "about": "about",
    "almost": "almost",
    "up_to": "up to",
    "less_than": "less than",
}
COUNT_UNITS = ("count",)
STYLE = "harvard-cite-them-right.csl"
BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


@dataclass(frozen=True)
class CitedFigure:
    """What a citation of one figure states."""

    result_id: str
    revision: int
    metric_label: str
    operation: str | None
    phase: str | None
    number_text: str
    unit: str
    qualifier: str
    as_of: date
    quote: str
    source_title: str
    publisher: str
    published_on: date | None
    source_url: str | None
    url: str
    at: datetime


def figure_in_words(f: CitedFigure) -> str:
    """ "more than 8.9 t of opium seized": the qualifier, the number as written, unit and metric."""
    what = f.metric_label[:1].lower() + f.metric_label[1:]
    amount = f.number_text if f.unit in COUNT_UNITS else f"{f.number_text} {f.unit} of"
    words = " ".join(p for p in (QUALIFIER_WORDS.get(f.qualifier, ""), amount, what) if p)
    return words[:1].upper() + words[1:]


def title_of(f: CitedFigure) -> str:
    """The citation's title: the figure in words, and what it is a figure of."""
    of = ", ".join(p for p in (f.operation, f.phase) if p)
    return f"{figure_in_words(f)}" + (f" ({of}; statement of {f.as_of.isoformat()})" if of else "")


def _parts(d: date | datetime) -> dict[str, list[list[int]]]:
    return {"date-parts": [[d.year, d.month, d.day]]}


def csl_item(f: CitedFigure) -> dict[str, Any]:
    """The CSL-JSON item (type dataset) of the figure."""
    item: dict[str, Any] = {
        "id": f"opstats-{f.result_id}",
        "type": "dataset",
        "title": title_of(f),
        "author": [{"literal": f.publisher}],
        "publisher": f.publisher,
        "container-title": f.source_title,
        "accessed": _parts(f.at),
        "URL": f.url,
        "version": str(f.revision),
        "note": f"“{f.quote}”",
        "source": "opstats",
    }
    if f.published_on is not None:
        item["issued"] = _parts(f.published_on)
    else:
        item["issued"] = _parts(f.as_of)
    if f.source_url:
        item["archive_location"] = f.source_url
    return item


def bibtex_escape(text: str) -> str:
    """Text safe inside a braced BibTeX field (special characters escaped, no line breaks)."""
    flat = re.sub(r"\s+", " ", text).strip()
    return "".join(BIBTEX_SPECIAL.get(c, c) for c in flat)


def bibtex(f: CitedFigure) -> str:
    """A BibTeX @misc entry of the figure."""
    issued = f.published_on or f.as_of
    fields = [
        ("title", title_of(f)),
        ("author", "{" + f.publisher + "}"),
        ("publisher", f.publisher),
        ("howpublished", f.source_title),
        ("year", str(issued.year)),
        ("month", str(issued.month)),
        ("url", f.url),
        ("urldate", f.at.date().isoformat()),
        ("note", f"“{f.quote}”" + (f" Source: {f.source_url}" if f.source_url else "")),
    ]
    key = re.sub(r"[^A-Za-z0-9:-]", "-", f"opstats:{f.result_id}")
    body = ",\n".join(
        f"  {name} = {{{value if name == 'url' else _bib_value(name, value)}}}" for name, value in fields
    )
    return f"@misc{{{key},\n{body}\n}}\n"


def _bib_value(name: str, value: str) -> str:
    """An escaped field value (the author is a braced corporate name: kept whole)."""
    if name == "author":
        return "{" + bibtex_escape(value[1:-1]) + "}"
    return bibtex_escape(value)


def _ris_line(tag: str, value: str) -> str:
    """One RIS tag line (a value never spans lines)."""
    flat = re.sub(r"\s+", " ", value).strip()
    return f"{tag}  - {flat}"


def ris(f: CitedFigure) -> str:
    """An RIS record (TY DATA) of the figure, one tag per line."""
    issued = f.published_on or f.as_of
    lines = [
        ("TY", "DATA"),
        ("TI", title_of(f)),
        ("AU", f.publisher),
        ("PB", f.publisher),
        ("T2", f.source_title),
        ("PY", str(issued.year)),
        ("DA", issued.strftime("%Y/%m/%d")),
        ("UR", f.url),
        ("Y2", f.at.strftime("%Y/%m/%d")),
        ("N1", f"“{f.quote}”"),
    ]
    if f.source_url:
        lines.append(("L2", f.source_url))
    return "\r\n".join([*(_ris_line(t, v) for t, v in lines), "ER  - ", ""])


def plain_text(f: CitedFigure) -> str:
    """The citation as text (Harvard style through citeproc-py), followed by the quote."""
    item = csl_item(f)
    path = os.path.join(os.path.dirname(citeproc.__file__), "data", "styles", STYLE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        style = CitationStylesStyle(path, validate=False)
        bib = CitationStylesBibliography(style, CiteProcJSON([item]), formatter.plain)
        bib.register(Citation([CitationItem(item["id"])]))
        entry = str(bib.bibliography()[0])
    return f"{entry} Quote: “{f.quote}”\n"
