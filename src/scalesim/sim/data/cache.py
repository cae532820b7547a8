"""A cache with entries per key: TTL, write policies, refresh-ahead and stampede protection.

Reads. A read operation's first step looks up the request's key. An entry younger than its
TTL is a hit (stale when the backend was written since it was loaded and the write did not
reach the cache). Otherwise the read misses and loads the key from `backend` through an
ordinary call (its latency, refusals and retries are the kernel's), then stores it for
`ttl`. While a key loads, its other misses each load too (`none`: the stampede of a hot key
when it expires: 1 + λ·load time loads on average), wait for that one load (`coalesce`), or
— with `xfetch` — a hit recomputes early with probability exp(−time left / (β·δ)), δ the
key's last load time, so one request usually reloads it before it expires (Vattani,
Chierichetti, Lowenstein, VLDB 2015). `refresh_ahead`: a hit on an entry older than that
share of the TTL reloads it in the background (Oracle Coherence refresh-ahead-factor).

Writes. `invalidate` (cache-aside): call `write_to`, then delete the entry — a load that
started before the write can still store the old value afterwards (stale until it
expires); `write_through`: call `write_to`, then store the value; `none`: call `write_to`
only, so the cached value is stale until it expires; `write_behind`: store the value and
answer at once; dirty keys are written to `write_to` every `flush_interval` (one write per
key however many times it changed), so a crash of the replica that held them loses the
writes since the last flush. A write that reaches the backend by another path (the
backend's declared writes, `replication.writes`, or `write_to` called directly) leaves the
key's entry stale as `none` does: the cache never hears of it.

The replicas share one table, as the nodes of one cache cluster: a read on any replica
finds any entry. An entry belongs to the replica that stored it: when that replica goes
down its entries and unflushed writes are gone (a restarted Redis without persistence
starts empty). At most `max_keys` entries are kept in all, least recently used evicted
first.

Per request: O(1) dictionary work and at most one event (the backend call).
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from typing import TYPE_CHECKING, Final

from scalesim.sim.area import Area
from scalesim.sim.metrics import Histogram
from scalesim.sim.plan import (
    NEVER,
    OK,
    AreaStep,
    CallPlan,
    Comp,
    Frame,
    Group,
    Listener,
    Op,
    Replica,
    Root,
)
from scalesim.sim.random import Sampler

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel

INVALIDATE: Final = 0
WRITE_THROUGH: Final = 1
WRITE_BEHIND: Final = 2
NO_UPDATE: Final = 3
STAMPEDE_NONE: Final = 0
COALESCE: Final = 1
XFETCH: Final = 2


class Entry:
    __slots__ = ("delta", "dirty", "expires", "home", "last_write", "loaded", "refreshing",
                 "stale_since")

    def __init__(self, now: float, expires: float, delta: float, home: int) -> None:
        self.loaded = now
        self.expires = expires
        self.delta = delta  # the last load's duration (XFetch's δ)
        self.home = home  # the replica that holds it
        self.stale_since = -1.0  # when the backend changed under it; -1 = fresh
        self.last_write = -1.0  # the latest write of the key while the entry existed
        self.refreshing = False
        self.dirty = False  # write-behind: newer than the backend


class Loads:
    """The loads of one key in flight: a stampede while more than one."""

    __slots__ = ("burst", "count", "last_write", "waiters")

    def __init__(self) -> None:
        self.count = 0
        self.burst = 0  # loads started since the key last had none in flight
        self.last_write = -1.0  # a write of the key while they ran
        self.waiters: list[Frame] = []  # coalesced misses


class Dirty:
    """A key written behind and not yet flushed: when each of its writes was answered (one
    backend write flushes them all; each was exposed until then)."""

    __slots__ = ("home", "times")

    def __init__(self, home: int) -> None:
        self.home = home
        self.times: list[float] = []


class CacheArea(Area):
    def __init__(self, comp: Comp, ttl: float, max_keys: int, policy: int,
                 flush_interval: float, refresh_ahead: float, stampede: int, beta: float,
                 miss: dict[str, CallPlan], write: dict[str, CallPlan], backend: Op,
                 write_to: Op | None, uniform: Sampler) -> None:
        self.comp = comp
        self.ttl = ttl  # NEVER: no expiry
        self.max_keys = max_keys
        self.policy = policy
        self.flush_interval = flush_interval
        self.refresh_ahead = refresh_ahead  # 0 = off
        self.stampede = stampede
        self.beta = beta
        self.miss = miss  # per read operation: its call to the backend
        self.write = write  # per write operation: its call to write_to
        self.backend = backend
        self.write_to = write_to
        self.uniform = uniform
        self.kernel: Kernel | None = None
        self.flush_kind = -1
        self.calls = CacheCalls(self)
        self.background = Background(self)
        self.entries: OrderedDict[int, Entry] = OrderedDict()  # least recently used first
        self.expiry: deque[tuple[float, int]] = deque()  # (expires, key) in insertion order
        self.loads: dict[int, Loads] = {}
        self.loading: dict[Frame, float] = {}  # a read's load in flight -> when it started
        self.writing: dict[Frame, float] = {}
        self.refreshes: dict[Frame, float] = {}  # background loads -> start
        self.dirty: dict[int, Dirty] = {}
        self.flushing: dict[Frame, Dirty] = {}
        # Measured in the window:
        self.reads = 0
        self.hits = 0
        self.misses = 0
        self.coalesced = 0
        self.early = 0  # xfetch recomputations before expiry
        self.refreshed = 0  # refresh-ahead background loads
        self.stale = 0
        self.staleness = Histogram()  # age of the stale value served: now − the write it missed
        self.load_time = Histogram()  # a load, from the miss to the value stored
        self.bursts = 0  # times a key went from no load in flight to some
        self.burst_loads = 0  # loads started in those bursts
        self.burst_max = 0
        self.writes = 0
        self.flushed = 0
        self.lost = 0  # write-behind writes lost with their replica
        self.exposure = Histogram()  # write-behind: a write until the backend has it
        self.evicted = 0
        self.expired = 0

    def attach(self, kernel: Kernel) -> None:
        self.kernel = kernel
        kernel.watch_replicas(self)
        if self.policy == WRITE_BEHIND and self.write_to is not None:
            self.flush_kind = kernel.add_handler(self._flush)
            kernel.push(self.uniform.draw() * self.flush_interval, self.flush_kind, None)

    def bound_buffers(self) -> None:
        for hist in (self.staleness, self.load_time, self.exposure):
            hist.maybe_flush()

    # -- reads ----------------------------------------------------------------------------------
    def read(self, kernel: Kernel, frame: Frame) -> bool:
        now = kernel.now
        counted = now >= kernel.t_start
        self._expire(now, counted)
        key = frame.key
        entry = self.entries.get(key)
        if counted:
            self.reads += 1
        early = False
        if entry is not None and (entry.expires > now or entry.dirty):
            early = self.stampede == XFETCH and self._early(now, entry)
            if not early:
                self._hit(kernel, key, entry, counted)
                return False
        loads = self.loads.get(key)
        if loads is None:
            loads = self.loads[key] = Loads()
        elif self.stampede == COALESCE and loads.count > 0:
            loads.waiters.append(frame)  # singleflight: wait for the load in flight
            if counted:
                self.coalesced += 1
            return True
        if counted:
            if early:
                self.early += 1
            else:
                self.misses += 1
        if loads.count == 0:
            loads.burst = 0
        loads.count += 1
        loads.burst += 1
        self.loading[frame] = now
        kernel.call(frame, self.miss[frame.op.name], Group(1, 1, self.calls))
        return True

    def _hit(self, kernel: Kernel, key: int, entry: Entry, counted: bool) -> None:
        now = kernel.now
        self.entries.move_to_end(key)
        if counted:
            self.hits += 1
            if entry.stale_since >= 0.0:
                self.stale += 1
                self.staleness.add(now - entry.stale_since)
        if self.refresh_ahead > 0.0 and not entry.refreshing and \
                now - entry.loaded >= self.refresh_ahead * self.ttl:
            self._refresh(kernel, key, entry)

    def _early(self, now: float, entry: Entry) -> bool:
        """XFetch: recompute when now − δ·β·ln(U) ≥ expiry."""
        u = max(self.uniform.draw(), 1e-300)
        return now - entry.delta * self.beta * math.log(u) >= entry.expires

    def _expire(self, now: float, counted: bool) -> None:
        expiry = self.expiry
        while expiry and expiry[0][0] <= now:
            _, key = expiry.popleft()
            entry = self.entries.get(key)
            if entry is not None and entry.expires <= now and not entry.dirty:
                del self.entries[key]
                if counted:
                    self.expired += 1

    def _store(self, kernel: Kernel, key: int, delta: float, home: int) -> Entry:
        """Store the key's value for a TTL (a new entry may evict the least recent one)."""
        now = kernel.now
        entry = self.entries.get(key)
        if entry is None:
            if len(self.entries) >= self.max_keys:
                self.entries.popitem(last=False)
                if now >= kernel.t_start:
                    self.evicted += 1
            entry = self.entries[key] = Entry(now, now + self.ttl, delta, home)
        else:
            self.entries.move_to_end(key)
            entry.loaded = now
            entry.expires = now + self.ttl
            entry.delta = delta
            entry.home = home
            entry.stale_since = -1.0
        if self.ttl < NEVER:
            self.expiry.append((entry.expires, key))
        return entry

    def loaded(self, kernel: Kernel, frame: Frame, cause: int) -> None:
        now = kernel.now
        started = self.loading.pop(frame)
        key = frame.key
        loads = self.loads[key]
        loads.count -= 1
        counted = now >= kernel.t_start
        if cause == OK:
            entry = self._store(kernel, key, now - started, frame.rep.index)
            if loads.last_write > started:  # the backend changed while this load read it
                entry.stale_since = loads.last_write
            if counted:
                self.load_time.add(now - started)
        waiters, loads.waiters = loads.waiters, []
        if loads.count == 0:
            del self.loads[key]
            if counted:
                self.bursts += 1
                self.burst_loads += loads.burst
                self.burst_max = max(self.burst_max, loads.burst)
        for waiter in waiters:
            if not waiter.dead:
                kernel.step_done(waiter, cause)
        if not frame.dead:
            kernel.step_done(frame, cause)

    def _refresh(self, kernel: Kernel, key: int, entry: Entry) -> None:
        entry.refreshing = True
        if kernel.now >= kernel.t_start:
            self.refreshed += 1
        visit = Frame(self.backend, None, None, None, 1, key, kernel.now)
        visit.root = self.background
        self.refreshes[visit] = kernel.now
        kernel.enter_message(visit)

    def refreshed_in_background(self, kernel: Kernel, frame: Frame, cause: int) -> None:
        started = self.refreshes.pop(frame)
        entry = self.entries.get(frame.key)
        if entry is None:
            return  # invalidated or evicted meanwhile: the old value is not stored back
        entry.refreshing = False
        if cause != OK:
            return
        stale = entry.last_write if entry.last_write > started else -1.0
        entry = self._store(kernel, frame.key, kernel.now - started, entry.home)
        entry.stale_since = stale

    # -- writes ---------------------------------------------------------------------------------
    def write_step(self, kernel: Kernel, frame: Frame) -> bool:
        now = kernel.now
        if now >= kernel.t_start:
            self.writes += 1
        if self.policy == WRITE_BEHIND:
            entry = self._store(kernel, frame.key, self._delta(frame.key), frame.rep.index)
            entry.dirty = True
            dirty = self.dirty.get(frame.key)
            if dirty is None:
                dirty = self.dirty[frame.key] = Dirty(frame.rep.index)
            dirty.times.append(now)
            return False
        self.writing[frame] = now
        kernel.call(frame, self.write[frame.op.name], Group(1, 1, self.calls))
        return True

    def _delta(self, key: int) -> float:
        """The key's last load time, kept when a write stores its value."""
        entry = self.entries.get(key)
        return entry.delta if entry is not None else 0.0

    def written(self, kernel: Kernel, frame: Frame, cause: int) -> None:
        del self.writing[frame]
        now = kernel.now
        key = frame.key
        if cause == OK:
            if self.policy == NO_UPDATE:
                self._changed_under(key, now)
            else:
                loads = self.loads.get(key)
                if loads is not None:
                    loads.last_write = now  # loads in flight read the old value
                if self.policy == WRITE_THROUGH:
                    self._store(kernel, key, self._delta(key), frame.rep.index)
                elif key in self.entries:  # invalidate
                    del self.entries[key]
        if not frame.dead:
            kernel.step_done(frame, cause)

    def backend_written(self, kernel: Kernel, frame: Frame) -> None:
        """A write of the backend's data committed by another path than this cache (an
        application writing the database directly, another cache): nothing tells this cache,
        so its entry of the key is stale until it expires, and loads in flight read the old
        value. The cache's own writes and flushes are `written` and `flushed_write`'s."""
        parent = frame.parent
        if frame.root is self.background or (parent is not None and parent.op.comp is self.comp):
            return
        self._changed_under(frame.key, kernel.now)

    def _changed_under(self, key: int, now: float) -> None:
        """The backend's value of `key` changed at `now` and this cache did not store it (a
        write with `none`, or one past the cache): loads in flight read the old value, and
        the entry is stale from the first such write until it expires."""
        loads = self.loads.get(key)
        if loads is not None:
            loads.last_write = now
        entry = self.entries.get(key)
        if entry is not None:
            entry.last_write = now
            if entry.stale_since < 0.0:
                entry.stale_since = now

    def _flush(self, _: object) -> None:
        """Write-behind: every dirty key goes to the backend, one write each."""
        kernel = self.kernel
        assert kernel is not None and self.write_to is not None
        now = kernel.now
        dirty, self.dirty = self.dirty, {}
        for key, record in dirty.items():
            entry = self.entries.get(key)
            if entry is not None:
                entry.dirty = False
            visit = Frame(self.write_to, None, None, None, 1, key, now)
            visit.root = self.background
            self.flushing[visit] = record
            kernel.enter_message(visit)
        kernel.push(now + self.flush_interval, self.flush_kind, None)

    def flushed_write(self, kernel: Kernel, frame: Frame, cause: int) -> None:
        record = self.flushing.pop(frame)
        now = kernel.now
        if cause != OK:  # written again at the next flush
            again = self.dirty.get(frame.key)
            if again is None:
                self.dirty[frame.key] = record
            else:
                again.times.extend(record.times)
            return
        if now >= kernel.t_start:
            self.flushed += 1  # one backend write, whatever it merged
            for answered in record.times:
                self.exposure.add(now - answered)

    # -- failures -------------------------------------------------------------------------------
    def replica_changed(self, kernel: Kernel, comp: Comp, rep: Replica) -> None:
        """A replica going down takes its entries and its unflushed writes with it."""
        if comp is not self.comp or rep.up:
            return
        gone = [key for key, entry in self.entries.items() if entry.home == rep.index]
        for key in gone:
            del self.entries[key]
        lost = [key for key, record in self.dirty.items() if record.home == rep.index]
        for key in lost:
            if kernel.now >= kernel.t_start:
                self.lost += len(self.dirty[key].times)
            del self.dirty[key]


class CacheCalls(Listener):
    """The cache's calls to its backend: loads of missed reads, and writes."""

    def __init__(self, area: CacheArea) -> None:
        self.area = area

    def call_done(self, kernel: Kernel, frame: Frame, cause: int, attempts: int) -> None:
        if frame in self.area.loading:
            self.area.loaded(kernel, frame, cause)
        else:
            self.area.written(kernel, frame, cause)


class Background(Root):
    """Visits the cache sends on its own: refresh-ahead loads and write-behind flushes."""

    def __init__(self, area: CacheArea) -> None:
        self.area = area

    def finished(self, kernel: Kernel, frame: Frame, cause: int) -> None:
        if frame in self.area.refreshes:
            self.area.refreshed_in_background(kernel, frame, cause)
        else:
            self.area.flushed_write(kernel, frame, cause)


class CacheRead(AreaStep):
    def __init__(self, area: CacheArea) -> None:
        self.area = area

    def start(self, kernel: Kernel, frame: Frame) -> bool:
        return self.area.read(kernel, frame)


class BackendWrite(AreaStep):
    """The last step of a backend operation that writes what a cache holds: tells the cache
    the write committed, and goes on."""

    def __init__(self, area: CacheArea) -> None:
        self.area = area

    def start(self, kernel: Kernel, frame: Frame) -> bool:
        self.area.backend_written(kernel, frame)
        return False


class CacheWrite(AreaStep):
    def __init__(self, area: CacheArea) -> None:
        self.area = area

    def start(self, kernel: Kernel, frame: Frame) -> bool:
        return self.area.write_step(kernel, frame)
