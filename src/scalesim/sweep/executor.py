"""Where simulation tasks run: in this process, in local worker processes, or on a Dask
cluster. Every executor maps one picklable function over tasks and yields `(index, value)`
as tasks finish; callers put results back in task order, so the place of execution never
changes a number.

Local processes come from a forkserver: the server imports ScaleSim once and each worker is
forked from it, so a pool starts in a fraction of a second and no worker inherits the
threads (progress bars) of the command that started it.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from scalesim.interrupt import Interrupted, deferred, ignore_sigint

A = TypeVar("A")
R = TypeVar("R")
Finished = Generator[tuple[int, R], None, None]  # (task index, result) as tasks finish


class ClusterError(RuntimeError):
    """A Dask cluster that cannot be used: Dask is not installed, or the scheduler is not
    reachable."""


def default_jobs() -> int:
    """The number of cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else os.cpu_count() or 1


class Executor(Protocol):
    workers: int

    def imap(self, fn: Callable[[A], R], tasks: Sequence[A]) -> Finished[R]:
        """Run fn on every task; yield (task index, result) in completion order. An exception
        in a task is raised here and the tasks not yet started are cancelled."""
        ...

    def close(self) -> None: ...


class Serial:
    """Tasks one after another in this process (`--jobs 1`)."""

    workers = 1

    def imap(self, fn: Callable[[A], R], tasks: Sequence[A]) -> Finished[R]:
        for index, task in enumerate(tasks):
            yield index, fn(task)

    def close(self) -> None:
        pass


class Processes:
    """A pool of local worker processes, started on first use and kept for later maps."""

    def __init__(self, jobs: int) -> None:
        self.workers = jobs
        self._pool: ProcessPoolExecutor | None = None

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["scalesim.sweep.tasks"])
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context,
                                             initializer=ignore_sigint)
        return self._pool

    def imap(self, fn: Callable[[A], R], tasks: Sequence[A]) -> Finished[R]:
        if not tasks:
            return
        pool = self._started()
        futures: dict[Future[R], int] = {pool.submit(fn, task): i for i, task in enumerate(tasks)}
        try:
            with deferred() as signals:
                pending = set(futures)
                while pending:
                    done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                    if signals:
                        raise Interrupted(signals[0])
                    for future in sorted(done, key=futures.__getitem__):
                        yield futures[future], future.result()
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskCluster:
    """Tasks on a Dask distributed cluster: an existing scheduler's address, or "local" for a
    LocalCluster of one single-threaded worker process per core on this machine."""

    def __init__(self, address: str, local_workers: int | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ClusterError("--dask needs Dask: pip install 'scalesim[dask]'") from None
        self._cluster: Any = None
        if address == "local":
            self._cluster = LocalCluster(n_workers=local_workers or default_jobs(),
                                         threads_per_worker=1, processes=True,
                                         dashboard_address=None)
            self._client: Any = Client(self._cluster)
        else:
            try:
                self._client = Client(address, timeout="10s")
            except (OSError, TimeoutError, ValueError) as error:  # ValueError: not an address
                raise ClusterError(f"cannot reach the Dask scheduler at {address}: "
                                   f"{error}") from None
        self.workers = max(1, sum(w.get("nthreads", 1) for w in
                                  self._client.scheduler_info()["workers"].values()))

    def imap(self, fn: Callable[[A], R], tasks: Sequence[A]) -> Finished[R]:
        from distributed import as_completed

        futures = self._client.map(fn, list(tasks), pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        try:
            for future in as_completed(futures):
                yield index[future.key], future.result()
        finally:
            self._client.cancel(futures)

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(jobs: int | None = None, dask: str | None = None,
                  tasks: int | None = None) -> Executor:
    """The executor for `--jobs` / `--dask`: Dask when an address is given, else processes
    (default: one per core), or this process alone when one worker (or one task) is enough."""
    workers = default_jobs() if jobs is None else jobs
    if tasks is not None:  # a worker per task at most, on this machine or a local cluster
        workers = min(workers, tasks)
    if dask is not None:
        return DaskCluster(dask, workers)
    return Serial() if workers <= 1 else Processes(workers)


@contextmanager
def executing(jobs: int | None = None, dask: str | None = None,
              tasks: int | None = None) -> Iterator[Executor]:
    """`make_executor`, closed when the block ends."""
    executor = make_executor(jobs, dask, tasks)
    try:
        yield executor
    finally:
        executor.close()
