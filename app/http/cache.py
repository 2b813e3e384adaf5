"""In-process caches keyed by the data version: a write anywhere makes every old entry unreachable."""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
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
