"""Admission with a limit and a waiting line: Resilience4j bulkheads and Envoy connection
pools share this shape.

A semaphore bulkhead admits `limit` calls at once and lets others wait up to `max_wait`
(the kernel expires them); a thread-pool bulkhead or an Envoy HTTP/1.1 pool lets at most
`queue` wait, however long. Waiters are served first in, first out.
"""

from __future__ import annotations

from collections import deque


class Gate:
    __slots__ = ("active", "limit", "max_active", "queue", "queue_cap", "rejected", "waiting")

    def __init__(self, limit: int, queue_cap: int) -> None:
        self.limit = limit
        self.queue_cap = queue_cap  # waiters allowed; -1 = any number (bounded by time)
        self.active = 0
        self.max_active = 0
        self.rejected = 0
        self.waiting: deque[object] = deque()
        self.queue = 0  # waiters still valid (expired ones may linger in `waiting`)

    def try_enter(self) -> bool:
        if self.active < self.limit:
            self.active += 1
            if self.active > self.max_active:
                self.max_active = self.active
            return True
        return False

    def can_wait(self) -> bool:
        return self.queue_cap < 0 or self.queue < self.queue_cap

    def wait(self, item: object) -> None:
        self.waiting.append(item)
        self.queue += 1

    def leave(self) -> None:
        """A holder is done; the caller then offers the place to `next_waiter()`."""
        self.active -= 1

    def next_waiter(self) -> object | None:
        """Admit the oldest waiter, if any; the kernel skips waiters that gave up."""
        if self.waiting and self.active < self.limit:
            self.queue -= 1
            self.active += 1
            if self.active > self.max_active:
                self.max_active = self.active
            return self.waiting.popleft()
        return None
