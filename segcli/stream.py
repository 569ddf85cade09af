"""Streaming: batches, read-ahead and threads, and output written whole lines
at a time (the --jobs worker processes are workers.py).

This module sits below the Segmenter: it runs whatever it is handed — a batch
function (``list[str] -> list[spans]``) or a writer.Renderer (pieces of lines
-> output bytes) — and never imports the segmenter or the CLI. It never ends
the process either: errors and interrupts are raised to the caller.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from itertools import accumulate, count
from operator import add
from typing import BinaryIO, Callable, Iterable, Iterator, TypeVar

from .reader import Piece
from .writer import Format, Renderer, write_whole

Item = TypeVar("Item")

BATCH_CHARS = 16384  # characters of input per batch


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


def run(render: Renderer, lines: Iterable[str | Piece], out: BinaryIO, output: Format = Format(), *,
        threads: int = 1, batch_chars: int | None = None,
        write: Callable[[BinaryIO, bytes], None] = write_whole) -> None:
    """Segments `lines` (strings, or the reader's pieces of lines) into `out`
    with `render` (see segmenter.renderer), framed as `output` says, writing
    and flushing whole lines one batch at a time with `write`."""
    writer = output.line_writer()
    for batch in pipe(map(as_piece, lines), render, threads=threads, batch_chars=batch_chars or BATCH_CHARS,
                      chars=piece_chars):
        for piece, piece_body in batch:
            writer.add(piece, piece_body)
        write(out, writer.ready())


def piece_chars(piece: Piece) -> int:
    return len(piece.text)
