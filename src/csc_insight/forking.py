"""Independent tasks shared between this process and forked copies of it.

Reading a load's files is single-threaded Python (XML, workbooks, conforming), so on a
machine with two cores a second process halves it. A forked child inherits everything this
process has imported and read so far, so it starts at once; it takes tasks from a shared
counter (whichever process is free takes the next, largest first), and sends its results
back pickled through a pipe. The child never writes anything else and ends with
``os._exit`` (no clean-up of objects it inherited, such as an open warehouse).

If a child fails in any way (killed, out of memory, a result that cannot be pickled), the
tasks it had taken are done again here: sharing the work can make a load faster, never
different or lost.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def can_fork() -> bool:
    """Whether this platform can share work by forking (Linux, macOS; not Windows)."""
    return hasattr(os, "fork")


def share(
    tasks: Sequence[T],
    work: Callable[[T], R],
    processes: int,
    meanwhile: Callable[[], None] | None = None,
) -> list[R]:
    """``work(task)`` for every task, in order, with ``processes`` processes taking part.

    ``tasks`` should come largest first. ``meanwhile`` runs in this process while the
    children start on the tasks (for example, opening the warehouse the results go to);
    this process then takes tasks too. With one process, one task or no fork, everything
    runs here, in order.
    """
    children = min(processes, len(tasks)) - 1
    if children < 1 or not can_fork():
        if meanwhile is not None:
            meanwhile()
        return [work(task) for task in tasks]
    counter = multiprocessing.get_context("fork").Value("q", 0)

    def take() -> int | None:
        with counter.get_lock():
            index = int(counter.value)
            if index >= len(tasks):
                return None
            counter.value = index + 1
            return index

    pipes: list[tuple[int, int]] = []
    results: dict[int, R] = {}
    try:
        pipes = [_start_child(take, tasks, work) for _ in range(children)]
        if meanwhile is not None:
            meanwhile()
        while (index := take()) is not None:
            results[index] = work(tasks[index])
        while pipes:
            pid, reader = pipes.pop()
            results.update(_collect(pid, reader))
    finally:
        for pid, reader in pipes:  # only if this process failed: stop and reap the children
            _stop(pid, reader)
    # Whatever a failed child had taken is done here, in order.
    for index in range(len(tasks)):
        if index not in results:
            results[index] = work(tasks[index])
    return [results[i] for i in range(len(tasks))]


def _start_child(
    take: Callable[[], int | None], tasks: Sequence[T], work: Callable[[T], R]
) -> tuple[int, int]:
    reader, writer = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a process with threads (DuckDB's, Arrow's) may
        # deadlock a child that uses them; this child only reads files and never touches
        # the warehouse, and a child that fails is made good by the parent.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid:
        os.close(writer)
        return pid, reader
    # The child.
    status = 1
    try:
        os.close(reader)
        done: dict[int, Any] = {}
        while (index := take()) is not None:
            done[index] = work(tasks[index])
        payload = pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(writer, "wb") as out:
            out.write(payload)
        status = 0
    finally:
        os._exit(status)


def _stop(pid: int, reader: int) -> None:
    os.close(reader)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _collect(pid: int, reader: int) -> dict[int, Any]:
    """A child's results; nothing if it failed (its tasks are then done by the parent)."""
    with os.fdopen(reader, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not payload:
        return {}
    try:
        done = pickle.loads(payload)
    except Exception:  # a damaged result is a failed child: redo its tasks
        return {}
    return done if isinstance(done, dict) else {}
