"""Run work in forked processes on every core, for the two stages that dominate a build.

Rendering pages and converting them to HTML are CPU-bound loops over thousands of
independent pages.  Forked workers inherit the records, templates and MkDocs objects
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
