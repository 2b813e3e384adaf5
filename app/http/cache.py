"""In-process caches keyed by the data version: a write anywhere makes every old entry unreachable."""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class VersionedLRU:
    """A thread-safe LRU whose keys start with the data version; a newer version drops older entries."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max(1, max_entries)
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._version = -1
        self._epoch: str | None = None

    def observe_epoch(self, epoch: str) -> None:
        """Forget everything, and the newest version seen, when the database was made anew."""
        with self._lock:
            if epoch != self._epoch:
                self._data.clear()
                self._version = -1
                self._epoch = epoch

    def _observe(self, version: int) -> None:
        """Forget everything cached under an older version (called with the lock held)."""
        if version > self._version:
            self._data.clear()
            self._version = version

    def get(self, version: int, key: Hashable) -> Any | None:
        """The value cached for (version, key), or None."""
        with self._lock:
            self._observe(version)
            full = (version, key)
            value = self._data.get(full)
            if value is not None:
                self._data.move_to_end(full)
            return value

    def put(self, version: int, key: Hashable, value: Any) -> None:
        """Remember a value; entries of a version older than the newest seen are not stored."""
        with self._lock:
            self._observe(version)
            if version < self._version:
                return
            self._data[(version, key)] = value
            self._data.move_to_end((version, key))
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

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
