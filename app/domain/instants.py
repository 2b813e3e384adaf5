"""Instants a request names (`at=`, `since=`): RFC 3339 with an offset, in UTC, never in the future."""

import re
from datetime import UTC, datetime

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def parse_instant(text: str) -> datetime:
    """An RFC 3339 timestamp with its offset (e.g. 2026-12-01T10:00:00Z), in UTC; ValueError otherwise."""
    if not RFC3339.match(text.strip()):
        raise ValueError("must be an RFC 3339 timestamp with an offset, e.g. 2026-12-01T10:00:00Z")
    raw = text.strip().replace("z", "Z").replace("Z", "+00:00")
    head, _, frac_zone = raw.partition(".")
    if frac_zone:  # Python reads at most 6 fractional digits
        digits = re.match(r"\d+", frac_zone)
        frac = digits.group(0) if digits else ""
        raw = f"{head}.{frac[:6].ljust(6, '0')}{frac_zone[len(frac) :]}"
    try:
        return datetime.fromisoformat(raw).astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # OverflowError: 0001-01-01 east of UTC is before year 1
        raise ValueError(f"is not a valid instant: {exc}") from exc


def check_past(at: datetime) -> datetime:
    """The instant, when it is not in the future (the future has no answer yet)."""
    if at > datetime.now(UTC):
        raise ValueError("is in the future: the data can be read only as it stood at a past instant")
    return at


def instant_of(value: str | None) -> datetime | None:
    """The instant a request names, or None when it names none or a malformed one (refused elsewhere)."""
    if not value:
        return None
    try:
        return check_past(parse_instant(value))
    except ValueError:
        return None
