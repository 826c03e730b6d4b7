"""Work shared with forked processes: the same results as doing it alone, whatever happens."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from csc_insight import forking

pytestmark = pytest.mark.skipif(not forking.can_fork(), reason="needs os.fork")


def _slow_square(n: int) -> tuple[int, int]:
    time.sleep(0.02)  # long enough that the forked process takes some of the tasks
    return n * n, os.getpid()


def test_results_come_back_in_order_from_both_processes(tmp_path: Path) -> None:
    parent = os.getpid()
    child_began = tmp_path / "began"

    def work(n: int) -> tuple[int, int]:
        if os.getpid() != parent:
            child_began.touch()
        else:  # leave the child time to take a task, however busy the machine
            deadline = time.monotonic() + 30
            while not child_began.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        return _slow_square(n)

    done = forking.share(list(range(20)), work, processes=2)
    assert [square for square, _pid in done] == [n * n for n in range(20)]
    pids = {pid for _square, pid in done}
    assert os.getpid() in pids
    assert len(pids) == 2


def test_one_process_does_everything_here_in_order() -> None:
    calls: list[int] = []

    def work(n: int) -> int:
        calls.append(n)
        return n + 1

    assert forking.share([3, 1, 2], work, processes=1) == [4, 2, 3]
    assert calls == [3, 1, 2]


def test_meanwhile_runs_once_in_this_process() -> None:
    ran: list[int] = []
    forking.share(list(range(6)), _slow_square, 2, meanwhile=lambda: ran.append(os.getpid()))
    assert ran == [os.getpid()]


def test_a_child_that_dies_has_its_tasks_done_here() -> None:
    parent = os.getpid()

    def work(n: int) -> tuple[int, int]:
        if os.getpid() != parent:
            os._exit(3)  # as if killed part-way
        return _slow_square(n)

    done = forking.share(list(range(8)), work, processes=2)
    assert done == [(n * n, parent) for n in range(8)]


def test_what_a_child_sent_before_it_died_is_kept(tmp_path: Path) -> None:
    parent = os.getpid()
    sent = tmp_path / "sent"
    taken: list[int] = []  # in the child, its own copy

    def work(n: int) -> tuple[int, int]:
        if os.getpid() == parent:
            deadline = time.monotonic() + 30
            while not sent.exists() and time.monotonic() < deadline:
                time.sleep(0.01)  # until the child has made its first result
            return _slow_square(n)
        taken.append(n)
        if len(taken) == 2:
            os._exit(3)  # dies on its second task
        sent.touch()
        return _slow_square(n)

    done = forking.share(list(range(8)), work, processes=2)
    assert [square for square, _pid in done] == [n * n for n in range(8)]
    from_child = [n for n, (_square, pid) in enumerate(done) if pid != parent]
    assert len(from_child) == 1  # its first result arrived and was kept; the rest redone


def test_a_result_that_cannot_be_sent_is_made_here() -> None:
    parent = os.getpid()

    def work(n: int) -> object:
        time.sleep(0.02)
        # A lock cannot be pickled: the child's whole share fails to arrive.
        return threading.Lock() if os.getpid() != parent else n

    done = forking.share(list(range(8)), work, processes=2)
    assert done == list(range(8))


def test_a_failure_here_stops_the_children(tmp_path: Path) -> None:
    parent = os.getpid()
    started = tmp_path / "child.pid"

    def work(n: int) -> int:
        if os.getpid() == parent:
            while not started.exists():  # the child has taken a task
                time.sleep(0.01)
            raise RuntimeError("reader bug")
        written = tmp_path / "child.pid.part"
        written.write_text(str(os.getpid()))
        written.rename(started)  # whole, or not there
        time.sleep(60)
        return n

    with pytest.raises(RuntimeError, match="reader bug"):
        forking.share(list(range(4)), work, processes=2)
    # The child was stopped and reaped at once, not left to finish its minute: a reaped
    # process no longer exists (a zombie would still answer signal 0).
    with pytest.raises(ProcessLookupError):
        os.kill(int(started.read_text()), 0)


def test_without_a_child_everything_is_done_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> int:
        raise BlockingIOError("fork: Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    ran: list[int] = []
    done = forking.share(list(range(5)), _slow_square, 2, meanwhile=lambda: ran.append(1))
    assert done == [(n * n, os.getpid()) for n in range(5)]
    assert ran == [1]


def test_without_shared_memory_everything_is_done_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forking, "_shared_counter", lambda: None)
    done = forking.share(list(range(5)), _slow_square, 2)
    assert done == [(n * n, os.getpid()) for n in range(5)]
