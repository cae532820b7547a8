"""Load shedding at the head of a replica's queue.

`max_queue_wait` drops a request that waited longer than the bound. CoDel (Nichols and
Jacobson, 2012) drops when the queue delay has stayed above `target` for a whole
`interval`, then drops at intervals shrinking as interval/sqrt(count) until the delay falls
below the target again.
"""

from __future__ import annotations

import math


class MaxWait:
    __slots__ = ("bound",)

    def __init__(self, bound: float) -> None:
        self.bound = bound

    def drop(self, now: float, sojourn: float, queued: int) -> bool:
        return sojourn > self.bound


class CoDel:
    __slots__ = ("count", "drop_next", "dropping", "first_above", "interval", "target")

    def __init__(self, target: float, interval: float) -> None:
        self.target = target
        self.interval = interval
        self.first_above = 0.0
        self.dropping = False
        self.drop_next = 0.0
        self.count = 0

    def _ok_to_drop(self, now: float, sojourn: float, queued: int) -> bool:
        if sojourn < self.target or queued == 0:
            self.first_above = 0.0
            return False
        if self.first_above == 0.0:
            self.first_above = now + self.interval
            return False
        return now >= self.first_above

    def drop(self, now: float, sojourn: float, queued: int) -> bool:
        ok = self._ok_to_drop(now, sojourn, queued)
        if self.dropping:
            if not ok:
                self.dropping = False
                return False
            if now >= self.drop_next:
                self.count += 1
                self.drop_next += self.interval / math.sqrt(self.count)
                return True
            return False
        if ok:
            self.dropping = True
            # Resume near the previous drop rate if the last episode was recent.
            recent = now - self.drop_next < 16 * self.interval
            self.count = self.count - 2 if recent and self.count > 2 else 1
            self.drop_next = now + self.interval / math.sqrt(self.count)
            return True
        return False
