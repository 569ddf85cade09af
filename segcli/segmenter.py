"""The Segmenter: encode → score → dictionary → decode, a batch of lines at a time."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from .decode import decode
from .dictionary import DEFAULT_MULTIPLIER, DictError, UserDictionary, load_dicts
from .encode import PAD, Vocab, codepoints
from .score import Scorer

Spans = list[tuple[int, int]]

# Every code point that str.isspace() accepts lies below U+3001.
_SPACE_TABLE = np.array([chr(c).isspace() for c in range(0x3001)] + [False])
_WINDOW = 2048  # longest run handed to the model at once; longer lines are windowed
_BATCH_CHARS = 32768  # padded characters per onnxruntime call


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
        model_dir = Path(model) if model is not None else default_model_dir()
        self.metadata = json.loads((model_dir / "metadata.json").read_text(encoding="utf-8"))
        self.vocab = Vocab.load(model_dir)
        self.transitions = np.array(
            json.loads((model_dir / "transitions.json").read_text()), dtype=np.float32
        )
        self._context = int(self.metadata["architecture"]["context"])
        self._scorer = Scorer(model_dir / "model.onnx", threads)
        entries, self.duplicate_words = load_dicts(list(dicts))
        self._dictionary = UserDictionary(entries)
        self._dictionary_lock = threading.Lock()

    def add_word(self, word: str, multiplier: float | str = DEFAULT_MULTIPLIER) -> None:
        """Adds or replaces one dictionary word: a multiplier k > 1 encourages it,
        k < 1 discourages it, 0 forbids it, `"force"` (or math.inf) forces it.
        Raises DictError (a ValueError) for an invalid word or multiplier."""
        value = _check_entry(word, multiplier)
        with self._dictionary_lock:
            self._dictionary = self._dictionary.updated({word: value})

    def cut(self, text: str) -> list[str]:
        return next(self.cut_lines([text]))

    def cut_lines(self, lines: Iterable[str], batch_chars: int = _BATCH_CHARS) -> Iterator[list[str]]:
        for batch in self.spans_batches(lines, batch_chars):
            for line, spans in batch:
                yield [line[a:b] for a, b in spans]

    def spans_batches(
        self, lines: Iterable[str], batch_chars: int = _BATCH_CHARS
    ) -> Iterator[list[tuple[str, Spans]]]:
        """Batches of (line, [(start, end), …]), in input order; a batch is
        yielded as soon as `batch_chars` characters of input have been read."""
        batch: list[str] = []
        size = 0
        for line in lines:
            batch.append(line)
            size += len(line) + 1
            if size >= batch_chars:
                yield list(zip(batch, self.spans_batch(batch)))
                batch, size = [], 0
        if batch:
            yield list(zip(batch, self.spans_batch(batch)))

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
        """Model scores for the concatenated sequences [starts[k], ends[k])."""
        # Long sequences become windows whose scored core is framed by enough
        # context that their scores match scoring the whole sequence.
        margin = max(16, 2 * self._context)
        core = _WINDOW - 2 * margin
        pieces = []  # (input start, input end, core start, core end)
        for s, e in zip(starts.tolist(), ends.tolist()):
            if e - s <= _WINDOW:
                pieces.append((s, e, s, e))
                continue
            for c in range(s, e, core):
                pieces.append((max(s, c - margin), min(e, c + core + margin), c, min(e, c + core)))
        pieces.sort(key=lambda p: p[1] - p[0])
        result = np.empty((len(char_ids), 4), dtype=np.float32)
        i = 0
        while i < len(pieces):
            j = i + 1
            while j < len(pieces) and (j - i + 1) * (pieces[j][1] - pieces[j][0]) <= _BATCH_CHARS:
                j += 1
            group = np.array(pieces[i:j], dtype=np.int64)
            width = int((group[:, 1] - group[:, 0]).max())
            offsets = np.arange(width)
            index = group[:, :1] + offsets
            valid = index < group[:, 1:2]
            index = np.where(valid, index, 0)
            chars = np.where(valid, char_ids[index], PAD)
            padded = [f[index] for f in features]
            for f in padded:
                f[~valid] = 0  # PAD, and no word matches
            out = self._scorer(chars, padded)
            in_core = valid & (index >= group[:, 2:3]) & (index < group[:, 3:4])
            result[index[in_core]] = out[in_core]
            i = j
        return result


def _check_entry(word: str, multiplier: float | str) -> float:
    if not isinstance(word, str) or not word or any(ch.isspace() for ch in word):
        raise DictError(f"word {word!r} must be a non-empty string without whitespace")
    if isinstance(multiplier, str) and multiplier.strip().lower() == "force":
        return math.inf
    try:
        value = float(multiplier)
    except (TypeError, ValueError):
        raise DictError(f"multiplier {multiplier!r} is not a number or 'force'") from None
    # math.inf is how the dictionary module spells "force".
    if not value >= 0:  # also NaN
        raise DictError(f"multiplier {multiplier!r} must be a number >= 0 or 'force'")
    return value
