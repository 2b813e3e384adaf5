"""Sentences, paragraphs and news items of scraped texts, as offsets into the text (never copies).

Scraped CSTO pages glue image names to sentences ("confiscated.IMG-2019...jpg"), abbreviate names
("A. Sultanov"), open direct speech mid-line (`continued, “Over the past ...”`) and run several
dated news items in one file. Every span here slices the original text, so a quote built from it
is verbatim and its offsets are exact.
"""

import itertools
import re
from dataclasses import dataclass

# Image and document names glued into the text; their digits are no figures and they end a sentence.
FILE_NAME_RE = re.compile(r"(?<![\w-])[\w-]+\.(?i:jpe?g|png|gif|webp|bmp|pdf|docx?|xlsx?|mp4)(?![a-z0-9])")
# A paragraph is a line; a news item ends at two or more blank lines (a single blank line separates
# paragraphs of one item in these streams).
_ITEM_BREAK_RE = re.compile(r"\n[ \t\r]*\n(?:[ \t\r]*\n)+")
# A sentence ends at . ! ? (and closing quotes or brackets after them) before a space and a capital,
# a digit or an opening quote; or glued to the next sentence's capitalised word ("Almaty.More").
_END_RE = re.compile(r"[.!?]+[\"”’»)\]]*(?=\s+[\"“‘«(\[]?[A-ZА-ЯЁ0-9])|(?<=[a-z]{2}[.!?])(?=[A-Z][a-z])")
# Direct speech opened after a comma or colon starts a sentence when the quotation is itself whole.
_SPEECH_RE = re.compile(r"[,:]\s*“(?=[A-ZА-ЯЁ])")
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "st", "no", "nos", "vs", "approx", "art", "para"}
    | {"fig", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
)
_LIST_MARK_RE = re.compile(r"\s*(?:\d{1,2}|[a-z])[.)]$")
_PAIRS = {"”": "“", "’": "‘", "»": "«", ")": "(", "]": "[", '"': '"'}
_OPENERS = {v: k for k, v in _PAIRS.items()}


@dataclass(frozen=True)
class Span:
    """A stretch of the text by offsets: text[start:end]."""

    start: int
    end: int

    def contains(self, pos: int) -> bool:
        """True when `pos` lies inside the span."""
        return self.start <= pos < self.end


def paragraphs(text: str) -> list[Span]:
    """Each non-blank line, stripped: the scraped pages put one paragraph per line."""
    out = []
    for m in re.finditer(r"[^\n]+", text):
        span = strip_span(text, m.start(), m.end())
        if span is not None:
            out.append(span)
    return out


def news_items(text: str) -> list[Span]:
    """The news items of a stream: runs of text between two-or-more blank lines."""
    out, start = [], 0
    for m in _ITEM_BREAK_RE.finditer(text):
        out.append(Span(start, m.start()))
        start = m.end()
    out.append(Span(start, len(text)))
    return out


def split_sentences(text: str) -> list[Span]:
    """Every sentence of `text`, trimmed of spaces, file names and unbalanced quote marks."""
    out: list[Span] = []
    for block in blocks(text):
        out.extend(_sentences_in(text, block))
    return out


def blocks(text: str) -> list[Span]:
    """Lines, cut again around glued file names, which belong to no sentence."""
    out = []
    for line in re.finditer(r"[^\n]+", text):
        start = line.start()
        for f in FILE_NAME_RE.finditer(text, line.start(), line.end()):
            out.append(Span(start, f.start()))
            start = f.end()
        out.append(Span(start, line.end()))
    return out


def _sentences_in(text: str, block: Span) -> list[Span]:
    """Split one block at sentence ends that are not abbreviations, initials or list marks."""
    cuts = [block.start]
    for m in _END_RE.finditer(text, block.start, block.end):
        if not _is_abbreviation(text, block.start, m.start()):
            cuts.append(m.end())
    for m in _SPEECH_RE.finditer(text, block.start, block.end):
        if _whole_quotation(text, m.end(), block.end):
            cuts.append(m.end())
    cuts = [*sorted(set(cuts)), block.end]
    spans = (strip_span(text, a, b) for a, b in itertools.pairwise(cuts))
    return [s for s in spans if s is not None]


def _is_abbreviation(text: str, block_start: int, dot: int) -> bool:
    """True when the full stop at `dot` closes an initial ("A."), an abbreviation or a list mark."""
    if text[dot] != ".":
        return False
    word = re.search(r"([\w]+)$", text[block_start:dot])
    if word is None:
        return False
    w = word.group(1)
    if (len(w) == 1 and w.isupper()) or w.lower() in _ABBREVIATIONS:
        return True
    return bool(_LIST_MARK_RE.fullmatch(text[block_start : dot + 1]))


def _whole_quotation(text: str, start: int, end: int) -> bool:
    """True when the quotation opened at `start` closes after a sentence end ('... eliminated.”')."""
    close = text.find("”", start, end)
    return close > start and text[close - 1] in ".!?"


def strip_span(text: str, start: int, end: int) -> Span | None:
    """The span without surrounding spaces and unbalanced quote marks; None when nothing is left."""
    while True:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start >= end:
            return None
        piece = text[start:end]
        if piece[-1] in _PAIRS and _unbalanced(piece, _PAIRS[piece[-1]], piece[-1]):
            end -= 1
        elif piece[0] in _OPENERS and _unbalanced(piece, piece[0], _OPENERS[piece[0]]):
            start += 1
        else:
            return Span(start, end)


def _unbalanced(piece: str, opener: str, closer: str) -> bool:
    """True when `piece` holds more of one quote mark of a pair than of the other (or an odd ")."""
    if opener == closer:
        return piece.count(opener) % 2 == 1
    return piece.count(opener) != piece.count(closer)
