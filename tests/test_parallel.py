"""generator.parallel: fork_then and Stream keep the order of results, send the context, raise
failures; a stream runs only a few shares ahead of its caller; workers are replaced from
this thread only, and a worker that dies is reported; Later works aside and can be stopped."""

from __future__ import annotations

import gc
import os
import signal
import threading
import time

import pytest

from generator import parallel


def test_fork_then_runs_both_steps_in_workers_and_keeps_the_order():
    here = os.getpid()
    shares = [[i, i + 1] for i in range(0, 20, 2)]

    def first(share):
        time.sleep(0.02)  # long enough for both workers to take shares
        return [(n, os.getpid()) for n in share]

    def then(done, context):
        return [(n * context, pid) for n, pid in done]

    results, context = parallel.fork_then(first, then, shares, 2, lambda: 10)
    assert context == 10
    assert [n for share in results for n, _ in share] == [n * 10 for n in range(20)]
    pids = {pid for share in results for _, pid in share}
    assert here not in pids and len(pids) == 2


def test_fork_then_shares_go_to_whichever_worker_is_free():
    def first(share):
        time.sleep(1.0 if share == 0 else 0.01)
        return os.getpid()

    results, _ = parallel.fork_then(first, lambda pid, context: pid, list(range(20)), 2,
                                    lambda: None)
    slow = results[0]
    # the other worker took the shares while the first was busy with a slow one
    assert results.count(slow) < 5 and len(set(results)) == 2


def test_fork_then_does_then_on_each_share_taken_after_the_context_at_once(tmp_path):
    # the shares left when the context comes are shared out with all their work, so the
    # workers end together; before, each did `then` on all its shares at the end
    def first(share):
        time.sleep(0.02)
        with (tmp_path / str(os.getpid())).open("a") as log:
            log.write(f"first {share}\n")
        return share

    def then(share, context):
        with (tmp_path / str(os.getpid())).open("a") as log:
            log.write(f"then {share}\n")
        return share * context

    received = []
    results, _ = parallel.fork_then(first, then, list(range(20)), 2, lambda: 3,
                                    lambda done: received.append(done) or -done)
    assert results == [-3 * n for n in range(20)]
    assert sorted(received) == [3 * n for n in range(20)]
    for log in tmp_path.iterdir():
        steps = log.read_text().split("\n")[:-1]
        last_first = max(i for i, step in enumerate(steps) if step.startswith("first"))
        first_then = min(i for i, step in enumerate(steps) if step.startswith("then"))
        assert first_then < last_first, steps
        # from then on, each share read is checked before the next is taken
        after = steps[first_then:]
        assert all(step == "then " + before.split()[1]
                   for before, step in zip(after, after[1:]) if before.startswith("first"))


def test_fork_then_with_one_worker_runs_here():
    results, _ = parallel.fork_then(lambda s: s + 1, lambda d, c: d * c, [1, 2], 1, lambda: 3)
    assert results == [6, 9]
    results, _ = parallel.fork_then(lambda s: s + 1, lambda d, c: d * c, [1, 2], 1, lambda: 3,
                                    lambda done: -done)
    assert results == [-6, -9]


def test_a_failing_worker_is_reported_with_its_traceback():
    def first(share):
        if share == 3:
            raise ValueError("share three is broken")
        return share

    with pytest.raises(RuntimeError, match="share three is broken"):
        parallel.fork_then(first, lambda d, c: d, [1, 2, 3, 4], 2, lambda: None)


def test_a_failure_here_stops_the_workers():
    def meanwhile():
        raise KeyError("no context")

    with pytest.raises(KeyError):
        parallel.fork_then(lambda s: s, lambda d, c: d, [1, 2], 2, meanwhile)


def test_a_stream_gives_results_in_order_and_runs_only_a_few_shares_ahead(tmp_path):
    started = tmp_path / "started"

    def work(share):
        with started.open("a") as log:
            log.write(f"{share}\n")
        return share * 2

    stream = parallel.Stream(work, list(range(20)), 2)
    try:
        assert stream.next() == 0
        deadline = time.monotonic() + 10
        while len(started.read_text().split()) < 2 * parallel.AHEAD + 1 \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # would the workers go on without being asked?
        assert len(started.read_text().split()) == 2 * parallel.AHEAD + 1
        assert [stream.next() for _ in range(19)] == [n * 2 for n in range(1, 20)]
        with pytest.raises(StopIteration):
            stream.next()
    finally:
        stream.close()


@pytest.mark.parametrize("enabled", [True, False])
def test_a_stream_pauses_the_collector_and_leaves_frozen_objects_frozen(enabled):
    frozen = []
    frozen.append(frozen)  # a cycle, as a preview freezes its caches
    gc.freeze()
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        stream = parallel.Stream(lambda share: gc.isenabled(), [1, 2], 2)
        assert not gc.isenabled()  # while the workers share this memory
        assert [stream.next(), stream.next()] == [False, False]
        stream.close()
        assert gc.isenabled() == enabled
        assert gc.get_freeze_count() > 0
        assert all(obj is not frozen for obj in gc.get_objects())  # still frozen
    finally:
        gc.unfreeze()
        (gc.enable if was else gc.disable)()


def test_workers_are_replaced_after_their_shares_and_the_results_keep_their_order(
        monkeypatch):
    monkeypatch.setattr(parallel, "SHARES_PER_WORKER", 2)
    results, _ = parallel.fork_map(lambda share: (share * 3, os.getpid()), list(range(12)), 2)
    assert [value for value, _ in results] == [n * 3 for n in range(12)]
    pids = [pid for _, pid in results]
    assert os.getpid() not in pids
    assert len(set(pids)) >= 6  # no worker did more than two shares
    assert all(pids.count(pid) <= 2 for pid in pids)


_HELD = threading.Lock()


def test_no_worker_is_forked_while_this_thread_holds_a_lock(monkeypatch):
    """A worker forked while this thread held a lock would find it held for ever: the
    child has no thread to release it.  multiprocessing.Pool forked replacements from a
    helper thread at any moment; a build waited on functools.cached_property's lock."""
    monkeypatch.setattr(parallel, "SHARES_PER_WORKER", 1)

    def work(share):
        if not _HELD.acquire(timeout=10):
            raise RuntimeError("forked while the lock was held")
        _HELD.release()
        return share

    def meanwhile():  # the workers finish their shares, and are due to be replaced
        with _HELD:
            time.sleep(1.0)

    results, _ = parallel.fork_map(work, list(range(10)), 2, meanwhile=meanwhile)
    assert results == list(range(10))


def test_a_worker_that_dies_is_reported_instead_of_waited_for():
    def work(share):
        if share == 5:
            os._exit(3)
        return share

    def hung(signum, frame):
        raise TimeoutError("waited for a worker that had died")

    signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        with pytest.raises(RuntimeError, match=r"a worker stopped \(exit code 3\)"):
            parallel.fork_map(work, list(range(10)), 2)
    finally:
        signal.alarm(0)


def test_later_works_in_another_process_while_this_one_goes_on():
    later = parallel.Later(lambda: (time.sleep(0.3), os.getpid())[1])
    assert len(later._pool._live) == 1  # started at once, not when its result is asked for
    assert later.result() not in (None, os.getpid())
    assert later._pool._live == {}


def test_a_later_closed_before_its_result_stops_its_process_and_resumes_the_collector():
    was = gc.isenabled()
    gc.enable()
    try:
        later = parallel.Later(lambda: time.sleep(60))
        assert not gc.isenabled()  # no collection copies the pages it shares
        (process,) = later._pool._live.values()
        started = time.monotonic()
        later.close()
        assert not process.is_alive() and time.monotonic() - started < 10
        assert gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()


def test_a_later_that_fails_raises_its_error_here():
    def broken():
        raise ValueError("no data")

    with pytest.raises(RuntimeError, match="ValueError: no data"):
        parallel.Later(broken).result()


def _soon(condition, seconds: float = 20.0) -> bool:
    """Whether ``condition()`` holds within ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_remove_detached_deletes_in_another_process_and_leaves_no_zombie(tmp_path, monkeypatch):
    folder = tmp_path / "old-site"
    (folder / "a" / "b").mkdir(parents=True)
    (folder / "a" / "b" / "index.html").write_text("x")
    deleted_by = tmp_path / "deleted-by"
    real_rmtree = parallel.shutil.rmtree

    def rmtree(path, ignore_errors=False):
        time.sleep(0.3)  # still there when the call returns
        real_rmtree(path, ignore_errors=ignore_errors)
        deleted_by.write_text(f"{os.getpid()} {os.getppid()}")

    monkeypatch.setattr(parallel.shutil, "rmtree", rmtree)
    assert parallel.remove_detached(folder)
    assert folder.exists()  # not waited for
    assert _soon(lambda: not folder.exists())
    _soon(deleted_by.exists, seconds=10)
    pid, parent = map(int, deleted_by.read_text().split())
    # neither this process nor its child: nothing of ours is left to reap
    assert os.getpid() not in (pid, parent)
