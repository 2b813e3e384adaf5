"""The app's caches, in one registry made with the app: what a process keeps between requests.

Every cache is a `VersionedLRU`: keyed by a data version, so a write anywhere makes every older
entry unreachable, and by the database epoch (`observe_epoch`), so a database made anew (a restore,
a reset) confirms no old entry. `Caches.create` splits one budget, RESPONSE_CACHE_BYTES, among them,
so the sum is bounded; a fresh app has empty caches, and nothing is kept in module globals.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, fields
from typing import Any, TypeVar

T = TypeVar("T")
SMALL = 256  # what a value whose size is not told (a count, a small model) is taken to weigh


def weight_of(value: Any) -> int:
    """The bytes a cached value holds: a body's length, the bodies of a (headers, body, etag) entry."""
    if isinstance(value, bytes | bytearray | str):
        return len(value) + SMALL
    if isinstance(value, tuple):
        return sum(len(v) for v in value if isinstance(v, bytes | str)) + SMALL
    return SMALL


class VersionedLRU:
    """A thread-safe LRU whose keys start with the data version; a newer version drops older entries.

    Bounded twice: at most `max_entries` entries and `max_bytes` of values (by `weight_of`), so a
    few large bodies (all totals at a million results: megabytes) are kept without letting them
    grow the process without bound; a value over a quarter of the budget is not kept."""

    def __init__(self, max_entries: int, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_entries = max(1, max_entries)
        self.max_bytes = max(1, max_bytes)
        self._data: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._version = -1
        self._epoch: str | None = None
        self.bytes = 0

    @property
    def max_value_bytes(self) -> int:
        """The largest value kept: a quarter of the budget, so one answer never empties the cache."""
        return self.max_bytes // 4

    def observe_epoch(self, epoch: str) -> None:
        """Forget everything, and the newest version seen, when the database was made anew."""
        with self._lock:
            if epoch != self._epoch:
                self._clear()
                self._version = -1
                self._epoch = epoch

    def _clear(self) -> None:
        self._data.clear()
        self.bytes = 0

    def _observe(self, version: int) -> None:
        """Forget everything cached under an older version (called with the lock held)."""
        if version > self._version:
            self._clear()
            self._version = version

    def get(self, version: int, key: Hashable) -> Any | None:
        """The value cached for (version, key), or None."""
        with self._lock:
            self._observe(version)
            full = (version, key)
            entry = self._data.get(full)
            if entry is None:
                return None
            self._data.move_to_end(full)
            return entry[0]

    def put(self, version: int, key: Hashable, value: Any) -> None:
        """Remember a value; entries of a version older than the newest seen, or too large, are not stored."""
        weight = weight_of(value)
        if weight > self.max_value_bytes:
            return
        with self._lock:
            self._observe(version)
            if version < self._version:
                return
            full = (version, key)
            old = self._data.pop(full, None)
            if old is not None:
                self.bytes -= old[1]
            self._data[full] = (value, weight)
            self.bytes += weight
            while len(self._data) > self.max_entries or self.bytes > self.max_bytes:
                self.bytes -= self._data.popitem(last=False)[1][1]

    def get_or_compute(self, version: int, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value, or compute and remember it (computations are not deduplicated)."""
        hit: T | None = self.get(version, key)
        if hit is not None:
            return hit
        value = compute()
        self.put(version, key, value)
        return value

    def __len__(self) -> int:
        return len(self._data)


@dataclass(frozen=True)
class TotalsKept:
    """What the maintained totals' readers keep (app/read/aggregates.py): stored bodies by hash, and
    the answers spliced from them by what they were made of (both under version 0: a hash names
    one body forever)."""

    bodies: VersionedLRU
    assembled: VersionedLRU


SHARES = {  # of the budget: rendered answers first, then values, then the stored totals' bodies
    "responses": 0.35,
    "live": 0.10,
    "frozen": 0.15,
    "values": 0.15,
    "frozen_values": 0.10,
    "bodies": 0.10,
    "assembled": 0.05,
}


@dataclass(frozen=True)
class Caches:
    """Every cache of one app: the conditional-GET layer's rendered answers (by content version,
    by data version for EVERY_WRITE paths, and `at=` answers that never change), the values routes
    compute (counts, totals bodies; current and `at=`), and the maintained totals' bodies."""

    responses: VersionedLRU
    live: VersionedLRU
    frozen: VersionedLRU
    values: VersionedLRU
    frozen_values: VersionedLRU
    totals: TotalsKept

    @classmethod
    def create(cls, max_entries: int, budget: int) -> "Caches":
        """Empty caches sharing `budget` bytes (by SHARES) and `max_entries` entries each."""

        def lru(name: str, entries: int = max_entries) -> VersionedLRU:
            return VersionedLRU(entries, max(1, int(budget * SHARES[name])))

        return cls(
            responses=lru("responses"),
            live=lru("live"),
            frozen=lru("frozen"),
            values=lru("values"),
            frozen_values=lru("frozen_values"),
            totals=TotalsKept(bodies=lru("bodies", 4096), assembled=lru("assembled", 64)),
        )

    def all(self) -> list[VersionedLRU]:
        """Every cache (for the metrics and the tests)."""
        kept = [getattr(self, f.name) for f in fields(self) if f.name != "totals"]
        return [*kept, self.totals.bodies, self.totals.assembled]

    @property
    def bytes(self) -> int:
        """What the caches hold now."""
        return sum(c.bytes for c in self.all())
