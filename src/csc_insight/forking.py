"""Independent tasks shared between this process and forked copies of it.

Reading a load's files is single-threaded Python (XML, workbooks, conforming), so on a
machine with two cores a second process halves it. A forked child inherits everything this
process has imported and read so far, so it starts at once; it takes tasks from a shared
counter (whichever process is free takes the next, largest first), and sends each result
back pickled through a pipe as soon as it is made. The child never writes anything else
and ends with ``os._exit`` (no clean-up of objects it inherited, such as an open
warehouse).

If a child fails in any way (killed, out of memory, a result that cannot be pickled), the
tasks it had taken are done again here: sharing the work can make a load faster, never
different or lost.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
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
    counter = _shared_counter() if children >= 1 and can_fork() else None
    if counter is None:
        if meanwhile is not None:
            meanwhile()
        return [work(task) for task in tasks]

    def take() -> int | None:
        with counter.get_lock():
            index = int(counter.value)
            if index >= len(tasks):
                return None
            counter.value = index + 1
            return index

    started: list[_Child] = []
    results: dict[int, R] = {}
    try:
        # Every child is forked before any thread starts here (each child gets a thread
        # that receives its results as they come).
        for _ in range(children):
            child = _Child.fork(take, tasks, work)
            if child is not None:  # else this process does the child's share
                started.append(child)
        for child in started:
            child.listen()
        if meanwhile is not None:
            meanwhile()
        while (index := take()) is not None:
            results[index] = work(tasks[index])
        while started:
            results.update(started.pop().finish())
    finally:
        for child in started:  # only if this process failed: stop and reap the children
            child.stop()
    # Whatever a failed child had taken and not sent is done here, in order.
    for index in range(len(tasks)):
        if index not in results:
            results[index] = work(tasks[index])
    return [results[i] for i in range(len(tasks))]


def _shared_counter() -> Any | None:
    """A counter in memory shared with forked children, or None where the system refuses one
    (a container without /dev/shm): the work is then done in this process alone."""
    try:
        return multiprocessing.get_context("fork").Value("q", 0)
    except OSError:
        return None


_LENGTH = 8  # bytes of the length before each result sent


class _Child:
    """A forked process taking tasks, and the thread here that receives its results.

    Each result is sent as soon as it is made (its length, then the pickle) and unpickled
    here on arrival, so the child never holds more than one result to send and this
    process never holds a result twice (as bytes and as objects) for long.
    """

    def __init__(self, pid: int, reader: int) -> None:
        self.pid = pid
        self.reader = reader
        self.results: dict[int, Any] = {}
        self.thread = threading.Thread(target=self._receive, name=f"csc-fork-{pid}", daemon=True)

    @classmethod
    def fork(
        cls, take: Callable[[], int | None], tasks: Sequence[T], work: Callable[[T], R]
    ) -> _Child | None:
        """A child started on the tasks, or None if the system would not start one (too many
        processes, no memory)."""
        try:
            reader, writer = os.pipe()
        except OSError:
            return None
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns that forking a process with threads (DuckDB's, Arrow's)
                # may deadlock a child that uses them; this child only reads files and never
                # touches the warehouse, and a child that fails is made good by the parent.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError:
            os.close(reader)
            os.close(writer)
            return None
        if pid:
            os.close(writer)
            return cls(pid, reader)
        # The child: take tasks until none is left, sending each result at once.
        status = 1
        try:
            os.close(reader)
            with os.fdopen(writer, "wb") as out:
                while (index := take()) is not None:
                    frame = pickle.dumps((index, work(tasks[index])), pickle.HIGHEST_PROTOCOL)
                    out.write(len(frame).to_bytes(_LENGTH, "little"))
                    out.write(frame)
                    out.flush()
            status = 0
        finally:
            os._exit(status)

    def listen(self) -> None:
        self.thread.start()

    def _receive(self) -> None:
        with os.fdopen(self.reader, "rb") as pipe:
            while len(head := pipe.read(_LENGTH)) == _LENGTH:
                frame = pipe.read(int.from_bytes(head, "little"))
                try:
                    index, result = pickle.loads(frame)
                except Exception:  # cut short or damaged: the child failed; redo the rest
                    return
                self.results[index] = result

    def finish(self) -> dict[int, Any]:
        """The results the child sent (a failed child's complete ones are kept too)."""
        self.thread.join()
        os.waitpid(self.pid, 0)
        return self.results

    def stop(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        self.thread.join(timeout=10)
