"""Envoy outlier detection by consecutive 5xx, for the replicas of one component.

A replica answering `consecutive_5xx` failures in a row is ejected for base_ejection_time × k
(k = its ejections in a row, capped at max_ejection_time), unless that would eject more than
max_ejection_percent of the replicas in the cluster now — at least one may always be
ejected. A replica that leaves (scale-down, rollout) leaves the detector as a host leaves
Envoy's cluster: it no longer counts, ejected or not. Every `interval` the detector returns
replicas whose time is up and lowers k of replicas that stayed healthy.
"""

from __future__ import annotations


class OutlierDetector:
    __slots__ = ("base", "consecutive", "ejected", "ejections", "history", "hosts", "interval",
                 "k", "max_percent", "max_time", "present", "threshold", "until")

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
        self.present = [True] * replicas  # in the cluster: joined and not left
        self.hosts = replicas  # replicas present, what max_ejection_percent is a share of
        self.ejections = 0
        self.history: list[tuple[float, int, float]] = []  # (time, replica, until)

    def join(self, replica: int) -> None:
        """A replica started since enters the cluster (indices up to it are made room for)."""
        extra = replica + 1 - len(self.ejected)
        if extra > 0:
            self.consecutive += [0] * extra
            self.k += [0] * extra
            self.until += [0.0] * extra
            self.ejected += [False] * extra
            self.present += [False] * extra
        if not self.present[replica]:
            self.present[replica] = True
            self.hosts += 1

    def leave(self, replica: int) -> None:
        """A replica leaves the cluster for good: no longer a host, nor an ejected one."""
        if self.present[replica]:
            self.present[replica] = False
            self.hosts -= 1
            self.ejected[replica] = False

    def record(self, now: float, replica: int, failed: bool) -> bool:
        """An answer from `replica`; True when it gets ejected now (never once it has left:
        the answers of a draining replica reach no detector)."""
        if not self.present[replica]:
            return False
        if not failed:
            self.consecutive[replica] = 0
            return False
        self.consecutive[replica] += 1
        if self.consecutive[replica] < self.threshold or self.ejected[replica]:
            return False
        self.consecutive[replica] = 0
        count = sum(self.ejected)
        if count and (count + 1) > self.max_percent * self.hosts:
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
