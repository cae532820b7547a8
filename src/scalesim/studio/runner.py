"""Runs simulations in worker processes so the server stays responsive: at most N at once
(the rest wait in a queue), each with a wall-clock limit, cancellable, progress kept for the
event stream. Finished runs are written to the store; live ones are tracked in memory.

Workers come from a fork server that has imported the engine already, so a run starts in
milliseconds; where fork servers do not exist (Windows) they are spawned.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, SpawnContext
from typing import Any

from scalesim.studio import worker
from scalesim.studio.store import Store

log = logging.getLogger("scalesim.studio")
POLL_S = 0.05
STUDIO_STOPPED = "the studio stopped"


class QueueFull(RuntimeError):
    """More runs are waiting than the server accepts."""


def _context() -> ForkServerContext | SpawnContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        # Import the engine (and the main module, which every child would otherwise import
        # again) once in the fork server, so that a run starts in milliseconds.
        ctx.set_forkserver_preload(["__main__", "scalesim.studio.worker"])
        return ctx
    return multiprocessing.get_context("spawn")


@dataclass
class LiveRun:
    id: str
    text: str
    seed: int | None
    status: str = "queued"
    progress: float = 0.0
    error: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    stopped_because: str = "cancelled by the user"
    """The error a cancelled run is recorded with: the user's cancel, or the server's stop."""
    done: threading.Event = field(default_factory=threading.Event)


class RunManager:
    def __init__(self, store: Store, max_concurrent: int, max_queued: int,
                 time_limit_s: float) -> None:
        self.store = store
        self.max_concurrent = max_concurrent
        self.max_queued = max_queued
        self.time_limit_s = time_limit_s
        self._ctx = _context()
        self._lock = threading.Lock()
        self._live: dict[str, LiveRun] = {}
        self._waiting: deque[str] = deque()
        self._running = 0
        self._closed = False

    # -- what the routes call --------------------------------------------------------------------
    def submit(self, text: str, system: str, seed: int | None, design_id: str | None,
               version: int | None) -> str:
        """Queue a run (QueueFull when too many wait; the store's NotFound when its design or
        version is not there)."""
        with self._lock:
            if len(self._waiting) >= self.max_queued:
                raise QueueFull(f"{len(self._waiting)} runs are already waiting; try again "
                                "when one has finished")
            run_id = self.store.create_run(system, text, seed, design_id, version)
            self._live[run_id] = LiveRun(run_id, text, seed)
            self._waiting.append(run_id)
            self._pump()
        return run_id

    def active(self, run_id: str) -> tuple[str, float] | None:
        """(status, progress) of a queued or running run, read together under the lock; None
        once it has finished, when its outcome (result included) is in the store already."""
        with self._lock:
            run = self._live.get(run_id)
            return None if run is None else (run.status, run.progress)

    def cancel(self, run_id: str) -> bool:
        """Cancel a queued or running run; False when it is not active (any more)."""
        with self._lock:
            run = self._live.get(run_id)
            if run is None:
                return False
            if run.status == "queued":
                self._waiting.remove(run_id)
                self._finish(run, "cancelled", None, "cancelled before it started")
                return True
            run.cancel.set()
        run.done.wait(timeout=10)
        return True

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"running": self._running, "queued": len(self._waiting),
                    "limit": self.max_concurrent}

    def close(self) -> None:
        """Stop every run (the server is shutting down)."""
        with self._lock:
            self._closed = True
            for run_id in list(self._waiting):
                self._finish(self._live[run_id], "cancelled", None, STUDIO_STOPPED)
            self._waiting.clear()
            running = [run for run in self._live.values() if run.status == "running"]
            for run in running:
                run.stopped_because = STUDIO_STOPPED
        for run in running:
            run.cancel.set()
        for run in running:
            run.done.wait(timeout=10)

    # -- inside ------------------------------------------------------------------------------------
    def _pump(self) -> None:
        """Start waiting runs while there is room (called with the lock held)."""
        while not self._closed and self._waiting and self._running < self.max_concurrent:
            run = self._live[self._waiting.popleft()]
            run.status = "running"
            self._running += 1
            self.store.set_status(run.id, "running")
            threading.Thread(target=self._supervise, args=(run,), name=f"run-{run.id[:8]}",
                             daemon=True).start()

    def _supervise(self, run: LiveRun) -> None:
        status: str = "failed"
        result: dict[str, Any] | None = None
        error: str | None = "the worker stopped without an answer"
        receiver, sender = self._ctx.Pipe(duplex=False)
        try:
            process = self._ctx.Process(target=worker.run, args=(sender, run.text, run.seed),
                                        daemon=True)
            process.start()
            sender.close()
            status, result, error = self._watch(run, process, receiver)
        except Exception:
            log.exception("run %s: the supervisor failed", run.id)
        finally:
            receiver.close()
        with self._lock:
            self._running -= 1
            self._finish(run, status, result, error)
            self._pump()

    def _watch(self, run: LiveRun, process: Any, receiver: Connection
               ) -> tuple[str, dict[str, Any] | None, str | None]:
        deadline = time.monotonic() + self.time_limit_s
        try:
            while True:
                if run.cancel.is_set():
                    return "cancelled", None, run.stopped_because
                if time.monotonic() > deadline:
                    return "failed", None, (f"stopped: the run took longer than the studio's "
                                            f"wall-clock limit of {self.time_limit_s:g} s")
                if not receiver.poll(POLL_S):
                    if not process.is_alive() and not receiver.poll(POLL_S):
                        return "failed", None, "the worker process ended unexpectedly"
                    continue
                try:
                    kind, value = receiver.recv()
                except EOFError:
                    return "failed", None, "the worker process ended unexpectedly"
                if kind == "progress":
                    run.progress = float(value)
                elif kind == "done":
                    return "done", value, None
                else:
                    return "failed", None, str(value)
        finally:
            if process.is_alive():
                process.terminate()
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()

    def _finish(self, run: LiveRun, status: str, result: dict[str, Any] | None,
                error: str | None) -> None:
        """Record the outcome, then forget the live run (called with the lock held)."""
        if status == "done":
            run.progress = 1.0
        self.store.finish_run(run.id, status, result, error)
        run.status, run.error = status, error
        self._live.pop(run.id, None)
        run.done.set()
