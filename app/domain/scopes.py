"""Which writes change published content, and which only the registry of sources and candidates.

Adding a source document, extracting candidates from it and rejecting a candidate change nothing
that operations, phases, results, totals, series, metrics or checks show: no figure refers to a
new source until a result is made from it (which is a content write). Such registry-only writes
bump the data version but not the content version, so the answers keyed by the content version
keep their ETags and cached bodies, and a dashboard polling totals is not sent the same bytes
again after every new press release is stored.
"""

from collections.abc import Iterable

REGISTRY_ONLY: frozenset[tuple[str, str]] = frozenset(
    {("create", "source"), ("extract", "source"), ("reject", "candidate")}
)


def changes_content(changes: Iterable[tuple[str, str]]) -> bool:
    """True unless every (action, entity) of a write only adds to the source or candidate registry."""
    return any(change not in REGISTRY_ONLY for change in changes)
