"""A small thread-safe cache that forgets its oldest entries: what an adapter may remember between
polls without growing with the life of a warm Lambda container."""

from __future__ import annotations

import threading
from collections import OrderedDict


class BoundedCache[K, V]:
    """At most `size` entries; the least recently used goes first. Safe to share between the poller's
    worker threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
