"""A first-in-first-out queue on a circular list, for the kernel's hot queues: a replica's
waiting requests and the agenda's lanes.

Compiled with mypyc, its methods are native calls, where a deque's are looked up by name on
every call. Its list only grows (doubling, a power of two long): a queue that empties and
fills again, as these do all the time, reallocates nothing, where a plain list emptied and
refilled frees and allocates its array each time. A slot is cleared when its item is taken,
so the ring holds nothing the simulation has let go of.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar, final

from mypy_extensions import i64

T = TypeVar("T")


@final
class Ring(Generic[T]):
    __slots__ = ("head", "items", "mask", "size")

    def __init__(self) -> None:
        self.items: list[T | None] = [None] * 8
        self.mask: i64 = 7  # len(items) - 1
        self.head: i64 = 0  # the slot of the first item
        self.size: i64 = 0

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[T]:
        for n in range(self.size):
            item = self.items[(self.head + n) & self.mask]
            assert item is not None
            yield item

    def append(self, item: T) -> None:
        if self.size > self.mask:
            self._grow()
        self.items[(self.head + self.size) & self.mask] = item
        self.size += 1

    def first(self) -> T:
        """The first item, left in place; the ring is not empty."""
        item = self.items[self.head]
        assert item is not None
        return item

    def popleft(self) -> T:
        """Take the first item; the ring is not empty."""
        head = self.head
        item = self.items[head]
        assert item is not None
        self.items[head] = None
        self.head = (head + 1) & self.mask
        self.size -= 1
        return item

    def clear(self) -> None:
        self.items = [None] * len(self.items)
        self.head = self.size = 0

    def _grow(self) -> None:
        """Double the list, the items in order from its start."""
        items = self.items
        self.items = items[self.head:] + items[:self.head] + [None] * len(items)
        self.mask = len(self.items) - 1
        self.head = 0
