"""The --jobs worker processes: chunks of lines rendered in processes of
their own (each with its own copy of the model), written in input order.

No multiprocessing: a worker is `python -c` started with subprocess and
talks over two plain pipes, and registers with exits so that the command
kills it on the way out (exits.exit_now).
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
from collections import deque
from typing import BinaryIO, Callable, Iterable

from . import exits
from .errors import WorkerDied
from .reader import Piece
from .stream import BATCH_CHARS, as_piece, batched, piece_chars, pipe
from .writer import Format, Renderer, write_whole

#: The output's Format → a Renderer; picklable, for worker processes.
RendererFactory = Callable[[Format], Renderer]

CHUNK_CHARS = 1 << 16  # characters of input per task handed to a worker process


def run_parallel(factory: RendererFactory, lines: Iterable[str | Piece], out: BinaryIO,
                 output: Format = Format(), *, jobs: int = 2, batch_chars: int | None = None,
                 chunk_chars: int = CHUNK_CHARS, write: Callable[[BinaryIO, bytes], None] = write_whole) -> None:
    """stream.run() over `jobs` worker processes, each building its renderer
    with `factory(output)`; chunks of lines go to the workers in turn and
    their output is written in input order. An exception raised by a worker
    (its factory included) is raised here. The factory is pickled by
    reference: the workers import it, so it must live in an importable module
    (as segmenter.Recipe does), not in the caller's __main__."""
    writer = output.line_writer()
    with _Workers(factory, jobs, (output, batch_chars)) as workers:
        pending: deque = deque()

        def write_oldest():
            chunk, worker = pending.popleft()
            for piece, piece_body in zip(chunk, worker.result()):
                writer.add(piece, piece_body)
            write(out, writer.ready())

        chunks = batched(map(as_piece, lines), chunk_chars, size=lambda piece: len(piece.text) + 1)
        for number, chunk in enumerate(chunks):
            worker = workers[number % jobs]
            worker.send(chunk)
            pending.append((chunk, worker))
            if len(pending) >= 2 * jobs:  # bounded read-ahead keeps memory flat
                write_oldest()
        while pending:
            write_oldest()



# What a worker runs: it takes the parent's sys.path (so it imports the same
# segcli) and then serves tasks. A parent that is gone before it has sent
# anything leaves it an empty pipe: it ends quietly.
_WORKER_PROGRAM = """\
import sys
from multiprocessing.connection import Connection
tasks = Connection({tasks}, writable=False)
try:
    sys.path[:] = tasks.recv()
except (EOFError, OSError):
    sys.exit(0)
from segcli.workers import _worker_main
_worker_main(tasks, Connection({results}, readable=False))
"""


class _Worker:
    """One worker process and its two one-way pipes. No multiprocessing
    queues or locks: those are semaphores that an early exit would leak.

    A worker runs in a process group of its own, so a Ctrl-C at the terminal
    (sent to the foreground process group) reaches only the parent, which
    kills its workers; the parent's signal dispositions are never touched
    (changing them around a start could lose a Ctrl-C arriving meanwhile).
    A worker the parent has not yet registered when it exits sees its task
    pipe close and ends by itself."""

    def __init__(self, factory, options):
        import subprocess
        from multiprocessing.connection import Connection

        task_reader, task_writer = os.pipe()
        result_reader, result_writer = os.pipe()
        own_group = {"process_group": 0} if sys.version_info >= (3, 11) else {"start_new_session": True}
        program = _WORKER_PROGRAM.format(tasks=task_reader, results=result_writer)
        try:
            self.process = subprocess.Popen(
                [sys.executable, *subprocess._args_from_interpreter_flags(), "-c", program],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,  # stdout is the parent's output
                pass_fds=(task_reader, result_writer), **own_group)
        except BaseException as e:
            os.close(task_writer)
            os.close(result_reader)
            if isinstance(e, OSError):  # no interpreter to run (an embedded Python), no processes left
                raise WorkerDied(f"cannot start a worker process: {e.strerror or e}") from None
            raise
        finally:
            os.close(task_reader)
            os.close(result_writer)
        exits.live_workers.add(self.process)
        self._tasks = Connection(task_writer, readable=False)
        self._results = Connection(result_reader, writable=False)
        try:
            self.send(sys.path)
            self.send((factory, options))
        except BaseException:  # an unpicklable factory, an interrupt: nothing may stay behind
            self.stop(kill=True)
            raise

    def send(self, task) -> None:
        try:
            self._tasks.send(task)
        except (BrokenPipeError, ConnectionResetError):
            self._raise_died()

    def result(self) -> list[bytes]:
        try:
            ok, value = self._results.recv()
        except (EOFError, ConnectionResetError):
            self._raise_died()
        if not ok:
            raise value
        return value

    def _raise_died(self):
        import subprocess

        try:
            self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass
        raise WorkerDied(f"a worker process ended unexpectedly (exit status {self.process.returncode})")

    def stop(self, kill: bool) -> None:
        import subprocess

        if kill:
            self.process.kill()
        else:
            try:
                self._tasks.send(None)
            except OSError:
                self.process.kill()
            try:
                self.process.wait(timeout=30)  # it has nothing left to do; never wait for ever
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait()
        exits.live_workers.discard(self.process)
        self._tasks.close()
        self._results.close()


class _Workers(list):
    def __init__(self, factory, jobs: int, options):
        super().__init__()
        try:
            for _ in range(jobs):
                self.append(_Worker(factory, options))
        except BaseException:
            self.stop(kill=True)
            raise

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        # Workers are killed unless everything went well: an error or an
        # interrupt must never wait on a worker that is still busy.
        self.stop(kill=kind is not None)

    def stop(self, kill: bool) -> None:
        for worker in self:
            worker.stop(kill)


def _worker_main(tasks, results) -> None:
    # Only the parent acts on stop signals (it kills its workers); none comes
    # from the terminal, as a worker has a process group of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        factory, (output, batch_chars) = tasks.recv()
    except (EOFError, OSError):
        return
    # Tasks are read on a thread of their own: the parent may be sending the
    # next chunk while this process waits to send a large result back.
    inbox: queue.SimpleQueue = queue.SimpleQueue()

    def read_tasks():
        try:
            while True:
                task = tasks.recv()
                inbox.put(task)
                if task is None:
                    return
        except (EOFError, OSError):  # the parent is gone (it says None before it closes): nothing to finish
            exits.exit_now(0)

    threading.Thread(target=read_tasks, daemon=True).start()
    try:
        render = factory(output)
        failure = None
    except Exception as e:  # reported with the first task, raised in the parent
        render, failure = None, e
    while True:
        chunk = inbox.get()
        if chunk is None:
            return
        if failure is not None:
            answer = (False, _picklable(failure))
        else:
            try:
                answer = (True, [piece_body for batch in pipe(chunk, render, batch_chars=batch_chars or BATCH_CHARS,
                                                               chars=piece_chars)
                                 for _, piece_body in batch])
            except Exception as e:
                answer = (False, _picklable(e))
        try:
            results.send(answer)
        except OSError:  # the parent is gone: no one to answer
            exits.exit_now(0)


def _picklable(error: Exception) -> Exception:
    import pickle

    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
