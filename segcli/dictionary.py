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
``None`` (``dictfile.LISTED``: a bare line, ``add_word(word)``)
    Lists the word: it sticks.  Each occurrence that overlaps no other listed
    one is cut whole; where listed words overlap, the model chooses among
    the ways of cutting them into listed words and words the dictionary does
    not discourage.  Atoms, forced and forbidden words win over a listed
    word.  See :mod:`segcli.dictrules`, which applies forced and listed words.

A jieba frequency line (``云计算 5``) is left to the model where it knows the
word (:func:`~segcli.dictrules.model_knows`; its entry is then 1: no effect,
but a piece among listed words), and listed otherwise.  Tags
(``tag_of``) are kept for the words a line gives one.

Files
-----
The file format, and the one rule for multipliers that files and the API
share, are :mod:`segcli.dictfile`'s.

Compiled form and cache
-----------------------
:class:`UserDictionary` compiles its entries into ONE Aho-Corasick automaton
(pyahocorasick) whose value for each word is an index into numpy arrays of
word lengths, log-multipliers and force flags.  A compiled dictionary is
never mutated after construction (its arrays are read-only), so it can be
shared between threads.  ``updated`` and ``removed`` return new dictionaries
that share the big automaton: changed values of known words only change the
(copied) arrays, a removed word keeps its place with no effect, and new words
go to a small overlay automaton, recompiled in full past ``OVERLAY_MAX`` new
words.  ``apply`` walks the text once per automaton and then works on numpy
arrays only (no Python loop per character; a loop over forced matches only).

Building the automaton of a large dictionary takes noticeable time, so from
``NUMPY_MIN_WORDS`` words on it is built with numpy (:mod:`segcli.trie`: a
stop signal is acted on within a fraction of a second, where
pyahocorasick's own build held it for tens of seconds), and automata of
dictionaries of ``CACHE_MIN_ENTRIES`` words or more are kept in a per-user
on-disk cache,
:mod:`segcli.dictcache`: a format that cannot run code (no pickle), read only
from files and a directory that only the user can write.  ``progress``, when
given, hears about a cold compile of ``PROGRESS_MIN_WORDS`` words or more
before it starts.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import NamedTuple

import ahocorasick
import numpy as np

from . import trie
from .decode import B, E, HARD, M, S
# The parsing half of the stage: its public calls are named here too.
from .dictfile import (DEFAULT_MULTIPLIER, LISTED, MAX_WORD_LENGTH, check_entry, contains_whitespace, load_dicts,
                       parse_dict)
from .dictrules import apply_forced, apply_listed, model_knows
from .encode import codepoints, from_codepoints
from .errors import DictError

__all__ = [
    "DEFAULT_MULTIPLIER",
    "DictError",
    "UserDictionary",
    "check_entry",
    "load_dicts",
    "model_knows",
    "parse_dict",
]

#: The log-multiplier of a removed word, which keeps its id: no effect on
#: the scores (it is below float32's resolution), and being below 0 it is no
#: piece of a cluster of listed words either (see _apply_listed).
_REMOVED = -np.finfo(np.float64).tiny

#: Dictionaries with at least this many entries use the on-disk cache.
CACHE_MIN_ENTRIES = 20_000

#: A cold compile of at least this many words is announced to ``progress``.
PROGRESS_MIN_WORDS = 200_000

#: ``updated`` recompiles everything once this many new words are pending.
OVERLAY_MAX = 2_000

#: From this many words on, automata are built with numpy (segcli.trie);
#: below, pyahocorasick's own build is quicker, and over in milliseconds.
NUMPY_MIN_WORDS = 5_000

#: Below this many words pyahocorasick's build adds them in plain order (see
#: ``_insertion_order``); from it on, only where segcli.trie cannot build
#: (``trie.LAYOUT_OK`` false) does pyahocorasick build such a dictionary.
_ORDER_MIN_WORDS = NUMPY_MIN_WORDS


# --------------------------------------------------------------------------
# Compiled dictionary
# --------------------------------------------------------------------------


def _log_multipliers(mults: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log k with 0 -> -HARD and force or listed -> 0, force flags, listed
    flags): a listed word is NaN in ``mults`` (see _validate)."""
    force = np.isinf(mults)
    listed = np.isnan(mults)
    with np.errstate(divide="ignore", invalid="ignore"):
        logk = np.log(mults)
    logk[force | listed] = 0.0
    logk[mults == 0] = -HARD
    return logk, force, listed


def _validate(entries: Mapping[str, float | None]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Words, float64 multipliers and int64 lengths of ``entries``; raises
    DictError.  Multipliers may also be given as in a file (``"force"``);
    a listed word (None, ``LISTED``) is NaN among the multipliers."""
    words = list(entries)
    values = list(entries.values())
    n = len(words)
    # Plain floats and ints (and None) only: any other value (a string, a
    # bool, a Decimal) goes through check_entry's rule, which numpy would not apply.
    listed = values.count(LISTED)
    ok = set(map(type, values)) <= {float, int, type(None)}
    if ok:
        try:
            mults = np.array(values, dtype=np.float64) if listed else np.fromiter(values, dtype=np.float64, count=n)
            lengths = np.fromiter(map(len, words), dtype=np.int64, count=n)
            ok = (
                n == 0
                or (set(map(type, words)) == {str}
                    and lengths.min() > 0
                    and lengths.max() <= MAX_WORD_LENGTH
                    and not contains_whitespace("".join(words))
                    and int(np.isnan(mults).sum()) == listed  # NaN only where a word is listed
                    and not (mults < 0).any())
            )
        except (TypeError, ValueError, OverflowError):  # OverflowError: an int beyond any float
            ok = False
    if not ok:  # one entry at a time: the first bad one raises, precisely
        mults = np.array([check_entry(w, k) for w, k in zip(words, values)], dtype=np.float64)  # None -> NaN
        lengths = np.array([len(w) for w in words], dtype=np.int64)
    return words, mults, lengths


def _single_table(chars: list[str], ids) -> tuple[np.ndarray, np.ndarray]:
    """One-character words as (sorted code points, their word ids)."""
    points = np.fromiter(map(ord, chars), dtype=np.int64, count=len(chars))
    order = np.argsort(points, kind="stable")
    return points[order], np.asarray(ids, dtype=np.int64)[order]


def _insertion_order(words: list[str], ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``ids`` in the order to add their words to the automaton.

    pyahocorasick keeps a node's children in insertion order and scans them
    one by one, and the root has a child for every distinct first character
    (thousands in Chinese): adding words, making the automaton (every node's
    fail link ends with a look-up in the root) and walking a text all scan
    it.  So one word for each first character is added first, the characters
    most frequent in the dictionary (a proxy for the text) first; the rest
    follow in their own order.  About 2.5 times faster for jieba's
    dictionary; no change for one whose characters are equally frequent."""
    if len(ids) < _ORDER_MIN_WORDS:
        return ids
    points = codepoints("".join(words))
    first = points[(np.cumsum(lengths) - lengths)[ids]]
    frequency = np.bincount(points)
    del points
    chars, where = np.unique(first, return_index=True)
    leaders = where[np.argsort(-frequency[chars], kind="stable")]
    rest = np.ones(len(ids), dtype=bool)
    rest[leaders] = False
    return np.concatenate([ids[leaders], ids[rest]])


def _build_automaton(words: list[str], ids: np.ndarray,
                     lengths: np.ndarray) -> tuple[ahocorasick.Automaton, trie.Nodes | None]:
    """An Aho-Corasick automaton of words[i] -> i for i in ids, and its nodes
    as arrays when it was built from them (what the cache stores)."""
    if trie.LAYOUT_OK and len(ids) >= NUMPY_MIN_WORDS:
        nodes = trie.build(words, ids, lengths)
        return trie.automaton(nodes), nodes
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    order = _insertion_order(words, ids, lengths).tolist()
    # One add_word call per word, driven from C (no bytecode per word).
    collections.deque(map(automaton.add_word, map(words.__getitem__, order), order), maxlen=0)
    del order
    automaton.make_automaton()
    return automaton, None


class _Compiled(NamedTuple):
    """Everything a UserDictionary holds (see its slots)."""

    entries: Mapping[str, float | None]
    lengths: np.ndarray
    logk: np.ndarray
    force: np.ndarray
    listed: np.ndarray
    tags: Mapping[str, str]
    layers: tuple
    overlay: tuple[tuple[str, int], ...]
    singles: tuple[np.ndarray, np.ndarray]


def _stored(words: list[str], mults: np.ndarray) -> dict[str, float | None]:
    """word -> multiplier as ``entries`` shows it: a listed word's is None."""
    values = mults.tolist()
    if np.isnan(mults).any():
        values = [None if k != k else k for k in values]
    return dict(zip(words, values))


def _compile(entries: Mapping[str, float | None], tags: Mapping[str, str], use_cache: bool,
             progress: Callable[[str], None] | None) -> _Compiled:
    words, mults, lengths = _validate(entries)
    if set(map(type, entries.values())) <= {float, type(None)}:
        stored = dict(entries)  # shares the keys and values: no new objects
    else:
        stored = _stored(words, mults)
    logk, force, listed = _log_multipliers(mults)
    del mults
    single = lengths == 1
    single_ids = np.flatnonzero(single)
    singles = _single_table([words[i] for i in single_ids.tolist()], single_ids)
    layers: tuple = ()
    if not single.all():
        layers = (_base_automaton(words, np.flatnonzero(~single), lengths, use_cache, progress, len(stored)),)
    return _Compiled(MappingProxyType(stored), lengths, logk, force, listed, _checked_tags(tags, stored), layers,
                     (), singles)


def _checked_tags(tags: Mapping[str, str], entries: Mapping[str, float | None]) -> Mapping[str, str]:
    """The tags of words that are entries, as a read-only mapping."""
    if not tags:
        return _NO_TAGS
    for word, tag in tags.items():
        if not isinstance(tag, str) or not tag:
            raise DictError(f"tag {tag!r} of {word!r}: must be a non-empty string")
    return MappingProxyType({w: t for w, t in tags.items() if w in entries})


def _base_automaton(words: list[str], ids: np.ndarray, lengths: np.ndarray, use_cache: bool,
                    progress: Callable[[str], None] | None, size: int) -> ahocorasick.Automaton:
    """The automaton of words[i] -> i for i in ids, from the cache if there
    (the key covers all ``words``, which fixes ``ids``)."""
    key = None
    if use_cache and len(words) >= CACHE_MIN_ENTRIES:
        from . import dictcache  # large dictionaries only: kept out of a plain start

        key = dictcache.cache_key(words)
        automaton = dictcache.load(key, len(ids), ids, lengths)
        if automaton is not None:
            return automaton
    if progress is not None and len(ids) >= PROGRESS_MIN_WORDS:
        later = " (cached for next time)" if key is not None else ""
        progress(f"compiling a dictionary of {size:,} words{later}…")
    automaton, nodes = _build_automaton(words, ids, lengths)
    if key is not None:
        dictcache.store(key, automaton, nodes)
    return automaton


def _overlay_automaton(pairs: Iterable[tuple[str, int]]) -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    for w, i in pairs:
        automaton.add_word(w, i)
    automaton.make_automaton()
    return automaton


_NO_ENTRIES: Mapping[str, float] = MappingProxyType({})
_NO_TAGS: Mapping[str, str] = MappingProxyType({})
_LAST_MATCHES = threading.local()
_NO_SPANS = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
for _array in _NO_SPANS:
    _array.flags.writeable = False
del _array


class UserDictionary:
    """An immutable, compiled user dictionary.

    ``UserDictionary(entries)`` takes a mapping word -> multiplier (``0``
    forbids, ``math.inf`` forces, ``None`` lists the word: it sticks) and
    compiles one Aho-Corasick automaton; ``tags`` maps words to their
    part-of-speech tags (``tag_of``).
    ``use_cache`` (default on) lets large dictionaries use the on-disk cache
    (:mod:`segcli.dictcache`); an unsafe ``$SEG_CACHE_DIR`` raises
    :class:`~segcli.errors.CacheError`.  ``progress``, if given, is called
    once with a short message before a cold compile of ``PROGRESS_MIN_WORDS``
    words or more (seconds, for a large dictionary).
    """

    # Word ids index _len/_logk/_force/_listed.  _layers holds the automata mapping
    # words of two or more characters to ids: the base one and, after
    # ``updated`` added new words, a small overlay with just those (the
    # (word, id) pairs in _overlay) so that adding a word to a large dictionary
    # does not rebuild it.  One-character words are found through _singles
    # (sorted code points, their ids) with one vectorised lookup: in a large
    # dictionary they make two thirds of all matches, and pyahocorasick yields
    # each match as a Python object.  A removed word keeps its id with
    # log-multiplier 0 and no force, which has no effect.
    __slots__ = ("_entries", "_tags", "_layers", "_overlay", "_singles", "_len", "_logk", "_force", "_listed",
                 "_any_force", "_any_listed")

    def __init__(self, entries: Mapping[str, float | None] = _NO_ENTRIES, *, tags: Mapping[str, str] = _NO_TAGS,
                 use_cache: bool = True, progress: Callable[[str], None] | None = None,
                 _compiled: _Compiled | None = None) -> None:
        if _compiled is None:
            _compiled = _compile(entries, tags, use_cache, progress)
        elif entries or tags:
            raise TypeError("UserDictionary: entries and _compiled are exclusive")
        for array in (_compiled.lengths, _compiled.logk, _compiled.force, _compiled.listed, *_compiled.singles):
            array.flags.writeable = False  # shared with the dictionaries derived from this one
        self._entries = _compiled.entries
        self._tags = _compiled.tags
        self._len = _compiled.lengths
        self._logk = _compiled.logk
        self._force = _compiled.force
        self._listed = _compiled.listed
        self._layers = _compiled.layers
        self._overlay = _compiled.overlay
        self._singles = _compiled.singles
        self._any_force = bool(self._force.any())
        self._any_listed = bool(self._listed.any())

    # -- mapping-ish API ---------------------------------------------------

    @property
    def entries(self) -> Mapping[str, float | None]:
        """Read-only view of word -> multiplier (``math.inf`` = force,
        ``None`` = listed)."""
        return self._entries

    @property
    def tags(self) -> Mapping[str, str]:
        """Read-only view of word -> tag, for the words a tag was given."""
        return self._tags

    def tag_of(self, word: str) -> str | None:
        """The tag the dictionary gives ``word`` (in its lookup form), if any."""
        return self._tags.get(word)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, word: object) -> bool:
        return word in self._entries

    def __repr__(self) -> str:
        return f"UserDictionary({len(self)} words)"

    def updated(self, extra: Mapping[str, float | None], tags: Mapping[str, str] = _NO_TAGS) -> UserDictionary:
        """A new dictionary with ``extra`` merged in (``extra`` wins; a word
        of ``extra`` keeps its old tag only where ``tags`` gives none).

        ``self`` is left untouched.  Words already compiled only get new
        values; new words go to a small overlay automaton, and the whole is
        recompiled once the overlay grows past ``OVERLAY_MAX`` words.
        """
        if not extra:
            return self
        words, mults, _ = _validate(extra)
        merged = self._entries.copy()  # dict.copy: fast, unlike dict(proxy)
        merged.update(_stored(words, mults))
        merged_tags = self._tags.copy()
        merged_tags.update(tags)
        logk, force, listed = _log_multipliers(mults)
        new_logk, new_force, new_listed = self._logk.copy(), self._force.copy(), self._listed.copy()
        added: list[str] = []
        added_values: list[tuple[float, bool, bool]] = []
        for w, lk, fc, ls in zip(words, logk.tolist(), force.tolist(), listed.tolist()):
            i = self._lookup(w)
            if i is not None:
                new_logk[i], new_force[i], new_listed[i] = lk, fc, ls
            else:
                added.append(w)
                added_values.append((lk, fc, ls))
        if len(self._overlay) + len(added) > OVERLAY_MAX:
            return UserDictionary(merged, tags=merged_tags)
        lengths, layers, overlay, singles = self._len, self._layers, self._overlay, self._singles
        if added:
            first = len(lengths)
            lengths = np.concatenate([lengths, np.fromiter(map(len, added), np.int64, len(added))])
            added_logk, added_force, added_listed = zip(*added_values)
            new_logk = np.concatenate([new_logk, np.array(added_logk, np.float64)])
            new_force = np.concatenate([new_force, np.array(added_force, bool)])
            new_listed = np.concatenate([new_listed, np.array(added_listed, bool)])
            pairs = list(zip(added, range(first, first + len(added))))
            new_singles = [(w, i) for w, i in pairs if len(w) == 1]
            if new_singles:
                chars, ids = singles
                singles = _single_table(
                    [chr(c) for c in chars.tolist()] + [w for w, _ in new_singles],
                    np.concatenate([ids, [i for _, i in new_singles]]).astype(np.int64),
                )
            multi = tuple((w, i) for w, i in pairs if len(w) > 1)
            if multi:
                base = layers[:-1] if overlay else layers
                overlay = overlay + multi
                layers = base + (_overlay_automaton(overlay),)
        return UserDictionary(_compiled=_Compiled(
            MappingProxyType(merged), lengths, new_logk, new_force, new_listed,
            _checked_tags(merged_tags, merged), layers, overlay, singles))

    def removed(self, words: Iterable[str]) -> UserDictionary:
        """A new dictionary without ``words`` (absent ones are ignored): the
        model alone decides about them.  ``self`` is left untouched; nothing
        is recompiled (a removed word stays in the automaton, with no effect)."""
        if isinstance(words, str):
            raise TypeError("removed() takes an iterable of words, not a string")
        gone = [w for w in dict.fromkeys(words) if w in self._entries]
        if not gone:
            return self
        entries = self._entries.copy()
        tags = self._tags.copy()
        logk, force, listed = self._logk.copy(), self._force.copy(), self._listed.copy()
        for w in gone:
            del entries[w]
            tags.pop(w, None)
            i = self._lookup(w)
            if i is not None:
                logk[i], force[i], listed[i] = _REMOVED, False, False
        return UserDictionary(_compiled=_Compiled(
            MappingProxyType(entries), self._len, logk, force, listed, MappingProxyType(tags) if tags else _NO_TAGS,
            self._layers, self._overlay, self._singles))

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

    def _has_words(self) -> bool:
        return bool(self._layers or len(self._singles[0]))

    def _matches(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(ends, ids): every occurrence of every word in ``text``, as the
        index of its last character and its word id, in no set order."""
        # The automata's matches in C (segcli.trie, csrc/match.c), then the one-character words'.
        return trie.matches(self._layers, self._singles, codepoints(text))

    def word_spans_codepoints(self, cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of every occurrence, in the text of these code
        points (its lookup form), of a word that is listed, forced or has a
        multiplier above 1; occurrences may overlap.  Sorted by start, then end."""
        if not self._has_words() or not len(cps):
            return _NO_SPANS
        ends, ids = self._matches_of(cps)
        wanted = self._force[ids] | self._listed[ids] | (self._logk[ids] > 0.0)
        ends, ids = ends[wanted], ids[wanted]
        starts = ends - self._len[ids] + 1
        order = np.lexsort((ends, starts))
        return starts[order], ends[order] + 1

    def apply_codepoints(self, cps: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """apply() to the text of these code points, which is made only when
        the dictionary has words to match (most runs have none)."""
        if not self._has_words() or not len(cps):
            return _NO_SPANS
        return self._apply_matches(len(cps), scores, *self._matches_of(cps))

    def _matches_of(self, cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """_matches of the text of these code points, walked once for a
        batch's apply_codepoints and word_spans_codepoints alike (the last
        answer is kept per thread, for the same dictionary and array)."""
        last = getattr(_LAST_MATCHES, "value", None)
        if last is not None and last[0] is self and last[1] is cps:
            return last[2]
        matches = self._matches(from_codepoints(cps))
        _LAST_MATCHES.value = (self, cps, matches)
        return matches

    def apply(self, text: str, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Add the dictionary's log-multipliers to ``scores`` in place, make
        listed words stick and forced ones whole (see the module's docstring).

        ``scores`` is a ``(len(text), 4)`` float array of per-character tag
        log-scores (s, b, m, e).  ``text`` may be several lines joined with
        ``"\\n"``; since words contain no whitespace, matches never cross
        lines.  Returns ``(starts, ends)``: the accepted forced occurrences
        ``text[starts[k]:ends[k]]`` as int64 arrays, sorted and disjoint
        (empty when none).
        """
        if not self._has_words() or not text:
            return _NO_SPANS
        return self._apply_matches(len(text), scores, *self._matches(text))

    def _apply_matches(self, n: int, scores: np.ndarray, ends: np.ndarray,
                       ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if scores.ndim != 2 or scores.shape[0] != n or scores.shape[1] != 4:
            raise ValueError(f"scores must have shape ({n}, 4), got {scores.shape}")
        if not ends.size:
            return _NO_SPANS
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

        if self._any_listed:
            listed = self._listed[ids]
            if listed.any():
                # The pieces a cluster of listed words may be cut into besides
                # them: one-character listed words, and the words the
                # dictionary does not discourage.
                piece = (~listed | (lengths == 1)) & (logk >= 0.0) & ~self._force[ids]
                apply_listed(scores, starts[listed], lengths[listed], starts[piece], lengths[piece])
        if self._any_force:
            forced = self._force[ids]
            if forced.any():
                return apply_forced(scores, starts[forced], lengths[forced])
        return _NO_SPANS
