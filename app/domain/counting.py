"""The honest arithmetic shared by totals and series: which reports count, and what their sum means.

Rules (also in the README):
- Retracted results never count.
- Reports linked by `duplicate_of` are one figure: the canonical report is used; when it is
  retracted, the newest (as_of, then id) remaining duplicate is used. Differing reports are
  listed as a `duplicate_reports` disagreement.
- A phase contributes one whole-phase figure (scope phase, country null) per metric; if it has
  several independent ones, the newest (as_of, then id) is used and the others are listed as a
  `conflicting_phase_figures` disagreement. This choice is made in SQL (app/read/figures.py,
  window functions over ix_result_totals), so totals never load every phase figure of an operation.
- Country shares and running totals (cumulative, programme) are never added to anything.
- Qualifier of a sum (`sum_qualifier`): all exact → exact; exact + at_least → at_least, a lower
  bound; exact/at_least + more_than → more_than, a lower bound; exact + almost → almost, an upper
  bound; exact/almost + up_to → up_to, an upper bound; exact/almost/up_to + less_than →
  less_than, an upper bound; about with exact/almost/more_than/at_least → about, neither bound;
  anything else (a lower bound with an upper bound, about with up_to or less_than) → mixed,
  neither bound.
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

SumQualifier = Literal["exact", "more_than", "at_least", "about", "almost", "up_to", "less_than", "mixed"]

MAX_LISTED = 5
LOWER_BOUNDS = frozenset({"more_than", "at_least"})  # the true value is at least the stated one
UPPER_BOUNDS = frozenset({"almost", "up_to", "less_than"})  # the true value is at most the stated one


@dataclass(frozen=True)
class Fig:
    """A result reduced to what totals need (no quote text)."""

    id: str
    operation: str | None
    phase: str | None
    metric: str
    value: float
    unit: str
    value_base: float
    base_unit: str
    qualifier: str
    scope: str
    country: str | None
    as_of: date
    period_start: str | None
    duplicate_of: str | None

    @property
    def order(self) -> tuple[date, str]:
        """Newest last: by as_of, then id."""
        return (self.as_of, self.id)


def groups_of(figs: Iterable[Fig]) -> list[list[Fig]]:
    """Reports of the same figure together (a report and those that are `duplicate_of` it)."""
    by_key: dict[str, list[Fig]] = defaultdict(list)
    for f in figs:
        by_key[f.duplicate_of or f.id].append(f)
    return [sorted(g, key=lambda f: f.order) for _, g in sorted(by_key.items())]


def representative(group: Sequence[Fig]) -> Fig:
    """The report a group counts by: the canonical one, else the newest remaining duplicate."""
    canonical = [f for f in group if f.duplicate_of is None]
    return canonical[0] if canonical else max(group, key=lambda f: f.order)


def differ(group: Sequence[Fig]) -> bool:
    """True when reports of one figure state different values or qualifiers."""
    return len({(f.value_base, f.qualifier) for f in group}) > 1


def one_per_group(figs: Iterable[Fig]) -> list[Fig]:
    """The representative of every group of reports (the report it counts by)."""
    return [representative(group) for group in groups_of(figs)]


def sum_qualifier(qualifiers: Iterable[str]) -> tuple[SumQualifier, bool, bool, str]:
    """What a sum of figures with these qualifiers means: qualifier, lower bound?, upper bound?, why."""
    q = set(qualifiers) - {"exact"}
    if not q:
        return "exact", True, True, "every part is exact"
    if q <= LOWER_BOUNDS:
        if "more_than" in q:
            return "more_than", True, False, "a sum of 'more than' figures: a lower bound"
        return "at_least", True, False, "a sum with 'at least' figures: a lower bound"
    if q == {"almost"}:
        return "almost", False, True, "a sum with 'almost' figures: a little under the total, an upper bound"
    if q <= UPPER_BOUNDS:
        if "less_than" in q:
            return "less_than", False, True, "a sum with 'less than' figures: an upper bound"
        return "up_to", False, True, "a sum with 'up to' figures: an upper bound"
    if "about" in q and q <= {"about", "almost"} | LOWER_BOUNDS:
        note = "approximate: some parts are 'about' figures"
        if q & LOWER_BOUNDS:
            note += "; parts stated as 'more than' or 'at least' may make the true total higher"
        return "about", False, False, note
    return (
        "mixed",
        False,
        False,
        (f"mixes {', '.join(sorted(q))}: neither a lower nor an upper bound, read each part"),
    )


def total_of(figs: Iterable[Fig]) -> float:
    """The exact-as-floats-allow sum of base values."""
    return math.fsum(f.value_base for f in figs)
