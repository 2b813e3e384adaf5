"""Where a quote stands in its source: the one locator and the one occurrence count, overlaps included."""

from app.domain.errors import FigureRejected


def quote_positions(text: str, quote: str) -> list[int]:
    """Every offset where `quote` starts in `text`, overlapping copies included."""
    positions: list[int] = []
    i = text.find(quote) if quote else -1
    while i != -1:
        positions.append(i)
        i = text.find(quote, i + 1)
    return positions


def occurrence_at(text: str, quote: str, start: int) -> int:
    """Which occurrence (1-based, overlaps counted) of `quote` begins at `start`, as locate_quote counts."""
    return sum(1 for p in quote_positions(text, quote) if p < start) + 1


def is_repeated(text: str, quote: str) -> bool:
    """True when `quote` stands more than once in `text` (its occurrence must then be named)."""
    return len(quote_positions(text, quote)) > 1


def locate_quote(text: str, quote: str, occurrence: int | None = None) -> int:
    """Where `quote` stands verbatim in `text`; refuses a missing or ambiguous quote."""
    positions = quote_positions(text, quote)
    if not positions:
        raise FigureRejected("quote", "is not verbatim in the source text")
    if occurrence is None:
        if len(positions) > 1:
            raise FigureRejected(
                "quote",
                f"occurs {len(positions)} times in the source; make it longer or say which occurrence",
            )
        occurrence = 1
    if occurrence > len(positions):
        raise FigureRejected("quote", f"occurs {len(positions)} time(s), not {occurrence}")
    return positions[occurrence - 1]


SELECTOR_CONTEXT = 32


def quote_context(text: str, start: int, end: int) -> tuple[str, str]:
    """Up to 32 characters of `text` just before and just after `text[start:end]` (W3C
    TextQuoteSelector prefix and suffix), so a reader can find the quote again in a copy of the text."""
    return text[max(0, start - SELECTOR_CONTEXT) : start], text[end : end + SELECTOR_CONTEXT]
