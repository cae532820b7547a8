"""Envoy outlier detection by consecutive 5xx, for the replicas of one component.

A replica answering `consecutive_5xx` failures in a row is ejected for base_ejection_time × k
(k = its ejections in a row, capped at max_ejection_time), unless that would eject more than
max_ejection_percent of the replicas — at least one may always be ejected. Every `interval`
the detector returns replicas whose time is up and lowers k of replicas that stayed healthy.
"""

from __future__ import annotations


class OutlierDetector:
    __slots__ = ("base", "consecutive", "ejected", "ejections", "history", "interval", "k",
                 "max_percent", "max_time", "threshold", "until")

    def __init__(self, replicas: int, threshold: int, interval: float, base: float,
                 max_time: float, max_percent: float) -> None:
        self.threshold = threshold
        self.interval = interval
        self.base = base
        self.max_time = max(max_time, base)
        self.max_percent = max_percent
        self.consecutive = [0] * replicas
        self.k = [0] * replicas
        self.until = [0.0] * replicas
        self.ejected = [False] * replicas
        self.ejections = 0
        self.history: list[tuple[float, int, float]] = []  # (time, replica, until)

    def grow(self, replicas: int) -> None:
        """Make room for replicas added since (indices up to `replicas` − 1)."""
        extra = replicas - len(self.ejected)
        if extra > 0:
            self.consecutive += [0] * extra
            self.k += [0] * extra
            self.until += [0.0] * extra
            self.ejected += [False] * extra

    def record(self, now: float, replica: int, failed: bool) -> bool:
        """An answer from `replica`; True when it gets ejected now."""
        if not failed:
            self.consecutive[replica] = 0
            return False
        self.consecutive[replica] += 1
        if self.consecutive[replica] < self.threshold or self.ejected[replica]:
            return False
        self.consecutive[replica] = 0
        count = sum(self.ejected)
        if count and (count + 1) > self.max_percent * len(self.ejected):
            return False
        self.k[replica] += 1
        self.ejected[replica] = True
        self.until[replica] = now + min(self.base * self.k[replica], self.max_time)
        self.ejections += 1
        if len(self.history) < 10_000:
            self.history.append((now, replica, self.until[replica]))
        return True

    def sweep(self, now: float) -> list[int]:
        """The interval timer: replicas to return to service now."""
        back = []
        for replica, ejected in enumerate(self.ejected):
            if ejected and now >= self.until[replica]:
                self.ejected[replica] = False
                back.append(replica)
            elif not ejected and self.k[replica] > 0:
                self.k[replica] -= 1
        return back
