"""An ordered process pool that costs the main process almost nothing per task.

`multiprocessing.Pool` runs three helper threads in the main process (tasks, results, worker
upkeep); measured on the engine's windows they took about 35 µs of main-process CPU per
paragraph, more than everything else the main process does. Here each worker has one pipe,
tasks go round-robin, and the main thread reads a worker's results itself, in the order it sent
them: no helper threads, no locks. Each worker reads its pipe on a thread of its own, so that
the main process's sends never wait on a worker that is busy sending a large result back.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from typing import Any, Callable


class WorkerStopped(RuntimeError):
    """A worker process died (killed, out of memory): its tasks cannot be finished."""


def _read_tasks(connection, tasks: queue.SimpleQueue) -> None:
    try:
        while True:
            tasks.put(connection.recv())
    except (EOFError, OSError):
        tasks.put(None)


def _serve(connection, inherited: list, initializer: Callable[..., None] | None, initargs: tuple) -> None:
    """A worker's loop. `inherited`: the main process's ends of its own and the earlier workers' pipes, which
    fork copied here; closed, so that those workers see their pipe close when the main process dies."""
    for other in inherited:
        other.close()
    if initializer is not None:
        initializer(*initargs)
    tasks: queue.SimpleQueue = queue.SimpleQueue()
    threading.Thread(target=_read_tasks, args=(connection, tasks), daemon=True).start()
    while (task := tasks.get()) is not None:
        ticket, function, args = task
        try:
            reply = (ticket, True, function(*args))
        except Exception as error:  # sent back and raised in the main process
            reply = (ticket, False, error)
        try:
            connection.send(reply)
        except OSError:  # the main process stopped (Ctrl-C, or it went away): nothing is waiting for this
            return


class OrderedPool:
    """`submit` returns a ticket; `result(ticket)` blocks until that task is done (tasks run in parallel)."""

    def __init__(self, processes: int, initializer: Callable[..., None] | None = None, initargs: tuple = ()):
        context = multiprocessing.get_context("fork")  # the workers inherit the loaded code and tokenizer
        self._connections, self._processes = [], []
        for _ in range(processes):
            mine, theirs = context.Pipe(duplex=True)
            process = context.Process(target=_serve, args=(theirs, [*self._connections, mine], initializer, initargs), daemon=True)
            process.start()
            theirs.close()
            self._connections.append(mine)
            self._processes.append(process)
        self._next_ticket = 0
        self._worker_of: dict[int, int] = {}  # tickets not yet returned -> the worker running them
        self._done: dict[int, tuple[bool, Any]] = {}

    @property
    def size(self) -> int:
        return len(self._processes)

    def submit(self, function: Callable, *args, worker: int | None = None) -> int:
        """Queue `function(*args)` on `worker` (default: the next in turn); returns its ticket."""
        ticket = self._next_ticket
        self._next_ticket += 1
        worker = ticket % self.size if worker is None else worker
        self._worker_of[ticket] = worker
        self._connections[worker].send((ticket, function, args))
        return ticket

    def worker_of(self, ticket: int) -> int:
        return self._worker_of[ticket]

    def ready(self, ticket: int) -> bool:
        """Whether `result(ticket)` would return at once (reads what has arrived, never waits)."""
        connection = self._connections[self._worker_of[ticket]]
        while ticket not in self._done and connection.poll(0):
            self._receive(connection)
        return ticket in self._done

    def result(self, ticket: int) -> Any:
        connection = self._connections[self._worker_of[ticket]]
        while ticket not in self._done:
            self._receive(connection)
        del self._worker_of[ticket]
        ok, value = self._done.pop(ticket)
        if not ok:
            raise value
        return value

    def _receive(self, connection) -> None:
        try:
            done, ok, value = connection.recv()
        except (EOFError, OSError):
            raise WorkerStopped("a worker process stopped unexpectedly; its documents were not scored") from None
        self._done[done] = (ok, value)

    def terminate(self) -> None:
        for connection in self._connections:
            connection.close()
        for process in self._processes:
            process.kill()
            process.join()
