"""Run work in forked processes on every core, for the stages that dominate a build.

Rendering pages, converting them to HTML and rendering the theme around them are
CPU-bound loops over thousands of independent pages.  Forked workers inherit the records, templates and MkDocs objects
already in memory, so only each share's results cross between processes.  Shares are
small so that no worker holds much of the site at once; results come back in order.
"""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import gc
import multiprocessing
import os
import pickle
import traceback
from collections.abc import Callable, Sequence
from typing import TypeVar

Share = TypeVar("Share")
Result = TypeVar("Result")
Context = TypeVar("Context")
Final = TypeVar("Final")

# What the forked workers inherit: the function that does one share.
_WORK: Callable | None = None
# Shares a worker does before a fresh one, forked again, takes over.  A worker copies
# every memory page whose objects it touches (reference counts are writes), so a
# long-lived worker slowly duplicates its parent; forking costs a few milliseconds.
SHARES_PER_WORKER = 8


def cores() -> int:
    """How many processes to run: the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _run(share):
    assert _WORK is not None
    return _WORK(share)


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


def _pool(workers: int):
    release_free_memory()
    # a worker forked later, to replace one, freezes what it inherits as the first did
    return multiprocessing.get_context("fork").Pool(
        workers, initializer=gc.freeze, maxtasksperchild=SHARES_PER_WORKER)


def fork_map(work: Callable[[Share], Result], shares: Sequence[Share], workers: int,
             meanwhile: Callable[[], object] | None = None) -> tuple[list[Result], object]:
    """``[work(share) for share in shares]`` in ``workers`` forked processes.

    ``meanwhile`` runs in this process while the workers do; its result comes back
    second.  With fewer than two workers, or no fork, everything runs here, in order.
    """
    global _WORK
    if workers < 2 or not can_fork():
        results = [work(share) for share in shares]
        return results, meanwhile() if meanwhile else None
    _WORK = work
    try:
        # the workers' collector must not walk (and so copy) everything they inherit
        gc.freeze()
        with _pool(workers) as pool:
            pending = pool.map_async(_run, shares, chunksize=1)
            extra = meanwhile() if meanwhile else None
            results = pending.get()
    finally:
        gc.unfreeze()
        _WORK = None
    return results, extra


def fork_then(first: Callable[[Share], Result], then: Callable[[Result, Context], Final],
              shares: Sequence[Share], workers: int,
              meanwhile: Callable[[], Context]) -> tuple[list[Final], Context]:
    """``[then(first(share), context) for share in shares]`` in ``workers`` forked
    processes, where ``context = meanwhile()`` is worked out in this process while the
    workers do ``first``, then sent to them.

    For work whose first step needs nothing from this process (reading files) and whose
    second needs what this process reads meanwhile.  Each worker takes the next share as
    it finishes one, so that none waits for another at the end (they share the cores with
    this process, unevenly); results come back in the order of ``shares``.
    """
    if workers < 2 or not can_fork():
        context = meanwhile()
        return [then(first(share), context) for share in shares], context
    fork = multiprocessing.get_context("fork")
    taken = fork.Value("i", 0)  # how many shares the workers have taken
    pipes, processes = [], []
    try:
        for _ in range(workers):
            here, there = fork.Pipe()
            process = fork.Process(target=_first_then, daemon=True,
                                   args=(first, then, shares, taken, there))
            process.start()
            there.close()
            pipes.append(here)
            processes.append(process)
        context = meanwhile()
        sent = pickle.dumps(context, pickle.HIGHEST_PROTOCOL)
        for pipe in pipes:
            try:
                pipe.send_bytes(sent)
            except OSError:  # the worker has stopped: it said why, or the exit code will
                pass
        results: list = [None] * len(shares)
        for pipe, process in zip(pipes, processes):
            try:
                failed, done = pipe.recv()
            except EOFError:
                raise RuntimeError(f"a worker stopped (exit code {process.exitcode})") from None
            if failed:
                raise RuntimeError(f"a worker failed:\n{done}")
            for i, result in done:
                results[i] = result
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
    return results, context


def _first_then(first, then, shares, taken, pipe) -> None:
    """A :func:`fork_then` worker: ``first`` on each share it takes, then ``then`` on each
    with the context; it sends back (index of the share, result) pairs."""
    try:
        gc.freeze()  # what it inherits is never collected (nor copied by a collection)
        # what it makes lives until it exits, and holds few cycles: collecting is wasted
        gc.disable()
        firsts = []
        while True:
            with taken.get_lock():
                index = taken.value
                taken.value = index + 1
            if index >= len(shares):
                break
            firsts.append((index, first(shares[index])))
        context = pickle.loads(pipe.recv_bytes())
        pipe.send((False, [(index, then(done, context)) for index, done in firsts]))
    except BaseException:  # noqa: BLE001 - sent to the main process, which raises it
        pipe.send((True, traceback.format_exc()))
    finally:
        pipe.close()


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
        global _WORK
        _WORK = work
        # as in fork_map, and for as long as the workers live: a full collection here
        # would write to every object, copying each page of memory the workers share
        gc.freeze()
        try:
            self._pool = _pool(workers)
        except BaseException:
            gc.unfreeze()
            raise
        self._shares = iter(shares)
        self._pending: collections.deque = collections.deque()
        for _ in range(AHEAD * workers):
            self._submit()

    def _submit(self) -> None:
        share = next(self._shares, _DONE)
        if share is not _DONE:
            self._pending.append(self._pool.apply_async(_run, (share,)))

    def next(self) -> Result:
        if not self._pending:
            raise StopIteration
        result = self._pending.popleft().get()
        self._submit()
        return result

    def close(self) -> None:
        global _WORK
        self._pool.terminate()
        self._pool.join()
        gc.unfreeze()
        _WORK = None


# Shares a :class:`Stream` keeps in hand per worker: one being done, the next ones queued.
AHEAD = 3
_DONE = object()
