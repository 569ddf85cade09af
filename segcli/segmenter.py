"""The Segmenter: encode → score → dictionary → decode, a batch of lines at a time.

The class is the user's API (README.md's calls); what the pipeline needs of it
beyond that is module-level here: renderer() for `seg` and Recipe for its
--jobs workers, both over Segmenter's private batch functions.
"""

from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, NamedTuple, Sequence

import numpy as np

from . import atoms, boundaries, stream, writer
from .decode import Spans, decode, line_words, word_bounds
from .dictfile import LISTED, contains_whitespace, emit, read_dicts
from .dictionary import UserDictionary, check_entry, model_knows
from .dictrules import in_lookup_form
from .encode import codepoints
from .errors import DictError
from .model import load as load_model
from .score import Scorer

#: How `cut` and `tokenize` cut: "default" (every character in exactly one
#: word) or "search" (jieba's cut_for_search: before each long word, its
#: known shorter words; tokens overlap, so this mode is not lossless).
MODES = ("default", "search")
#: Each mode's batch functions, by name: (lines -> spans of each, lines -> (spans, tags) of each).
_MODE_FUNCTIONS = {
    "default": ("_spans_batch", "_tagged_spans_batch"),
    "search": ("_search_spans_batch", "_tagged_search_spans_batch"),
}

# The code points str.isspace() accepts (a test holds this to it), all below
# U+3001: a literal, because asking isspace() of 12,289 characters cost every start.
_SPACES = (*range(0x09, 0x0E), *range(0x1C, 0x21), 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029,
           0x202F, 0x205F, 0x3000)
_SPACE_TABLE = np.zeros(0x3001 + 1, dtype=bool)
_SPACE_TABLE[list(_SPACES)] = True


class Segmenter:
    """Cuts lines of Chinese text into words.

    Thread-safe: a constructed Segmenter holds no per-call state, and add_word
    swaps in a new compiled dictionary rather than changing the old one.
    """

    def __init__(self, model: str | Path | None = None, dicts: Iterable[str | Path] = (), *,
                 standard: str | None = None, threads: int = 0, progress: Callable[[str], None] | None = None,
                 entries: Mapping[str, float | str] | None = None, device: str = "cpu"):
        """model: a model directory (default: the shipped model).
        dicts: dictionary files, paths or open files (text or binary), or one
        alone; entries: more dictionary words as data (word -> multiplier, as
        in a file: a number or "force"; None lists the word), over the files'.
        standard: the segmentation standard to cut by (see `standards`;
        default: the model's first, pku for the shipped model).
        threads: batches scored at once (0: one per available core).
        device: "cpu", or "cuda" for onnxruntime's CUDA provider (a ModelError
        where the installed onnxruntime has none; never a silent fallback).
        progress: told when compiling a large dictionary will take a while.
        Raises ModelError for a missing or damaged model or an unknown
        standard, DictError for a bad dictionary, CacheError for an unsafe
        $SEG_CACHE_DIR."""
        # A Segmenter pickles as what it was built from (see __reduce__), so
        # the shipped model stays "the shipped model" wherever it is unpickled.
        self._model_arg = None if model is None else str(Path(model).resolve())
        self._threads_arg = threads  # 0 (one per core) stays 0 wherever it is unpickled
        loaded = load_model(model)
        self._model = loaded
        self._loaded_pos_head = None  # pos.WordHead, read on first use (_pos_head)
        self._known: tuple[UserDictionary, frozenset[str]] | None = None  # see _search_words
        self.metadata = loaded.metadata
        self.vocab = loaded.vocab
        self.standards = dict(loaded.descriptions)
        self.standard = standard or loaded.default_standard
        standard_id = loaded.standard_id(self.standard)  # raises for an unknown one
        self._transitions = loaded.transitions[self.standard]
        self._scorer = Scorer(loaded.onnx_path, gap=loaded.gap, context=loaded.context, standard_id=standard_id,
                              input_names=loaded.vocab.input_names, window=loaded.window, device=device)
        self.device = device
        self.threads = threads or _available_cores()
        # A path or an open file is one dictionary (a str or a file is
        # iterable too); warnings for skipped lines go to the warnings module.
        # Words are matched on the lookup form of the text, so 微信号 also
        # applies to 微信號 and a traditional entry to simplified text.
        sources = [dicts] if isinstance(dicts, (str, bytes, os.PathLike)) or hasattr(dicts, "read") else list(dicts)
        if sources and not entries:  # files alone: their dictionary may be cached whole
            from . import dictcache

            loaded = dictcache.from_files(sources, self.vocab, progress)
            self.duplicate_words = loaded.duplicates
            emit(loaded.warnings)
            self._dictionary = loaded.dictionary
        else:
            contents = read_dicts(sources, known=model_knows(self.vocab))
            self.duplicate_words = contents.duplicates
            emit(contents.warnings)
            from_files = contents.entries
            from_files.update({word: check_entry(word, k) for word, k in dict(entries or {}).items()})
            self._dictionary = UserDictionary(self._lookup_entries(from_files),
                                              tags=self._lookup_entries(contents.tags), progress=progress)
        self._dictionary_lock = threading.Lock()

    def _lookup_entries(self, entries: Mapping[str, object]) -> dict[str, object]:
        return in_lookup_form(self.vocab, entries)

    def add_word(self, word: str, multiplier: float | str | None = LISTED, tag: str | None = None) -> None:
        """Adds or replaces one dictionary word. Without a multiplier the word
        is listed: it is cut whole wherever it occurs, unless it overlaps
        another listed word (as a bare line of a file). A multiplier k > 1
        encourages it, k < 1 discourages it, 0 forbids it, `"force"` (or
        math.inf) forces it. `tag` is its part-of-speech tag. Raises DictError
        (a ValueError) for an invalid word, multiplier or tag."""
        value = check_entry(word, multiplier)
        if tag is not None:
            _check_tag(word, tag)
        key = self.vocab.lookup_form(word)
        with self._dictionary_lock:
            self._dictionary = self._dictionary.updated({key: value}, {key: tag} if tag else {})

    def remove_word(self, word: str) -> bool:
        """Drops a dictionary word, so the model decides alone where it
        occurs (jieba's del_word). Returns whether the word was there.
        Raises TypeError for a word that is not a str."""
        _check_text("remove_word", word)  # bytes would be "not there", though it may be
        key = self.vocab.lookup_form(word)
        with self._dictionary_lock:
            if key not in self._dictionary:
                return False
            self._dictionary = self._dictionary.removed([key])
            return True

    def __reduce__(self):
        # The model travels as its directory (None: the shipped one, found in
        # the installed package wherever this is unpickled), the dictionary as
        # its entries, never as file paths that may not exist there.
        return _restore, (self._model_arg, self.standard, self._threads_arg, dict(self._dictionary.entries),
                          self.device, dict(self._dictionary.tags))

    def load_dict(self, source) -> None:
        """Adds the words of a dictionary file, a path or an open file (text
        or binary), as jieba's load_userdict takes; later entries replace
        earlier ones. Skipped lines are warned of (DictWarning). Raises
        DictError for a bad file."""
        contents = read_dicts([source], known=model_knows(self.vocab))
        emit(contents.warnings)
        if contents.entries:
            with self._dictionary_lock:
                self._dictionary = self._dictionary.updated(self._lookup_entries(contents.entries),
                                                            self._lookup_entries(contents.tags))

    def replace_entries(self, entries: Mapping[str, float | str], tags: Mapping[str, str] | None = None) -> None:
        """Makes `entries` (word -> multiplier, a number or "force"; None: listed)
        the whole dictionary, `tags` (word -> part-of-speech tag) its words' tags.
        Raises DictError for an invalid entry or tag, TypeError for entries that
        are not a mapping."""
        if not isinstance(entries, Mapping):
            raise TypeError(f"replace_entries() takes a mapping word -> multiplier, not {type(entries).__name__}")
        checked = {word: check_entry(word, k) for word, k in entries.items()}
        for word, tag in (tags or {}).items():
            _check_tag(word, tag)
        dictionary = UserDictionary(self._lookup_entries(checked), tags=self._lookup_entries(tags or {}))
        with self._dictionary_lock:
            self._dictionary = dictionary

    @property
    def entries(self) -> Mapping[str, float]:
        """The dictionary now in force: word (in its lookup form) -> multiplier
        (math.inf: force, 0: forbid)."""
        return self._dictionary.entries

    def cut(self, text: str, mode: str = "default") -> list[str]:
        """The words of `text` (one line or more; a newline always cuts).
        Raises TypeError for a `text` that is not a str."""
        _check_text("cut", text)
        if mode == "default":
            return self._words_batch([text])[0]
        return [text[a:b] for a, b in self._spans_function(mode)([text])[0]]

    def tokenize(self, text: str, mode: str = "default", pos: bool = False) -> Iterator[tuple]:
        """(word, start, end) for each word of `text`, like jieba.tokenize;
        with `pos`, (word, start, end, tag). Raises TypeError at once for a
        `text` that is not a str, and with `pos` NoTaggingHead (a
        ModelError) for a model without a tagging head."""
        _check_text("tokenize", text)
        if pos:
            self._pos_tag_names()
            return self._tagged_tokens(text, mode)
        return self._tokens(text, mode)

    def _tagged_tokens(self, text: str, mode: str) -> Iterator[tuple[str, int, int, str]]:
        spans, tags = self._tagged_spans_function(mode)([text])[0]
        for (a, b), tag in zip(spans, tags):
            yield text[a:b], a, b, tag

    def tag(self, text: str, mode: str = "default") -> list[tuple[str, str]]:
        """[(word, part-of-speech tag), …] of `text`, as pkuseg's cut with
        postag=True: PKU's tags (n, v, nr, m, w…; README "Part-of-speech
        tags"), whichever standard cuts. Raises TypeError for a `text` that
        is not a str, NoTaggingHead (a ModelError) for a model without a
        tagging head."""
        _check_text("tag", text)
        self._pos_tag_names()
        if mode == "default":
            return list(zip(*self._tagged_words_batch([text])[0]))
        spans, tags = self._tagged_spans_function(mode)([text])[0]
        return [(text[a:b], tag) for (a, b), tag in zip(spans, tags)]

    @property
    def pos_tags(self) -> tuple[str, ...] | None:
        """The part-of-speech tags this model gives, None without a tagging head."""
        tags = getattr(self._model, "pos_tags", None)
        return tuple(tags) if tags else None

    def _pos_tag_names(self) -> tuple[str, ...]:
        tags = self.pos_tags
        if tags is None:
            from .pos import no_head

            raise no_head(self._model.directory)
        return tags

    def _tokens(self, text: str, mode: str) -> Iterator[tuple[str, int, int]]:
        for a, b in self._spans_function(mode)([text])[0]:
            yield text[a:b], a, b

    def spans(self, text: str, mode: str = "default") -> Spans:
        """(start, end) character offsets of the words of `text`."""
        _check_text("spans", text)
        return self._spans_function(mode)([text])[0]

    def _spans_function(self, mode: str = "default") -> writer.SpansFunction:
        """The batch function (lines -> spans of each) of a mode."""
        return getattr(self, _mode_functions(mode)[0])

    def _search_spans_batch(self, lines: Sequence[str]) -> list[Spans]:
        """_spans_batch, each long word preceded by its known shorter words:
        for a word of more than two characters its known two-character ones,
        then for one of more than three its known three-character ones, each
        in text order (jieba's cut_for_search). Known: a training word of the
        standard, or a dictionary word with a multiplier above 0. None begins
        or ends inside an atom (cc98.org gives no 98)."""
        return self._with_search_words(lines, self._spans_batch(lines))

    def _with_search_words(self, lines: Sequence[str], spans_of_lines: list[Spans]) -> list[Spans]:
        known = self._search_words()
        result = []
        for line, spans in zip(lines, spans_of_lines):
            folded = self.vocab.lookup_form(line)
            # A shorter word never begins inside an atom (cc98.org's 98) nor
            # ends inside one (its 8.): the atom is whole, or not there at all.
            # Both are a bound strictly between an atom's first and last character.
            inner = {i for s, e in zip(*(bounds.tolist() for bounds in atoms.find(folded))) for i in range(s + 1, e)}
            expanded: Spans = []
            for a, b in spans:
                for n in (2, 3):
                    if b - a > n:
                        expanded += [(i, i + n) for i in range(a, b - n + 1)
                                     if folded[i:i + n] in known and i not in inner and i + n not in inner]
                expanded.append((a, b))
            result.append(expanded)
        return result

    def _search_words(self) -> frozenset[str]:
        """The two- and three-character words search mode knows (lookup form)
        under the dictionary now in force; rebuilt when the dictionary changes."""
        dictionary = self._dictionary
        cached = self._known
        if cached is not None and cached[0] is dictionary:
            return cached[1]
        words = self._model.train_words(self.standard) or set()
        words = {w for w in words if 2 <= len(w) <= 3}
        known = set(self.vocab.lookup_form("\n".join(words)).split("\n")) if words else set()
        for word, k in dictionary.entries.items():
            if 2 <= len(word) <= 3:
                (known.add if k is None or k > 0 else known.discard)(word)
        result = frozenset(known)
        self._known = (dictionary, result)  # a race only computes it twice
        return result

    def cut_lines(self, lines: Iterable[str], batch_chars: int = stream.BATCH_CHARS) -> Iterator[list[str]]:
        """The words of each line, in input order. Raises TypeError at once
        for a str or bytes (one text, not lines) or anything not iterable,
        and on reaching a line that is not a str."""
        return self._lines_through(self._words_batch, "cut_lines", lines, batch_chars)

    def tag_lines(self, lines: Iterable[str], batch_chars: int = stream.BATCH_CHARS
                  ) -> Iterator[list[tuple[str, str]]]:
        """cut_lines with tags: [(word, part-of-speech tag), …] of each line,
        in input order. Raises NoTaggingHead (a ModelError) at once for a
        model without a tagging head, TypeError as cut_lines does."""
        self._pos_tag_names()
        return self._lines_through(self._tagged_pairs_batch, "tag_lines", lines, batch_chars)

    def _tagged_pairs_batch(self, lines: Sequence[str]) -> list[list[tuple[str, str]]]:
        return [list(zip(words, tags)) for words, tags in self._tagged_words_batch(lines)]

    def _lines_through(self, batch_function: Callable[[Sequence[str]], list], call: str, lines: Iterable[str],
                       batch_chars: int) -> Iterator:
        """batch_function's result for each line, in input order; `call` is
        the public method's name, for its TypeErrors."""
        if isinstance(lines, str):
            raise TypeError(f"{call}() takes an iterable of lines (str), not a str: "
                            "wrap it in a list or use str.splitlines()")
        if isinstance(lines, (bytes, bytearray)):
            raise TypeError(f"{call}() takes an iterable of lines (str), not {type(lines).__name__}: "
                            "decode it first, e.g. data.decode('utf-8').splitlines()")
        if isinstance(lines, (list, tuple)):
            return self._cut_lines_in_memory(lines, batch_chars, batch_function, call)
        try:
            lines = iter(lines)
        except TypeError:
            raise TypeError(f"{call}() takes an iterable of lines (str), not {type(lines).__name__}") from None
        # Each line checked as it is read (on the reader thread, with threads):
        # a stream stays a stream, and the lines before a bad one come out.
        return self._cut_lines(map(functools.partial(_checked_line, call), count(), lines), batch_chars,
                               batch_function)

    def _cut_lines_in_memory(self, lines: list[str] | tuple[str, ...], batch_chars: int,
                             batch_function: Callable[[Sequence[str]], list], call: str) -> Iterator:
        # stream.pipe sizes lines held in memory all at once, before the
        # first batch: a line that is not a str stops it there, and only
        # then is it looked for.
        try:
            yield from self._cut_lines(lines, batch_chars, batch_function, chars=_line_chars)
        except _NotALine:
            index = next(i for i, line in enumerate(lines) if not isinstance(line, str))
            raise _not_a_line(call, index, lines[index]) from None

    def _cut_lines(self, lines: Iterable[str], batch_chars: int, batch_function: Callable[[Sequence[str]], list],
                   chars: Callable[[str], int] = len) -> Iterator:
        for batch in stream.pipe(lines, batch_function, threads=self.threads, batch_chars=batch_chars,
                                 chars=chars):
            for _, words in batch:
                yield words

    def _encode(self, lines: Sequence[str]) -> _Batch:
        cps = codepoints("\n".join(lines))
        space, folded, kept, char_ids = self.vocab.classify(cps, _SPACE_TABLE)
        lengths = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
        line_ends = np.cumsum(lengths + 1) - 1
        # Each line is one model sequence, whitespace removed so the model sees
        # the words around a space; the space still cuts (see _spans_batch).
        seq_ends = np.searchsorted(kept, line_ends)
        seq_starts = np.concatenate(([0], seq_ends[:-1]))
        nonempty = seq_ends > seq_starts
        last = np.zeros(len(kept), dtype=bool)
        last[seq_ends[nonempty] - 1] = True
        features = self.vocab.features(char_ids, last)
        return _Batch(cps, space, folded, kept, line_ends - lengths, line_ends, char_ids, features,
                      seq_starts[nonempty], seq_ends[nonempty])

    def _model_feeds(self, lines: Sequence[str]) -> list[dict[str, np.ndarray]]:
        """The onnxruntime feeds that scoring these lines runs (for calibrating
        a quantised model on text as the segmenter presents it)."""
        batch = self._encode(lines)
        return self._scorer.feeds(batch.char_ids, batch.features, batch.seq_starts, batch.seq_ends)

    def _words_batch(self, lines: Sequence[str]) -> list[list[str]]:
        """The words of each line of one batch."""
        if not any(lines):
            return [[] for _ in lines]
        tagged = self._tag(lines)
        return line_words(lines, tagged.tags, tagged.space, tagged.line_starts, tagged.line_ends)

    def _spans_batch(self, lines: Sequence[str]) -> list[Spans]:
        """Word offsets for each line of one batch."""
        if not any(lines):
            return [[] for _ in lines]
        return self._spans(lines, self._tag(lines))

    def _tag(self, lines: Sequence[str]) -> _Tagged:
        """The batch decoded."""
        batch = self._encode(lines)
        cps, space = batch.cps, batch.space
        scores = np.zeros((len(cps), 4), dtype=np.float32)
        kept_scores = self._scorer.score(batch.char_ids, batch.features, batch.seq_starts, batch.seq_ends)
        kept_scores = np.ascontiguousarray(kept_scores, dtype=np.float32)
        # Each row as one 16-byte item: numpy scatters those ~7x faster than rows of four floats.
        scores.view("V16")[:, 0][batch.kept] = kept_scores.view("V16")[:, 0]
        # One dictionary for the whole batch: add_word may swap self._dictionary meanwhile.
        dictionary = self._dictionary
        forced_starts, forced_ends = dictionary.apply_codepoints(batch.folded, scores)
        atom_starts, atom_ends = atoms.without_overlaps(*atoms.find_codepoints(batch.folded), forced_starts,
                                                        forced_ends)
        atoms.constrain(scores, atom_starts, atom_ends)
        # Inside a dictionary word (forced, listed or encouraged) no boundary
        # rule cuts.
        word_starts, word_ends = dictionary.word_spans_codepoints(batch.folded)
        boundaries.apply(scores, batch.folded, cps, self.vocab, self.standard, (atom_starts, atom_ends),
                         (np.concatenate((forced_starts, word_starts)), np.concatenate((forced_ends, word_ends))))

        boundary = np.diff(space.astype(np.int8), prepend=1, append=1)
        seg_starts = np.flatnonzero(boundary == -1)
        seg_ends = np.flatnonzero(boundary == 1)
        tags = decode(scores, seg_starts, seg_ends, self._transitions)
        return _Tagged(cps, space, tags, batch.line_starts, batch.line_ends, batch.folded, dictionary)

    # -- part-of-speech tags (pos.py decides each word's) ------------------------

    def _tagged_spans_function(self, mode: str = "default") -> writer.TaggedSpansFunction:
        """The batch function (lines -> (spans, tags) of each) of a mode."""
        return getattr(self, _mode_functions(mode)[1])

    def _tagged_words_batch(self, lines: Sequence[str]) -> list[tuple[list[str], list[str]]]:
        """(words, their tags) of each line of one batch."""
        if not any(lines):
            return [([], []) for _ in lines]
        tagged = self._tag(lines)
        words = line_words(lines, tagged.tags, tagged.space, tagged.line_starts, tagged.line_ends)
        tags = self._word_tags(tagged, *word_bounds(tagged.tags, inside=~tagged.space))
        return _split_like(words, tags)

    def _tagged_spans_batch(self, lines: Sequence[str]) -> list[tuple[Spans, list[str]]]:
        if not any(lines):
            return [([], []) for _ in lines]
        tagged = self._tag(lines)
        spans = self._spans(lines, tagged)
        return _split_like(spans, self._word_tags(tagged, *word_bounds(tagged.tags, inside=~tagged.space)))

    def _tagged_search_spans_batch(self, lines: Sequence[str]) -> list[tuple[Spans, list[str]]]:
        if not any(lines):
            return [([], []) for _ in lines]
        tagged = self._tag(lines)
        spans = self._with_search_words(lines, self._spans(lines, tagged))
        flat = np.array([span for line_spans in spans for span in line_spans], dtype=np.int64).reshape(-1, 2)
        at = np.repeat(tagged.line_starts, [len(line_spans) for line_spans in spans])
        return _split_like(spans, self._word_tags(tagged, flat[:, 0] + at, flat[:, 1] + at))

    def _tagged_labels_batch(self, lines: Sequence[str]) -> tuple[_Tagged, np.ndarray, list[str]]:
        """(the batch decoded, ids, labels): the tag of its j-th word is
        labels[ids[j]], for the writer to render in one C call."""
        tagged = self._tag(lines)
        ids, labels = self._word_tag_ids(tagged, *word_bounds(tagged.tags, inside=~tagged.space))
        return tagged, ids, labels

    def _word_tags(self, tagged: _Tagged, starts: np.ndarray, ends: np.ndarray) -> list[str]:
        """The tags of the words [starts[k], ends[k]) of a decoded batch."""
        ids, labels = self._word_tag_ids(tagged, starts, ends)
        return np.asarray(labels, dtype=object)[ids].tolist()

    def _word_tag_ids(self, tagged: _Tagged, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """pos.span_tag_ids of the words of a decoded batch, with the tags of
        the dictionary it was cut with (add_word may swap self._dictionary
        between the cut and the tags)."""
        from . import pos

        return pos.span_tag_ids(self._pos_head(), tagged, starts, ends, self._pos_tag_names(),
                                pos.dictionary_tags(tagged.dictionary))

    def _pos_head(self):
        """The model's tagging head (pos.WordHead), read on first use: plain cuts never load it."""
        head = self._loaded_pos_head
        if head is None:
            from .pos import WordHead

            head = self._loaded_pos_head = WordHead(**self._model.pos_head())
        return head

    @staticmethod
    def _spans(lines: Sequence[str], tagged: _Tagged) -> list[Spans]:
        word_starts, word_ends = word_bounds(tagged.tags, inside=~tagged.space)
        line_starts = tagged.line_starts
        bounds = np.searchsorted(word_starts, line_starts).tolist() + [len(word_starts)]
        # Offsets within each word's own line, converted to Python ints in one go.
        base = np.repeat(line_starts, np.diff(bounds))
        spans = list(zip((word_starts - base).tolist(), (word_ends - base).tolist()))
        return [spans[bounds[i] : bounds[i + 1]] for i in range(len(lines))]


class _Batch(NamedTuple):
    """A batch of lines as the model sees them: code points, whitespace, their
    lookup form, the positions kept (not whitespace), where each line starts
    and ends, the kept characters' ids and features, and each non-empty
    line's sequence bounds."""

    cps: np.ndarray
    space: np.ndarray
    folded: np.ndarray
    kept: np.ndarray
    line_starts: np.ndarray
    line_ends: np.ndarray
    char_ids: np.ndarray
    features: list
    seq_starts: np.ndarray
    seq_ends: np.ndarray


class _Tagged(NamedTuple):
    """A batch of lines decoded: code points, whitespace, one tag per code
    point, and where each line starts and ends among them."""

    cps: np.ndarray
    space: np.ndarray
    tags: np.ndarray
    line_starts: np.ndarray
    line_ends: np.ndarray
    folded: np.ndarray | None = None  # the code points' lookup form
    dictionary: UserDictionary | None = None  # the dictionary the batch was cut with (its words' tags too)


def _mode_functions(mode: str) -> tuple[str, str]:
    """The names of `mode`'s batch functions; ValueError for an unknown mode."""
    try:
        return _MODE_FUNCTIONS[mode]
    except (KeyError, TypeError):  # TypeError: an unhashable mode
        raise ValueError(f"unknown mode {mode!r}; modes: {', '.join(MODES)}") from None


def _restore(model: str | None, standard: str, threads: int, entries: dict[str, float],
             device: str = "cpu", tags: dict[str, str] | None = None) -> Segmenter:
    segmenter = Segmenter(model, standard=standard, threads=threads, device=device)
    if entries:  # already in their lookup form
        segmenter._dictionary = UserDictionary(entries, tags=tags or {})
    return segmenter


def _check_tag(word: object, tag: object) -> None:
    if not isinstance(tag, str) or not tag or contains_whitespace(tag):
        raise DictError(f"tag {tag!r} of {word!r}: must be a non-empty string without whitespace")


def renderer(segmenter: Segmenter, output: writer.Format = writer.Format(), mode: str = "default") -> writer.Renderer:
    """The writer.Renderer of a Segmenter's mode: pieces of lines to output
    bodies. The default mode's words are its decoded tags', which plain text
    renders in one C call; search mode's are not (they overlap). With
    output.pos, NoTaggingHead at once for a model without a tagging head."""
    if output.pos:
        segmenter._pos_tag_names()
        return output.tagged_renderer(segmenter._tagged_spans_function(mode),
                                      segmenter._tagged_labels_batch if mode == "default" else None)
    return output.renderer(segmenter._spans_function(mode), segmenter._tag if mode == "default" else None)


@dataclass(frozen=True)
class Recipe:
    """A picklable workers.RendererFactory for worker processes (workers.run_parallel):
    each worker loads the model and dictionaries itself, one scoring thread each."""

    model: str | Path | None
    dicts: tuple[str | Path, ...] = ()
    standard: str | None = None
    mode: str = "default"
    device: str = "cpu"

    def __call__(self, output: writer.Format) -> writer.Renderer:
        import warnings

        from .dictfile import DictWarning

        with warnings.catch_warnings():  # the parent has said them once
            warnings.simplefilter("ignore", DictWarning)
            segmenter = Segmenter(self.model, self.dicts, standard=self.standard, threads=1, device=self.device)
        return renderer(segmenter, output, self.mode)


def _check_text(call: str, text) -> None:
    """Raises TypeError unless `text` is a str: a falsy None, 0 or [] would
    cut to [] (an empty line), and bytes fail deep inside."""
    if isinstance(text, str):
        return
    if isinstance(text, (bytes, bytearray)):
        # Not decoded as jieba does: seg's lines are str everywhere, and
        # guessing an encoding is the caller's call.
        raise TypeError(f"{call}() takes str, not {type(text).__name__}: decode it first, e.g. text.decode('utf-8')")
    raise TypeError(f"{call}() takes str, not {type(text).__name__}")


def _checked_line(call: str, index: int, line):
    """`line`, the item at `index` of the lines given to `call`, if it is a str."""
    if isinstance(line, str):
        return line
    raise _not_a_line(call, index, line)


def _not_a_line(call: str, index: int, line) -> TypeError:
    advice = ": decode it first (or open the file in text mode)" if isinstance(line, (bytes, bytearray)) else ""
    return TypeError(f"{call}() takes lines (str), but item {index} is {type(line).__name__}{advice}")


def _split_like(groups: list[list], flat: list) -> list[tuple[list, list]]:
    """(group, its items of flat) for each group: flat holds one item for each
    member of the groups, in order."""
    result, at = [], 0
    for group in groups:
        result.append((group, flat[at : at + len(group)]))
        at += len(group)
    return result


class _NotALine(TypeError):
    """A line held in memory that is not a str; cut_lines says which."""


def _line_chars(line) -> int:
    if not isinstance(line, str):
        raise _NotALine
    return len(line)


def _available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
