"""User dictionaries: "hard decoding" of the tagger's scores.

The tagger gives every character a log-score for each of the four tags
``s`` = 0 (single-character word), ``b`` = 1 (begin), ``m`` = 2 (middle) and
``e`` = 3 (end).  A user dictionary multiplies, for EACH occurrence of one of
its words in the text, P(b) of the word's first character, P(m) of each
middle character and P(e) of its last character (P(s) for a one-character
word) by the word's multiplier ``k``.  Scores are log-probabilities, so this
adds ``log(k)``; nothing is renormalised.  Overlapping occurrences all apply
and accumulate; the Viterbi decoder then picks the best path.  ``k > 1``
encourages the word, ``k < 1`` discourages it.

Special multipliers
-------------------
``0``
    Forbids the word.  ``log(0)`` would be ``-inf``; instead the finite
    penalty ``-HARD`` (``HARD = 1e4``) is added, so the decoder never does
    ``-inf`` arithmetic.
``force`` (any case; ``math.inf`` in the API)
    Forces the word: every *accepted* forced occurrence is cut exactly so.
    After all multipliers are applied, each character of the occurrence gets
    every tag other than the required one (``b``, ``m``..., ``e``; or ``s``
    for a one-character word) lowered to at most ``required - HARD``.
    Overlapping forced occurrences conflict; they are resolved greedily
    **leftmost first, then longest**: occurrences are taken in order of start
    position (the longer one first at equal starts) and an occurrence that
    overlaps an already accepted one is dropped.  Occurrences of ordinary
    (non-forced) words are never dropped, they only add their multipliers.

File format
-----------
* UTF-8; a leading BOM is accepted, CRLF line ends are accepted.
* The whitespace around each line is stripped.  Blank lines and lines whose
  first non-space character is ``#`` are skipped.
* ``word,multiplier`` -- the line is split on its LAST comma, so a word may
  contain commas when a multiplier is given (``1,000,5`` is the word
  ``1,000`` with multiplier 5).  Whitespace around the word and around the
  multiplier is ignored.  The multiplier is a non-negative finite decimal
  number (``10``, ``0.1``, ``2e3``), ``0`` (forbid) or ``force``.
* ``word`` alone (no comma) gets ``DEFAULT_MULTIPLIER`` (10).
* A word must be non-empty and must not contain whitespace (it could never
  be a single token).
* Malformed lines raise :class:`DictError` whose ``str`` is exactly
  ``FILE:LINE: reason``, e.g. ``add.txt:3: multiplier 'abc' is not a
  number``.  A missing or unreadable file, or a directory, gives
  ``FILE: reason``; invalid UTF-8 gives ``FILE:LINE: invalid UTF-8 ...``.
* Several files may be given: later files override earlier ones; within and
  across files the last line for a word wins.  :func:`load_dicts` returns how
  many such duplicates it saw, so the CLI can warn in one line.

Compiled form and cache
-----------------------
:class:`UserDictionary` compiles its entries into ONE Aho-Corasick automaton
(pyahocorasick) whose value for each word is an index into numpy arrays of
word lengths, log-multipliers and force flags.  A compiled dictionary is
never mutated after construction, so it can be shared between threads.
``updated`` returns a new dictionary that shares the big automaton: changed
values of known words only change the (copied) arrays, and new words go to a
small overlay automaton, recompiled in full past ``OVERLAY_MAX`` new words.
``apply`` walks the text once per automaton and then works on numpy arrays
only (no Python loop per character; a loop over forced matches only).

Building the automaton for a large dictionary takes noticeable time (about
1.3 s for jieba's 349k words), so dictionaries of ``CACHE_MIN_ENTRIES`` words
or more are pickled into a per-user cache directory -- ``$SEG_CACHE_DIR``,
else ``$XDG_CACHE_HOME/seg``, else ``~/.cache/seg`` -- keyed by the sha256
of the entries and the pyahocorasick version, written atomically (temporary
file + ``os.replace``), at most ``CACHE_MAX_FILES`` files kept.  Any cache
failure silently falls back to building.  The cache holds pickles, so it
must be writable by its user only (it is created with mode 0700).
"""

from __future__ import annotations

import codecs
import hashlib
import itertools
import math
import os
import pickle
import re
import tempfile
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import ahocorasick
import numpy as np

from .encode import codepoints

__all__ = [
    "DEFAULT_MULTIPLIER",
    "HARD",
    "DictError",
    "UserDictionary",
    "check_entry",
    "load_dicts",
    "parse_dict",
]

#: Finite stand-in for ``-log(0)``: forbidding adds ``-HARD``; forcing puts
#: every other tag at least ``HARD`` below the required one.
HARD = 1e4

#: Multiplier of a line that holds only a word.
DEFAULT_MULTIPLIER = 10.0

#: Dictionaries with at least this many entries use the on-disk cache.
CACHE_MIN_ENTRIES = 20_000

#: At most this many compiled dictionaries are kept in the cache.
CACHE_MAX_FILES = 8

#: ``updated`` recompiles everything once this many new words are pending.
OVERLAY_MAX = 2_000

_CACHE_FORMAT = b"seg-userdict-v2"  # v2: one-character words are not in the automaton

S, B, M, E = 0, 1, 2, 3

_WHITESPACE = re.compile(r"\s")


class DictError(ValueError):
    """A user dictionary file or entry is malformed or unreadable."""


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------


def _parse_multiplier(raw: str) -> float | str:
    """Return the multiplier, or an error reason (a str) if invalid."""
    if raw.lower() == "force":
        return math.inf
    try:
        k = float(raw)
    except ValueError:
        return f"multiplier {raw!r} is not a number"
    if math.isnan(k):
        return f"multiplier {raw!r} is not a number"
    if k < 0:
        return f"multiplier {raw!r} is negative"
    if math.isinf(k):
        return f"multiplier {raw!r} is infinite (write 'force' to force a word)"
    return k


def _read_text(path) -> str:
    name = os.fspath(path)
    try:
        if os.path.isdir(name):
            raise DictError(f"{name}: is a directory")
        with open(name, "rb") as f:
            data = f.read()
    except DictError:
        raise
    except OSError as exc:
        raise DictError(f"{name}: cannot read: {exc.strerror or exc}") from None
    except (TypeError, ValueError) as exc:  # e.g. an embedded NUL in the name
        raise DictError(f"{name}: cannot read: {exc}") from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DictError(
            f"{name}:{line}: invalid UTF-8 (byte 0x{data[exc.start]:02x} at column {col})"
        ) from None


def _parse_lines(text: str, name: str) -> list[tuple[str, float]]:
    """Line-by-line parser: the reference, and the one that reports errors."""
    out: list[tuple[str, float]] = []
    append = out.append
    ws = _WHITESPACE.search
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.strip()
        if not line or line[0] == "#":
            continue
        word, comma, raw = line.rpartition(",")
        if comma:
            word = word.strip()
            raw = raw.strip()
            if not raw:
                raise DictError(f"{name}:{lineno}: missing multiplier after ','")
            k = _parse_multiplier(raw)
            if isinstance(k, str):
                raise DictError(f"{name}:{lineno}: {k}")
        else:
            word = raw  # rpartition puts the whole line last when no comma
            k = DEFAULT_MULTIPLIER
        if not word:
            raise DictError(f"{name}:{lineno}: empty word")
        if ws(word):
            raise DictError(f"{name}:{lineno}: word {word!r} contains whitespace")
        append((word, k))
    return out


def _parse_fast(text: str) -> list[tuple[str, float]] | None:
    """Bulk parser for valid files; ``None`` if anything looks wrong."""
    stripped = [line.strip() for line in text.split("\n")]
    parts = [line.rpartition(",") for line in stripped if line and line[0] != "#"]
    words = [w.strip() if c else r for w, c, r in parts]
    raws = [r.strip() if c else None for w, c, r in parts]
    table: dict[str | None, float] = {}
    for raw in set(raws):
        k = DEFAULT_MULTIPLIER if raw is None else _parse_multiplier(raw)
        if isinstance(k, str):  # an error (also for an empty multiplier)
            return None
        table[raw] = k
    if words and (min(map(len, words)) == 0 or _WHITESPACE.search("".join(words))):
        return None
    return list(zip(words, map(table.__getitem__, raws)))


def parse_dict(path) -> list[tuple[str, float]]:
    """Parse one dictionary file into ``[(word, multiplier), ...]`` in file order.

    ``math.inf`` stands for ``force``.  Raises :class:`DictError`.
    """
    name = os.fspath(path)
    text = _read_text(name)
    fast = _parse_fast(text)
    if fast is not None:
        return fast
    return _parse_lines(text, name)  # raises with the line number


def load_dicts(paths: Iterable) -> tuple[dict[str, float], int]:
    """Load and merge dictionary files, later lines overriding earlier ones.

    Returns ``(entries, duplicates)``: ``entries`` maps word -> multiplier
    (``math.inf`` = force), ``duplicates`` counts lines whose word had
    already been seen (in the same file or an earlier one).
    """
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    merged: dict[str, float] = {}
    total = 0
    for path in paths:
        items = parse_dict(path)
        total += len(items)
        merged.update(items)
    return merged, total - len(merged)


# --------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------


def cache_dir() -> str:
    """The per-user cache directory for compiled dictionaries."""
    d = os.environ.get("SEG_CACHE_DIR")
    if d:
        return d
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return os.path.join(xdg, "seg")
    return os.path.join(os.path.expanduser("~"), ".cache", "seg")


def _ahocorasick_version() -> str:
    # A pickle from another pyahocorasick version must never be loaded.
    from importlib import metadata

    try:
        return metadata.version("pyahocorasick")
    except Exception:
        return "unknown:" + getattr(ahocorasick, "__file__", "")


def _entries_key(words: list[str]) -> str:
    # The automaton maps words to their positions; the multipliers live in
    # arrays beside it, so changing one does not make the cache miss.
    h = hashlib.sha256(_CACHE_FORMAT)
    h.update(_ahocorasick_version().encode() + b"\0")
    h.update(str(len(words)).encode() + b"\0")
    h.update("\0".join(words).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _cache_load(path: str, n_active: int):
    try:
        with open(path, "rb") as f:
            tag, automaton = pickle.load(f)
        if tag != _CACHE_FORMAT or not isinstance(automaton, ahocorasick.Automaton):
            return None
        if len(automaton) != n_active:
            return None
        try:
            os.utime(path)  # recently used: pruned last
        except OSError:
            pass
        return automaton
    except Exception:
        return None


def _cache_prune(d: str, keep: str) -> None:
    """Delete the least recently written cache files beyond CACHE_MAX_FILES."""
    files = []
    for entry in os.scandir(d):
        if entry.name.endswith(".pkl") and not entry.name.startswith("."):
            try:
                files.append((entry.stat().st_mtime, entry.path))
            except OSError:
                pass
    files.sort(reverse=True)
    for _, path in files[CACHE_MAX_FILES:]:
        if os.path.abspath(path) != os.path.abspath(keep):
            try:
                os.unlink(path)
            except OSError:
                pass


def _cache_store(path: str, automaton) -> None:
    tmp = None
    try:
        d = os.path.dirname(path)
        os.makedirs(d, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".pkl", dir=d)
        with os.fdopen(fd, "wb") as f:
            pickle.dump((_CACHE_FORMAT, automaton), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        tmp = None
        _cache_prune(d, keep=path)
    except Exception:
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


# --------------------------------------------------------------------------
# Compiled dictionary
# --------------------------------------------------------------------------


def _log_multipliers(mults: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(log k with 0 -> -HARD and force -> 0, force flags)."""
    force = np.isinf(mults)
    with np.errstate(divide="ignore"):
        logk = np.log(mults)
    logk[force] = 0.0
    logk[mults == 0] = -HARD
    return logk, force


def check_entry(word, k) -> float:
    """The multiplier of a valid (word, multiplier) pair, as stored: math.inf
    for 'force' (a string, any case); raises DictError otherwise."""
    if not isinstance(word, str) or not word:
        raise DictError(f"invalid dictionary word {word!r}: must be a non-empty string")
    if _WHITESPACE.search(word):
        raise DictError(f"dictionary word {word!r} contains whitespace")
    if isinstance(k, str):
        parsed = _parse_multiplier(k.strip())  # as in a file: 'force', never 'inf'
        if isinstance(parsed, str):
            raise DictError(parsed)
        return parsed
    try:
        k = float(k)
    except (TypeError, ValueError):
        raise DictError(f"multiplier {k!r} for {word!r} is not a number") from None
    if math.isnan(k) or k < 0:
        raise DictError(f"multiplier {k!r} for {word!r} must be >= 0 or math.inf")
    return k


def _validate(entries: Mapping[str, float]) -> tuple[list[str], np.ndarray]:
    """Words and float64 multipliers of ``entries``; raises DictError."""
    words = list(entries)
    values = list(entries.values())
    n = len(words)
    try:
        mults = np.fromiter(values, dtype=np.float64, count=n)
        ok = (
            n == 0
            or (set(map(type, words)) == {str}
                and min(map(len, words)) > 0
                and not _WHITESPACE.search("".join(words))
                and not np.isnan(mults).any()
                and not (mults < 0).any())
        )
    except (TypeError, ValueError):
        ok = False
    if not ok:  # find the culprit for a precise message
        for w, k in zip(words, values):
            check_entry(w, k)
        raise DictError("invalid dictionary entries")  # pragma: no cover
    return words, mults


def _single_table(chars: list[str], ids) -> tuple[np.ndarray, np.ndarray]:
    """One-character words as (sorted code points, their word ids)."""
    points = np.fromiter(map(ord, chars), dtype=np.int64, count=len(chars))
    order = np.argsort(points, kind="stable")
    return points[order], np.asarray(ids, dtype=np.int64)[order]


class UserDictionary:
    """An immutable, compiled user dictionary.

    ``UserDictionary(entries)`` takes a mapping word -> multiplier (``0``
    forbids, ``math.inf`` forces) and compiles one Aho-Corasick automaton.
    ``use_cache`` (default on) lets large dictionaries use the on-disk cache.
    """

    # Word ids index _len/_logk/_force.  _layers holds the automata mapping
    # words of two or more characters to ids: the base one and, after
    # ``updated`` added new words, a small overlay with just those (the
    # (word, id) pairs in _overlay) so that adding a word to a large dictionary
    # does not rebuild it.  One-character words are found through _singles
    # (sorted code points, their ids) with one vectorised lookup: in a large
    # dictionary they make two thirds of all matches, and pyahocorasick yields
    # each match as a Python object.
    __slots__ = ("_entries", "_layers", "_overlay", "_singles", "_len", "_logk", "_force", "_any_force")

    def __init__(self, entries: Mapping[str, float] = MappingProxyType({}), *,
                 use_cache: bool = True) -> None:
        words, mults = _validate(entries)
        self._entries = MappingProxyType(dict(zip(words, mults.tolist())))
        logk, force = _log_multipliers(mults)
        # Words whose multiplier is exactly 1 have no effect: leave them out.
        active = np.flatnonzero(force | (logk != 0.0))
        active_words = [words[i] for i in active]
        self._len = np.fromiter(map(len, active_words), dtype=np.int64, count=len(active))
        self._logk = logk[active]
        self._force = force[active]
        self._any_force = bool(self._force.any())
        self._overlay: tuple[tuple[str, int], ...] = ()
        single = self._len == 1
        self._singles = _single_table([active_words[i] for i in np.flatnonzero(single)], np.flatnonzero(single))
        self._layers: tuple = ()
        if not single.all():
            self._layers = (self._compile(active_words, np.flatnonzero(~single), use_cache),)

    @staticmethod
    def _compile(words: list[str], ids: np.ndarray, use_cache: bool):
        """An automaton of words[i] -> i for i in ids (the cache key covers all words)."""
        path = None
        if use_cache and len(words) >= CACHE_MIN_ENTRIES:
            try:
                path = os.path.join(cache_dir(), _entries_key(words) + ".pkl")
            except Exception:
                path = None
            if path is not None:
                automaton = _cache_load(path, len(ids))
                if automaton is not None:
                    return automaton
        automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        add = automaton.add_word
        for i in ids.tolist():
            add(words[i], i)
        automaton.make_automaton()
        if path is not None:
            _cache_store(path, automaton)
        return automaton

    # -- mapping-ish API ---------------------------------------------------

    @property
    def entries(self) -> Mapping[str, float]:
        """Read-only view of word -> multiplier (``math.inf`` = force)."""
        return self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, word: object) -> bool:
        return word in self._entries

    def __repr__(self) -> str:
        return f"UserDictionary({len(self)} words)"

    def updated(self, extra: Mapping[str, float]) -> "UserDictionary":
        """A new dictionary with ``extra`` merged in (``extra`` wins).

        ``self`` is left untouched.  Words already compiled only get new
        values; new words go to a small overlay automaton, and the whole is
        recompiled once the overlay grows past ``OVERLAY_MAX`` words.
        """
        if not extra:
            return self
        words, mults = _validate(extra)
        merged = self._entries.copy()  # dict.copy: fast, unlike dict(proxy)
        merged.update(zip(words, mults.tolist()))
        logk, force = _log_multipliers(mults)
        new_logk, new_force = self._logk.copy(), self._force.copy()
        added: list[str] = []
        added_logk: list[float] = []
        added_force: list[bool] = []
        for w, lk, fc in zip(words, logk.tolist(), force.tolist()):
            i = self._lookup(w)
            if i is not None:
                new_logk[i], new_force[i] = lk, fc
            elif fc or lk != 0.0:
                added.append(w)
                added_logk.append(lk)
                added_force.append(fc)
        if len(self._overlay) + len(added) > OVERLAY_MAX:
            return UserDictionary(merged)
        new = object.__new__(UserDictionary)
        new._entries = MappingProxyType(merged)
        new._len, new._logk, new._force = self._len, new_logk, new_force
        new._layers, new._overlay, new._singles = self._layers, self._overlay, self._singles
        if added:
            first = len(self._len)
            new._len = np.concatenate([self._len, np.fromiter(map(len, added), np.int64, len(added))])
            new._logk = np.concatenate([new_logk, np.array(added_logk, np.float64)])
            new._force = np.concatenate([new_force, np.array(added_force, bool)])
            pairs = list(zip(added, range(first, first + len(added))))
            singles = [(w, i) for w, i in pairs if len(w) == 1]
            if singles:
                chars, ids = self._singles
                new._singles = _single_table(
                    [chr(c) for c in chars.tolist()] + [w for w, _ in singles],
                    np.concatenate([ids, [i for _, i in singles]]).astype(np.int64),
                )
            multi = tuple((w, i) for w, i in pairs if len(w) > 1)
            if multi:
                new._overlay = self._overlay + multi
                overlay = ahocorasick.Automaton(ahocorasick.STORE_INTS)
                for w, i in new._overlay:
                    overlay.add_word(w, i)
                overlay.make_automaton()
                base = self._layers[:-1] if self._overlay else self._layers
                new._layers = base + (overlay,)
        new._any_force = bool(new._force.any())
        return new

    def _lookup(self, word: str) -> int | None:
        if len(word) == 1:
            chars, ids = self._singles
            at = int(np.searchsorted(chars, ord(word)))
            return int(ids[at]) if at < len(chars) and chars[at] == ord(word) else None
        for automaton in self._layers:
            i = automaton.get(word, None)
            if i is not None:
                return i
        return None

    # -- applying ----------------------------------------------------------

    def apply(self, text: str, scores: np.ndarray) -> None:
        """Add the dictionary's log-multipliers to ``scores`` in place.

        ``scores`` is a ``(len(text), 4)`` float array of per-character tag
        log-scores (s, b, m, e).  ``text`` may be several lines joined with
        ``"\\n"``; since words contain no whitespace, matches never cross
        lines.
        """
        layers = self._layers
        chars, char_ids = self._singles
        if not (layers or len(chars)) or not text:
            return
        n = len(text)
        if scores.ndim != 2 or scores.shape[0] != n or scores.shape[1] != 4:
            raise ValueError(f"scores must have shape ({n}, 4), got {scores.shape}")
        flat = np.fromiter(
            itertools.chain.from_iterable(
                itertools.chain.from_iterable(a.iter(text) for a in layers)),
            dtype=np.int64)
        ends = flat[0::2]
        ids = flat[1::2]
        if len(chars):
            cps = codepoints(text)
            at = np.searchsorted(chars, cps)
            hit = np.flatnonzero(chars[np.minimum(at, len(chars) - 1)] == cps)
            ends = np.concatenate([ends, hit])
            ids = np.concatenate([ids, char_ids[at[hit]]])
        if not ends.size:
            return
        lengths = self._len[ids]
        starts = ends - lengths + 1
        logk = self._logk[ids]

        nz = logk != 0.0
        if nz.any():
            if not nz.all():
                ends_, starts_, lengths_, logk_ = ends[nz], starts[nz], lengths[nz], logk[nz]
            else:
                ends_, starts_, lengths_, logk_ = ends, starts, lengths, logk
            single = lengths_ == 1
            if single.any():
                scores[:, S] += np.bincount(ends_[single], logk_[single], minlength=n)
            multi = ~single
            if multi.any():
                st, en, lk = starts_[multi], ends_[multi], logk_[multi]
                scores[:, B] += np.bincount(st, lk, minlength=n)
                scores[:, E] += np.bincount(en, lk, minlength=n)
                # Middle characters st+1 .. en-1: a difference array; for
                # two-character words the +lk and -lk cancel at en.
                diff = np.bincount(st + 1, lk, minlength=n + 1)
                diff -= np.bincount(en, lk, minlength=n + 1)
                scores[:, M] += np.cumsum(diff[:n])

        if self._any_force:
            forced = self._force[ids]
            if forced.any():
                self._apply_forced(scores, starts[forced], lengths[forced])

    @staticmethod
    def _apply_forced(scores: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> None:
        # Leftmost first, then longest; drop whatever overlaps an accepted one.
        order = np.lexsort((-lengths, starts))
        acc_start: list[int] = []
        acc_len: list[int] = []
        free_from = -1
        for st, ln in zip(starts[order].tolist(), lengths[order].tolist()):
            if st >= free_from:
                acc_start.append(st)
                acc_len.append(ln)
                free_from = st + ln
        st = np.asarray(acc_start, dtype=np.int64)
        ln = np.asarray(acc_len, dtype=np.int64)
        total = int(ln.sum())
        # Positions covered by accepted occurrences (disjoint, so unique).
        offs = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(ln) - ln, ln)
        pos = np.repeat(st, ln) + offs
        wlen = np.repeat(ln, ln)
        req = np.full(total, M, dtype=np.int64)
        req[offs == 0] = B
        req[offs == wlen - 1] = E
        req[wlen == 1] = S
        rows = scores[pos]
        cap = rows[np.arange(total), req] - HARD
        required = rows[np.arange(total), req].copy()
        np.minimum(rows, cap[:, None], out=rows)
        rows[np.arange(total), req] = required
        scores[pos] = rows
