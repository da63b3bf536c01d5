"""Run work in forked processes on every core, for the stages that dominate a build.

Rendering pages, converting them to HTML and rendering the theme around them are
CPU-bound loops over thousands of independent pages.  Forked workers inherit the records,
templates and MkDocs objects already in memory, so only each share's results cross
between processes.  Shares are small so that no worker holds much of the site at once;
results come back in order.

Every fork happens in the calling thread, at a moment this module chooses, and no thread
is started.  (``multiprocessing.Pool`` forks the replacement of a worker from a helper
thread whenever one is due; a child forked while the main thread held a lock, such as
the one ``functools.cached_property`` takes in Python 3.11, waited on it for ever, and
with it the build.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import multiprocessing
import multiprocessing.connection
import os
import pickle
import shutil
import tempfile
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

Share = TypeVar("Share")
Result = TypeVar("Result")
Context = TypeVar("Context")
Final = TypeVar("Final")

# Shares a worker does before a fresh one, forked again, takes over.  A worker copies
# every memory page whose objects it touches (reference counts are writes), so a
# long-lived worker slowly duplicates its parent; but a fork from a parent of 800 MiB,
# and the pages the fresh worker copies again, cost 0.1-0.3 s of CPU.  At 5,000
# incidents, 16 against 8: a build in 33.7-34.1 s against 38.8-39.2 s, 55 against 63 s
# of CPU, peak memory 821-835 against 760-779 MiB.
SHARES_PER_WORKER = 16
# A preview's process keeps its caches on top of a build's memory: with 16, its peak was
# 894 and 1,004 MiB (787 and 822 MiB with 8), so its builds replace workers twice as often.
PREVIEW_SHARES_PER_WORKER = 8


def set_shares_per_worker(count: int) -> int:
    """Make workers forked from now on do ``count`` shares each; returns the count before."""
    global SHARES_PER_WORKER
    before, SHARES_PER_WORKER = SHARES_PER_WORKER, count
    return before


def cores() -> int:
    """How many processes to run: the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def release_free_memory() -> None:
    """Give the C heap's free pages back to the system before forking.

    A large build frees hundreds of megabytes (rendered pages handed on, converted pages
    applied) that glibc keeps mapped; forked workers would inherit them and the process
    tree would hold them until the end.  Without glibc this does nothing.
    """
    global _MALLOC_TRIM
    if _MALLOC_TRIM is None:
        try:
            _MALLOC_TRIM = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _MALLOC_TRIM = False
    if _MALLOC_TRIM:
        _MALLOC_TRIM(0)


_MALLOC_TRIM = None


class _Workers:
    """Forked workers doing ``work`` on ``shares``, each taking the next share as it
    finishes one; each does ``quota`` shares (by default :data:`SHARES_PER_WORKER`), then
    a fresh fork takes over.

    Replacements are forked only in :meth:`result`, in the caller's thread.  A worker
    pickles each result into a file of a private folder and says so in a few bytes on its
    pipe: it never waits for this process, which may be busy for a second between two
    calls.  At most ``window`` shares are taken beyond the results handed out, which
    bounds the results waiting on disk when the caller takes them slowly.
    """

    def __init__(self, work: Callable[[Share], Result], shares: Sequence[Share],
                 workers: int, window: int, quota: int | None = None) -> None:
        self._fork_context = multiprocessing.get_context("fork")
        self._work, self._shares, self._quota = work, shares, quota
        self._taken = self._fork_context.Value("q", 0)  # the next share to take
        self._permits = self._fork_context.Semaphore(max(1, window))
        self._ready: dict[int, Path] = {}  # share -> its result's file
        self._live: dict = {}  # this end of each worker's pipe -> the worker
        self._spool = Path(tempfile.mkdtemp(prefix="factsheet-workers-"))
        release_free_memory()
        # a collection here, while the workers live, would write to every object it
        # walks and so copy each page of memory they share: the collector is paused
        # until close().  (Freezing the objects instead, then unfreezing them, thawed
        # those a preview keeps frozen: its caches, walked again by every collection.)
        self._resume_collector = gc.isenabled()
        gc.disable()
        try:
            for _ in range(min(workers, len(shares))):
                self._fork()
        except BaseException:
            self.close()
            raise

    def _fork(self) -> None:
        here, there = self._fork_context.Pipe(duplex=False)
        process = self._fork_context.Process(
            target=_serve, daemon=True,
            args=(self._work, self._shares, self._taken, self._permits, self._spool, there,
                  self._quota or SHARES_PER_WORKER))
        process.start()
        there.close()
        self._live[here] = process

    def result(self, index: int) -> Result:
        """The result of ``shares[index]``, once a worker has it."""
        while index not in self._ready:
            if not self._live:
                raise RuntimeError(f"the workers stopped before share {index} was done")
            for pipe in multiprocessing.connection.wait(list(self._live)):
                self._receive(pipe)
        path = self._ready.pop(index)
        with path.open("rb") as file:
            result = pickle.load(file)
        path.unlink()
        self._permits.release()  # one more share may be taken
        return result

    def _receive(self, pipe) -> None:
        try:
            index, failure = pipe.recv()
        except EOFError:  # the worker is gone: its shares done, or it died
            process = self._live.pop(pipe)
            pipe.close()
            process.join()
            if process.exitcode != 0:
                raise RuntimeError(f"a worker stopped (exit code {process.exitcode})") from None
            if self._taken.value < len(self._shares):
                self._fork()
            return
        if failure is not None:
            raise RuntimeError(f"a worker failed:\n{failure}")
        self._ready[index] = self._spool / str(index)

    def close(self) -> None:
        """Stop the workers (all done, or on an error) and remove their files."""
        for process in self._live.values():
            if process.is_alive():
                process.terminate()
        for pipe, process in self._live.items():
            process.join()
            pipe.close()
        self._live = {}
        shutil.rmtree(self._spool, ignore_errors=True)
        if self._resume_collector:
            gc.enable()
            self._resume_collector = False


def _serve(work, shares, taken, permits, spool: Path, pipe, quota: int) -> None:
    """A :class:`_Workers` worker: up to ``quota`` shares, each result into ``spool``."""
    gc.freeze()  # what it inherits is never collected (nor copied by a collection)
    index = None
    try:
        for _ in range(quota):
            permits.acquire()
            with taken.get_lock():
                index = taken.value
                taken.value = index + 1
            if index >= len(shares):
                permits.release()  # for the next worker to find out too
                break
            result = work(shares[index])
            with (spool / str(index)).open("wb") as file:
                pickle.dump(result, file, pickle.HIGHEST_PROTOCOL)
            pipe.send((index, None))
    except BaseException:  # noqa: BLE001 - sent to the main process, which raises it
        pipe.send((index, traceback.format_exc()))
    finally:
        pipe.close()


def remove_detached(folder: Path) -> bool:
    """Remove ``folder`` in a process of its own that this one does not wait for; return
    whether one was started (without fork, or if it fails, the caller removes it).

    Deleting a built site of 5,000 incidents (14,000 files in 7,000 folders) takes
    2.5 s; the site that replaced it is in place already, so nobody needs to wait.  The
    child forks the process that deletes and exits at once, so no zombie is left to a
    long-lived caller (a test run, a preview), and the deleting process, adopted by
    init, outlives this one if it must.
    """
    if not can_fork():
        return False
    try:
        child = os.fork()
    except OSError:  # no memory or no process left for it: the caller deletes it
        return False
    if child:
        os.waitpid(child, 0)
        return True
    try:  # the child: nothing of the parent's (buffers, atexit handlers) runs here
        os.setsid()
        if os.fork() == 0:
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        os._exit(0)


def fork_map(work: Callable[[Share], Result], shares: Sequence[Share], workers: int,
             meanwhile: Callable[[], object] | None = None,
             taken: Callable[[Result], object] | None = None,
             quota: int | None = None) -> tuple[list[Result], object]:
    """``[work(share) for share in shares]`` in ``workers`` forked processes.

    ``meanwhile`` runs in this process while the workers do; its result comes back
    second.  With workers, ``taken`` is called here on each result, in order, as soon as
    it is in: what it changes, the workers forked afterwards (to replace those that are
    done) inherit.  Each worker does ``quota`` shares (by default
    :data:`SHARES_PER_WORKER`) before a fresh fork takes over.  With fewer than two
    workers, or no fork, everything runs here, in order, and ``taken`` is not called.
    """
    if workers < 2 or not can_fork():
        results = [work(share) for share in shares]
        return results, meanwhile() if meanwhile else None
    pool = _Workers(work, shares, workers, window=len(shares), quota=quota)
    try:
        extra = meanwhile() if meanwhile else None
        results = []
        for index in range(len(shares)):
            results.append(pool.result(index))
            if taken is not None:
                taken(results[-1])
    finally:
        pool.close()
    return results, extra


def fork_then(first: Callable[[Share], Result], then: Callable[[Result, Context], Final],
              shares: Sequence[Share], workers: int,
              meanwhile: Callable[[], Context],
              receive: Callable[[Final], Any] | None = None) -> tuple[list, Context]:
    """``[then(first(share), context) for share in shares]`` in ``workers`` forked
    processes, where ``context = meanwhile()`` is worked out in this process while the
    workers do ``first``, then sent to them.

    For work whose first step needs nothing from this process (reading files) and whose
    second needs what this process reads meanwhile.  Each worker takes the next share as
    it finishes one, so that none waits for another at the end (they share the cores with
    this process, unevenly).  Once the context is in, a worker does ``then`` on the
    shares it holds, and on each share it takes after, at once: the shares left are
    shared out with all their work, and each result comes back as soon as it is made.
    ``receive``, if given, is called here on each result as it comes in (in no order);
    what it returns is kept instead.  Results come back in the order of ``shares``.
    """
    if workers < 2 or not can_fork():
        context = meanwhile()
        results = [then(first(share), context) for share in shares]
        return (results if receive is None else [receive(r) for r in results]), context
    fork = multiprocessing.get_context("fork")
    taken = fork.Value("i", 0)  # how many shares the workers have taken
    pipes: dict = {}  # this end of each worker's pipe -> the worker
    try:
        for _ in range(workers):
            here, there = fork.Pipe()
            process = fork.Process(target=_first_then, daemon=True,
                                   args=(first, then, shares, taken, there))
            process.start()
            there.close()
            pipes[here] = process
        context = meanwhile()
        sent = pickle.dumps(context, pickle.HIGHEST_PROTOCOL)
        for pipe in pipes:
            try:
                pipe.send_bytes(sent)
            except OSError:  # the worker has stopped: it said why, or the exit code will
                pass
        results: list = [None] * len(shares)
        working = dict(pipes)
        while working:
            for pipe in multiprocessing.connection.wait(list(working)):
                try:
                    index, done = pipe.recv()
                except EOFError:
                    code = working[pipe].exitcode
                    raise RuntimeError(f"a worker stopped (exit code {code})") from None
                if index is None:  # the worker has no share left
                    del working[pipe]
                elif index == _FAILED:
                    raise RuntimeError(f"a worker failed:\n{done}")
                else:
                    results[index] = done if receive is None else receive(done)
    finally:
        for process in pipes.values():
            if process.is_alive():
                process.terminate()
            process.join()
        for pipe in pipes:
            pipe.close()
    return results, context


_FAILED = -1  # what a fork_then worker sends instead of a share's index when it fails


def _first_then(first, then, shares, taken, pipe) -> None:
    """A :func:`fork_then` worker: ``first`` on each share it takes, and ``then`` once the
    context is in; it sends (index of the share, result) for each, then (None, None)."""
    try:
        gc.freeze()  # what it inherits is never collected (nor copied by a collection)
        # what it makes lives until it exits, and holds few cycles: collecting is wasted
        gc.disable()
        waiting: list = []  # (index, result of first) of the shares read, not yet sent
        context = not_yet = object()
        while True:
            if context is not_yet and pipe.poll():
                context = pickle.loads(pipe.recv_bytes())
            if context is not not_yet:  # each share read is sent before the next is taken
                for index, done in waiting:
                    pipe.send((index, then(done, context)))
                waiting.clear()
            with taken.get_lock():
                index = taken.value
                taken.value = index + 1
            if index >= len(shares):
                break
            waiting.append((index, first(shares[index])))
        if context is not_yet:
            context = pickle.loads(pipe.recv_bytes())
        for index, done in waiting:
            pipe.send((index, then(done, context)))
        pipe.send((None, None))
    except BaseException:  # noqa: BLE001 - sent to the main process, which raises it
        pipe.send((_FAILED, traceback.format_exc()))
    finally:
        pipe.close()


class Later:
    """``work()`` in a forked process, started now; :meth:`result` waits for it and
    :meth:`close` stops it (on an error too).

    For work that needs nothing this process does next, done on a core that would
    otherwise wait for this process.  The collector is paused until it is closed, as
    while any worker lives.
    """

    def __init__(self, work: Callable[[], Result]) -> None:
        self._pool = _Workers(lambda _: work(), [None], 1, window=1)

    def result(self) -> Result:
        try:
            return self._pool.result(0)
        finally:
            self.close()

    def close(self) -> None:
        self._pool.close()


class Stream:
    """``work(share)`` for each share in forked workers, results taken in order as needed.

    The workers start at once and run ahead of the caller, which takes each share's
    result with :meth:`next` when it needs it: MkDocs writes page after page while the
    workers render the next ones.  They run at most :data:`AHEAD` shares per worker ahead,
    so the results waiting for the caller (whole pages of HTML) stay a few megabytes
    however far behind it falls.  :meth:`close` stops them (on an error too).
    """

    def __init__(self, work: Callable[[Share], Result], shares: Sequence[Share],
                 workers: int) -> None:
        self._pool = _Workers(work, shares, workers, window=AHEAD * workers)
        self._next, self._count = 0, len(shares)

    def next(self) -> Result:
        if self._next >= self._count:
            raise StopIteration
        result = self._pool.result(self._next)
        self._next += 1
        return result

    def close(self) -> None:
        self._pool.close()


# Shares a :class:`Stream` keeps in hand per worker: one being done, the next ones queued.
AHEAD = 3
