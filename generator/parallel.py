"""Run work in forked processes on every core, for the stages that dominate a build.

Rendering pages, converting them to HTML and rendering the theme around them are
CPU-bound loops over thousands of independent pages.  Forked workers inherit the records, templates and MkDocs objects
already in memory, so only each share's results cross between processes.  Shares are
small so that no worker holds much of the site at once; results come back in order.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

Share = TypeVar("Share")
Result = TypeVar("Result")

# What the forked workers inherit: the function that does one share.
_WORK: Callable | None = None


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
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pending = pool.map_async(_run, shares, chunksize=1)
            extra = meanwhile() if meanwhile else None
            results = pending.get()
    finally:
        gc.unfreeze()
        _WORK = None
    return results, extra


class Stream:
    """``work(share)`` for each share in forked workers, results taken in order as needed.

    The workers start at once and run ahead of the caller, which takes each share's
    result with :meth:`next` when it needs it: MkDocs writes page after page while the
    workers render the next ones.  :meth:`close` stops them (on an error too).
    """

    def __init__(self, work: Callable[[Share], Result], shares: Sequence[Share],
                 workers: int) -> None:
        global _WORK
        _WORK = work
        gc.freeze()  # as in fork_map; the workers are forked when the pool starts
        try:
            self._pool = multiprocessing.get_context("fork").Pool(workers)
        finally:
            gc.unfreeze()
            _WORK = None
        self._results = self._pool.imap(_run, shares, chunksize=1)

    def next(self) -> Result:
        return next(self._results)

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()
