"""The Segmenter: encode → score → dictionary → decode, a batch of lines at a time."""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from .decode import decode
from .dictionary import DEFAULT_MULTIPLIER, UserDictionary, check_entry, load_dicts
from .encode import PAD, Vocab, codepoints
from .score import Scorer

Spans = list[tuple[int, int]]

# Every code point that str.isspace() accepts lies below U+3001.
_SPACE_TABLE = np.array([chr(c).isspace() for c in range(0x3001)] + [False])
_WINDOW = 2048  # characters in a row handed to the model
_BATCH_CHARS = 16384  # characters of input per batch


def default_model_dir() -> Path:
    installed = Path(__file__).parent / "models"
    # A source checkout keeps the model at the repository's top level.
    return installed if installed.is_dir() else Path(__file__).parent.parent / "models"


def _is_space(cps: np.ndarray) -> np.ndarray:
    return _SPACE_TABLE[np.minimum(cps, len(_SPACE_TABLE) - 1)]


class Segmenter:
    """Cuts lines of Chinese text into words.

    Thread-safe: a constructed Segmenter holds no per-call state, and add_word
    swaps in a new compiled dictionary rather than changing the old one.
    """

    def __init__(self, model: str | Path | None = None, dicts: Iterable[str | Path] = (), *, threads: int = 0):
        """threads: batches scored at once (0: one per available core)."""
        model_dir = Path(model) if model is not None else default_model_dir()
        self.metadata = json.loads((model_dir / "metadata.json").read_text(encoding="utf-8"))
        self.vocab = Vocab.load(model_dir)
        self.transitions = np.array(
            json.loads((model_dir / "transitions.json").read_text()), dtype=np.float32
        )
        architecture = self.metadata["architecture"]
        self._context = int(architecture["context"])
        # PAD positions between sequences, zeroed after every layer: as many
        # as one convolution reaches keep neighbours apart.
        self._gap = architecture["kernel"] // 2 * max(1, *architecture["dilations"])
        self._scorer = Scorer(model_dir / "model.onnx")
        self.threads = threads or _available_cores()
        entries, self.duplicate_words = load_dicts(list(dicts))
        self._dictionary = UserDictionary(entries)
        self._dictionary_lock = threading.Lock()

    def add_word(self, word: str, multiplier: float | str = DEFAULT_MULTIPLIER) -> None:
        """Adds or replaces one dictionary word: a multiplier k > 1 encourages it,
        k < 1 discourages it, 0 forbids it, `"force"` (or math.inf) forces it.
        Raises DictError (a ValueError) for an invalid word or multiplier."""
        value = check_entry(word, multiplier)
        with self._dictionary_lock:
            self._dictionary = self._dictionary.updated({word: value})

    def cut(self, text: str) -> list[str]:
        return [text[a:b] for a, b in self.spans_batch([text])[0]]

    def cut_lines(self, lines: Iterable[str], batch_chars: int = _BATCH_CHARS) -> Iterator[list[str]]:
        for batch in self.spans_batches(lines, batch_chars):
            for line, spans in batch:
                yield [line[a:b] for a, b in spans]

    def spans_batches(
        self, lines: Iterable[str], batch_chars: int = _BATCH_CHARS
    ) -> Iterator[list[tuple[str, Spans]]]:
        """Batches of (line, [(start, end), …]) in input order. A batch closes
        at `batch_chars` characters; with more than one thread it also closes
        early when the input stalls, so a slow producer (`tail -f`) gets each
        answer without waiting. (One thread reads whole batches: the CLI asks a
        terminal for one line per batch.)"""
        if self.threads == 1:
            for batch in batched(lines, batch_chars):
                yield list(zip(batch, self.spans_batch(batch)))
            return
        # onnxruntime, numpy and the decoder release the GIL, so batches in
        # flight on a few threads keep every core busy. A reader thread lets us
        # notice a stalled input instead of blocking on it.
        inbox = _Prefetch(lines, limit=4 * batch_chars)
        pending: deque = deque()
        batch: list[str] = []
        size = 0
        with ThreadPoolExecutor(self.threads, thread_name_prefix="seg") as pool:
            try:
                while True:
                    line = inbox.get(block=not (batch or pending))
                    if line is _STALLED or line is _END or size >= batch_chars:
                        if batch:
                            pending.append((batch, pool.submit(self.spans_batch, batch)))
                            batch, size = [], 0
                        elif line is _STALLED:
                            done, future = pending.popleft()
                            yield list(zip(done, future.result()))
                    if line is _END:
                        break
                    if line is not _STALLED:
                        batch.append(line)
                        size += len(line) + 1
                    while len(pending) > self.threads:
                        done, future = pending.popleft()
                        yield list(zip(done, future.result()))
                for done, future in pending:
                    yield list(zip(done, future.result()))
                inbox.raise_failure()
            finally:
                inbox.close()

    def spans_batch(self, lines: Sequence[str]) -> list[Spans]:
        """Word offsets for each line of one batch."""
        text = "\n".join(lines)
        if not text:
            return [[] for _ in lines]
        cps = codepoints(text)
        space = _is_space(cps)
        kept = np.flatnonzero(~space)
        line_ends = np.cumsum([len(line) + 1 for line in lines]) - 1
        # Each line is one model sequence, whitespace removed so the model sees
        # the words around a space; the space still cuts (see segments below).
        seq_ends = np.searchsorted(kept, line_ends)
        seq_starts = np.concatenate(([0], seq_ends[:-1]))
        nonempty = seq_ends > seq_starts
        last = np.zeros(len(kept), dtype=bool)
        last[seq_ends[nonempty] - 1] = True
        char_ids = self.vocab.char_ids_of(cps[kept])
        features = self.vocab.features(char_ids, last)

        scores = np.zeros((len(cps), 4), dtype=np.float32)
        scores[kept] = self._score(char_ids, features, seq_starts[nonempty], seq_ends[nonempty])
        self._dictionary.apply(text, scores)

        boundary = np.diff(space.astype(np.int8), prepend=1, append=1)
        seg_starts = np.flatnonzero(boundary == -1)
        seg_ends = np.flatnonzero(boundary == 1)
        tags = decode(scores, seg_starts, seg_ends, self.transitions)

        word_starts = np.flatnonzero(~space & (tags <= 1))  # s or b
        word_ends = np.flatnonzero(~space & ((tags == 0) | (tags == 3))) + 1  # s or e
        line_starts = line_ends - np.array([len(line) for line in lines])
        first = np.searchsorted(word_starts, line_starts)
        stop = np.searchsorted(word_starts, line_ends)
        out = []
        for i in range(len(lines)):
            base = int(line_starts[i])
            a, b = first[i], stop[i]
            out.append(list(zip((word_starts[a:b] - base).tolist(), (word_ends[a:b] - base).tolist())))
        return out

    def _score(self, char_ids, features, starts, ends) -> np.ndarray:
        """Model scores for back-to-back sequences [starts[k], ends[k])."""
        # The sequences are laid end to end in one stream, self._gap PAD
        # positions apart: the model zeroes PAD positions after every layer,
        # so neighbours never leak into each other. The stream is cut into rows
        # of _WINDOW characters whose scored core is framed by enough context
        # that the scores equal scoring each sequence whole. Long rows keep the
        # convolutions' matrix products efficient (padding short lines to a
        # common length ran 2.4 times slower).
        if not len(char_ids):
            return np.empty((0, 4), dtype=np.float32)
        lengths = ends - starts
        stream_at = np.arange(len(char_ids)) + self._gap * np.repeat(np.arange(len(lengths)), lengths)
        size = int(stream_at[-1]) + 1
        if size <= _WINDOW:
            margin, core = 0, size
        else:
            margin = max(16, 2 * self._context)
            core = _WINDOW - 2 * margin
        index = (np.arange(0, size, core) - margin)[:, None] + np.arange(core + 2 * margin)
        outside = (index < 0) | (index >= size)
        inputs = []
        for values, blank in ((char_ids, PAD), *((f, 0) for f in features)):  # 0: PAD, no word matches
            stream = np.full((size, *values.shape[1:]), blank, dtype=values.dtype)
            stream[stream_at] = values
            rows = stream[np.clip(index, 0, size - 1)]
            rows[outside] = blank
            inputs.append(rows)
        # At most _BATCH_CHARS characters per run bounds onnxruntime's memory.
        step = max(1, _BATCH_CHARS // index.shape[1])
        scores = np.concatenate([
            self._scorer(inputs[0][r : r + step], [m[r : r + step] for m in inputs[1:]])
            for r in range(0, len(index), step)
        ])
        return scores[:, margin : margin + core].reshape(-1, 4)[stream_at]


def _available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


_END = object()
_STALLED = object()


class _Prefetch:
    """Reads an iterable of lines on a thread of its own, at most about
    `limit` characters ahead of the consumer."""

    def __init__(self, lines: Iterable[str], limit: int):
        self._lines: deque = deque()
        self._chars = 0
        self._limit = limit
        self._done = self._closed = False
        self._failure: BaseException | None = None
        self._changed = threading.Condition()
        threading.Thread(target=self._feed, args=(iter(lines),), daemon=True).start()

    def _feed(self, lines: Iterator[str]) -> None:
        try:
            for line in lines:
                with self._changed:
                    self._changed.wait_for(lambda: self._closed or self._chars < self._limit)
                    if self._closed:
                        return
                    self._lines.append(line)
                    self._chars += len(line)
                    self._changed.notify_all()
        except BaseException as e:  # re-raised in the consumer, with its type
            self._failure = e
        with self._changed:
            self._done = True
            self._changed.notify_all()

    def get(self, block: bool):
        """The next line; _END after the last; _STALLED when not blocking and none is ready."""
        with self._changed:
            if block:
                self._changed.wait_for(lambda: self._lines or self._done)
            if not self._lines:
                return _END if self._done else _STALLED
            line = self._lines.popleft()
            self._chars -= len(line)
            self._changed.notify_all()
            return line

    def raise_failure(self) -> None:
        """Re-raises what reading failed with, once everything before it is out."""
        if self._failure is not None:
            raise self._failure

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()


def batched(items: Iterable, limit: int, size: Callable = lambda line: len(line) + 1) -> Iterator[list]:
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
