"""Streaming: batches, read-ahead, threads and worker processes, and output
written whole lines at a time.

This module sits below the Segmenter: it runs whatever it is handed — a batch
function (``list[str] -> list[spans]``) or a renderer (pieces of lines ->
output bytes, see Renderer) — and never imports the segmenter or the CLI.
Worker processes build their renderer with a picklable factory(fmt, delimiter).
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
from bisect import bisect_left
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from itertools import accumulate, count
from operator import add
from typing import BinaryIO, Callable, Iterable, Iterator, TypeVar

from .errors import InputError, WorkerDied
from .reader import Piece
from .writer import LineWriter, body

Spans = list[tuple[int, int]]
BatchFunction = Callable[[list[str]], list[Spans]]
#: A batch of pieces → each piece's output body (see writer.body).
Renderer = Callable[[list[Piece]], list[bytes]]
#: (format, delimiter) → a Renderer; picklable for worker processes.
RendererFactory = Callable[[str, str], Renderer]
Item = TypeVar("Item")

BATCH_CHARS = 16384  # characters of input per batch
CHUNK_CHARS = 1 << 16  # characters of input per task handed to a worker process


def batched(items: Iterable[Item], limit: int, size: Callable = lambda line: len(line) + 1) -> Iterator[list[Item]]:
    """Consecutive items grouped until their sizes add up to `limit`."""
    batch: list = []
    total = 0
    for item in items:
        batch.append(item)
        total += size(item)
        if total >= limit:
            yield batch
            batch, total = [], 0
    if batch:
        yield batch


def pipe(items: Iterable[Item], batch_function: Callable[[list[Item]], list], *, threads: int = 1,
         batch_chars: int = BATCH_CHARS, chars: Callable[[Item], int] = len) -> Iterator[list[tuple[Item, object]]]:
    """Batches of (item, its result) in input order; `chars(item)` is an
    item's size in characters. A batch closes at `batch_chars` characters;
    with more than one thread it also closes early when the input stalls, so
    a slow producer (`tail -f`) gets each answer without waiting."""
    batch_chars = max(1, batch_chars)  # 0 would leave the read-ahead no room at all
    if isinstance(items, (list, tuple)):  # in memory: it cannot stall, and its batches are cut at once
        yield from _in_order(_cut_in_memory(items, batch_chars, chars), batch_function, threads)
        return
    if threads == 1:
        yield from _in_order(batched(items, batch_chars, size=lambda item: chars(item) + 1), batch_function, 1)
        return
    # onnxruntime, numpy and the decoder release the GIL, so batches in flight
    # on a few threads keep every core busy. A reader thread lets us notice a
    # stalled input instead of blocking on it.
    inbox = _Prefetch(items, limit=4 * batch_chars, size=chars)
    pending: deque = deque()
    batch: list = []
    size = 0

    def submit():
        pending.append((batch, pool.submit(batch_function, batch)))

    def done():
        items_, future = pending.popleft()
        return list(zip(items_, future.result()))

    with ThreadPoolExecutor(threads, thread_name_prefix="seg") as pool:
        try:
            while True:
                # Everything read so far at once: one lock a take, not one a line.
                items, ended = inbox.take(block=not (batch or pending))
                for item in items:
                    if size >= batch_chars:
                        submit()
                        batch, size = [], 0
                        while len(pending) > threads:
                            yield done()
                    batch.append(item)
                    size += chars(item) + 1
                if ended or not items:  # the end, or a stalled input: what is there goes now
                    if batch:
                        submit()
                        batch, size = [], 0
                    elif pending and not ended:
                        yield done()
                while len(pending) > threads:
                    yield done()
                if ended:
                    break
            while pending:
                yield done()
            inbox.raise_failure()
        finally:
            inbox.close()


def _in_order(batches: Iterable[list], batch_function: Callable, threads: int) -> Iterator[list[tuple]]:
    """Each batch zipped with its results, in order; with more than one
    thread, up to `threads` more batches in flight than the one waited on."""
    if threads == 1:
        for batch in batches:
            yield list(zip(batch, batch_function(batch)))
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="seg") as pool:
        pending: deque = deque()
        for batch in batches:
            pending.append((batch, pool.submit(batch_function, batch)))
            if len(pending) > threads:
                done, future = pending.popleft()
                yield list(zip(done, future.result()))
        while pending:
            done, future = pending.popleft()
            yield list(zip(done, future.result()))


def _cut_in_memory(items: list | tuple, limit: int, chars: Callable) -> Iterator[list]:
    """batched() over items in memory, cut from running totals (C-level
    loops) rather than one Python step an item: the GIL time that costs
    belongs to the batches' threads."""
    # totals[k]: the size of items[:k], each item chars(item) + 1.
    totals = list(map(add, accumulate(map(chars, items), initial=0), count()))
    start = 0
    while start < len(items):
        # The batch closes at the first item that brings it to `limit`.
        end = min(len(items), bisect_left(totals, totals[start] + limit, lo=start + 1))
        yield list(items[start:end])
        start = end


class _Prefetch:
    """Reads an iterable on a thread of its own, at most about `limit`
    characters ahead of what the consumer has taken (which it may still be
    batching: up to about twice `limit` in memory)."""

    def __init__(self, items: Iterable, limit: int, size: Callable):
        self._items: deque = deque()
        self._chars = 0
        self._limit = limit
        self._size = size
        self._done = self._closed = False
        self._consumer_waits = False  # the reader notifies only then: a notify costs the GIL ~1 µs a line
        self._failure: BaseException | None = None
        self._changed = threading.Condition()
        threading.Thread(target=self._feed, args=(iter(items),), daemon=True).start()

    def _feed(self, items: Iterator) -> None:
        try:
            for item in items:
                size = self._size(item)
                with self._changed:
                    while not self._closed and self._chars >= self._limit:
                        self._changed.wait()
                    if self._closed:
                        return
                    self._items.append(item)
                    self._chars += size
                    if self._consumer_waits:
                        self._changed.notify()
        except BaseException as e:  # re-raised in the consumer, with its type
            self._failure = e
        with self._changed:
            self._done = True
            self._changed.notify_all()

    def take(self, block: bool) -> tuple[list, bool]:
        """(every item read and not yet taken, whether that is all there will
        be); without `block`, an empty list when none is ready."""
        with self._changed:
            if block:
                while not self._items and not self._done:
                    self._consumer_waits = True
                    self._changed.wait()
                    self._consumer_waits = False
            items = list(self._items)
            self._items.clear()
            self._chars = 0
            if items:
                self._changed.notify_all()  # the reader may go on
            return items, self._done

    def raise_failure(self) -> None:
        """Re-raises what reading failed with, once everything before it is out."""
        if self._failure is not None:
            raise self._failure

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()


def as_piece(item: str | Piece) -> Piece:
    return item if isinstance(item, Piece) else Piece(item, 0, True)


def renderer(batch_function: BatchFunction, fmt: str, delimiter: str) -> Renderer:
    """The Renderer that cuts pieces with a batch function and formats their
    words with writer.body."""
    def render(pieces: list[Piece]) -> list[bytes]:
        spans = batch_function([piece.text for piece in pieces])
        return [body(fmt, piece.text, s, piece.start, delimiter) for piece, s in zip(pieces, spans)]

    return render


def run(make_renderer: RendererFactory, lines: Iterable[str | Piece], out: BinaryIO, delimiter: str = " ",
        fmt: str = "text", *, threads: int = 1, batch_chars: int | None = None) -> None:
    """Segments `lines` (strings, or the reader's pieces of lines) into `out`,
    writing and flushing whole lines one batch at a time."""
    writer = LineWriter(fmt, delimiter)
    for batch in pipe(map(as_piece, lines), make_renderer(fmt, delimiter), threads=threads,
                      batch_chars=batch_chars or BATCH_CHARS, chars=_piece_chars):
        for piece, piece_body in batch:
            writer.add(piece, piece_body)
        write_whole(out, writer.whole_lines())


def _piece_chars(piece: Piece) -> int:
    return len(piece.text)


def run_parallel(factory: RendererFactory, lines: Iterable[str | Piece], out: BinaryIO,
                 delimiter: str = " ", fmt: str = "text", *, jobs: int = 2, batch_chars: int | None = None,
                 chunk_chars: int = CHUNK_CHARS) -> None:
    """run() over `jobs` worker processes, each building its renderer with
    `factory(fmt, delimiter)`; chunks of lines go to the workers in turn
    and their output is written in input order. An exception raised by a
    worker (its factory included) is raised here. The factory is pickled by
    reference: the workers import it, so it must live in an importable module
    (as segmenter.RendererFactory does), not in the caller's __main__."""
    writer = LineWriter(fmt, delimiter)
    with _Workers(factory, jobs, (delimiter, fmt, batch_chars)) as workers:
        pending: deque = deque()

        def write_oldest():
            chunk, worker = pending.popleft()
            for piece, piece_body in zip(chunk, worker.result()):
                writer.add(piece, piece_body)
            write_whole(out, writer.whole_lines())

        chunks = batched(map(as_piece, lines), chunk_chars, size=lambda piece: len(piece.text) + 1)
        for number, chunk in enumerate(chunks):
            worker = workers[number % jobs]
            worker.send(chunk)
            pending.append((chunk, worker))
            if len(pending) >= 2 * jobs:  # bounded read-ahead keeps memory flat
                write_oldest()
        while pending:
            write_oldest()


# --- worker processes -----------------------------------------------------------

# SIGHUP too: with the workers in groups of their own, a closed terminal
# reaches only seg, which must take them with it.
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])}
_live_workers: set = set()  # this process's workers (subprocess.Popen), killed by exit_now

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
from segcli.stream import _worker_main
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
        _live_workers.add(self.process)
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
        _live_workers.discard(self.process)
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
        factory, (delimiter, fmt, batch_chars) = tasks.recv()
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
            os._exit(0)

    threading.Thread(target=read_tasks, daemon=True).start()
    try:
        render = factory(fmt, delimiter)
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
                                                               chars=_piece_chars)
                                 for _, piece_body in batch])
            except Exception as e:
                answer = (False, _picklable(e))
        try:
            results.send(answer)
        except OSError:  # the parent is gone: no one to answer
            os._exit(0)


def _picklable(error: Exception) -> Exception:
    import pickle

    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")


# --- writing and leaving ----------------------------------------------------------

WRITE_GRACE_SECONDS = 2.0  # how long a stop signal waits for lines being written
_writing = threading.Event()  # a batch's output is going out
_exit_status: list[int] = []  # a stop signal came while it was


def write_whole(out: BinaryIO, data: bytes) -> None:
    """Writes and flushes whole lines; a stop signal meanwhile (see
    exit_on_signals) ends the process only once they are out, so the output
    never ends in half a line."""
    if not data:
        return
    _writing.set()
    try:
        try:
            fd = out.fileno()
        except (AttributeError, OSError, ValueError):  # in-memory streams (the API, tests)
            out.write(data)
            out.flush()
        else:
            # Straight to the file descriptor: a BufferedWriter whose write a
            # signal interrupts can drop the rest of it.
            out.flush()
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
    except BrokenPipeError:
        raise  # the reader went away: the CLI ends quietly
    except OSError as e:  # a full disk, a lost network file system
        name = getattr(out, "name", None)
        where = {"<stdout>": "standard output"}.get(name, name) if isinstance(name, str) else "the output"
        raise InputError(f"cannot write {where}: {e.strerror or e}") from e
    finally:
        _writing.clear()
    if _exit_status:
        exit_now(_exit_status[0])


def exit_on_signals() -> None:
    """Makes SIGINT, SIGTERM and SIGHUP end the process with status 128 +
    signal, after the lines being written (never a traceback, never half a
    line); one that whoever started the process ignores (nohup) stays
    ignored. For the main thread of a command-line program."""
    for signum in _STOP_SIGNALS:
        if signal.getsignal(signum) != signal.SIG_IGN:  # ignored by whoever started seg (nohup, `&`): left so
            signal.signal(signum, _on_stop_signal)


def _on_stop_signal(signum, frame) -> None:
    if not _writing.is_set():
        exit_now(128 + signum)
    if not _exit_status:
        _exit_status.append(128 + signum)
        # A reader that has stopped reading would keep the write, and so this
        # process, blocked for ever: past a grace period, leave anyway.
        timer = threading.Timer(WRITE_GRACE_SECONDS, exit_now, (128 + signum,))
        timer.daemon = True
        timer.start()


def exit_now(status: int) -> None:
    """Ends the process without interpreter shutdown: a reader thread may be
    blocked inside stdin, and shutdown would abort on its lock. Nothing of ours
    is left to flush: every batch was written whole and flushed. Worker
    processes go first, killed, so that none outlives its parent."""
    for process in list(_live_workers):
        try:
            process.kill()
        except (OSError, ValueError, AttributeError):  # already reaped, or not started
            pass
    for process in list(_live_workers):
        try:
            process.wait(timeout=5)
        except Exception:  # subprocess.TimeoutExpired (not imported without --jobs), OSError
            pass
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(status)
