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
    word and no word the dictionary encourages (k >= 1) is cut whole; where
    they overlap, the model chooses among the ways of cutting them into
    listed words and words the dictionary does not discourage.  Atoms, forced and forbidden words win over a listed
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
(:mod:`segcli.trie`: arrays built with numpy, walked in C) whose value for
each word is an index into numpy arrays of word lengths, multipliers,
log-multipliers, force flags and tags.  The words themselves are kept as
one array of code points (the words joined by "\n"); ``entries`` and
``tags`` are made from it the first time they are asked for, so a loaded
million-word dictionary holds no Python object per word.  A compiled
dictionary is never mutated after construction (its arrays are read-only),
so it can be shared between threads.  ``updated`` and ``removed`` return new
dictionaries that share the big automaton: changed values of known words
only change the (copied) arrays, a removed word keeps its place with no
effect, and new words go to a small overlay automaton, recompiled in full
past ``OVERLAY_MAX`` new words.  ``apply`` walks the text once per automaton
and then works on numpy arrays only (no Python loop per character; a loop
over forced matches only).

A stop signal is acted on within a fraction of a second of a compile
(numpy calls, see :mod:`segcli.trie`).  Automata of dictionaries of
``CACHE_MIN_ENTRIES`` words or more are kept in a per-user on-disk cache,
and :func:`from_files` keeps whole parsed dictionary files there, keyed by
their bytes (:mod:`segcli.dictcache`: a format that cannot run code, no
pickle, read only from files and a directory that only the user can write).
``progress``, when given, hears about a cold compile of
``PROGRESS_MIN_WORDS`` words or more before it starts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import NamedTuple

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


def _build_automaton(words, ids: np.ndarray, lengths: np.ndarray) -> trie.Trie:
    """The automaton of words[i] -> i for i in ids (``words`` a list, or a
    mapping id -> word).  segcli.trie builds any size quicker than
    pyahocorasick's add_word and make_automaton, and its arrays are what
    the walk reads (small ones too: 2,000 words in 4 ms, against 14 ms for
    pyahocorasick's build and 7 ms more to take its nodes into arrays)."""
    return trie.automaton(trie.build(words, ids, lengths))


class _Compiled(NamedTuple):
    """Everything a UserDictionary holds (see its slots)."""

    text: np.ndarray
    overlay: tuple[tuple[str, int], ...]
    mults: np.ndarray
    present: np.ndarray
    count: int
    tag_ids: np.ndarray
    tag_names: tuple[str, ...]
    lengths: np.ndarray
    logk: np.ndarray
    force: np.ndarray
    listed: np.ndarray
    layers: tuple[trie.Trie, ...]
    singles: tuple[np.ndarray, np.ndarray]


def _compile(entries: Mapping[str, float | None], tags: Mapping[str, str], use_cache: bool,
             progress: Callable[[str], None] | None, kept: bool) -> _Compiled:
    words, mults, lengths = _validate(entries)
    tag_ids, tag_names = _tag_table(words, _checked_tags(tags))
    logk, force, listed = _log_multipliers(mults)
    single = lengths == 1
    single_ids = np.flatnonzero(single)
    singles = _single_table([words[i] for i in single_ids.tolist()], single_ids)
    layers: tuple = ()
    if not single.all():
        layers = (_base_automaton(words, np.flatnonzero(~single), lengths, use_cache, progress, kept),)
    text = codepoints("\n".join(words))
    return _Compiled(text, (), mults, np.ones(len(words), dtype=bool), len(words), tag_ids, tag_names, lengths, logk,
                     force, listed, layers, singles)


def _checked_tags(tags: Mapping[str, str]) -> Mapping[str, str]:
    for word, tag in tags.items():
        if not isinstance(tag, str) or not tag:
            raise DictError(f"tag {tag!r} of {word!r}: must be a non-empty string")
    return tags


def _tag_table(words: list[str], tags: Mapping[str, str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Each word's tag as an index into the tag names (-1: none), and the
    names; tags of words that are not among ``words`` are dropped."""
    tag_ids = np.full(len(words), -1, dtype=np.int32)
    if not tags:
        return tag_ids, ()
    names = tuple(dict.fromkeys(tags.values()))
    index = {name: i for i, name in enumerate(names)}
    position = dict(zip(words, range(len(words))))  # for the tagged words only; gone with this call
    pairs = [(position[w], index[t]) for w, t in tags.items() if w in position]
    if pairs:
        at, which = zip(*pairs)
        tag_ids[list(at)] = which
    return tag_ids, names


def _base_automaton(words: list[str], ids: np.ndarray, lengths: np.ndarray, use_cache: bool,
                    progress: Callable[[str], None] | None, kept: bool) -> trie.Trie:
    """The automaton of words[i] -> i for i in ids, from the cache if there
    (the key covers all ``words``, which fixes ``ids``); ``kept``: the
    caller caches the whole dictionary (what ``progress`` is told)."""
    key = None
    if use_cache and len(words) >= CACHE_MIN_ENTRIES:
        from . import dictcache  # large dictionaries only: kept out of a plain start

        key = dictcache.cache_key(words)
        automaton = dictcache.load(key, len(ids), ids, lengths)
        if automaton is not None:
            return automaton
    if progress is not None and len(ids) >= PROGRESS_MIN_WORDS:
        later = " (cached for next time)" if key is not None or kept else ""
        progress(f"compiling a dictionary of {len(words):,} words{later}…")
    automaton = _build_automaton(words, ids, lengths)
    if key is not None:
        dictcache.store(key, automaton)
    return automaton


def _compiled_of(text: np.ndarray, lengths: np.ndarray, mults: np.ndarray, tag_ids: np.ndarray,
                 tag_names: tuple[str, ...], singles: tuple[np.ndarray, np.ndarray],
                 nodes: trie.Nodes | None) -> _Compiled:
    """A dictionary's parts as :meth:`UserDictionary.parts` gives them (and
    the cache maps them back, checked: segcli.dictcache)."""
    logk, force, listed = _log_multipliers(mults)
    layers = (trie.automaton(nodes),) if nodes is not None else ()
    n = len(lengths)
    return _Compiled(text, (), mults, np.ones(n, dtype=bool), n, tag_ids, tag_names, lengths, logk, force, listed,
                     layers, singles)


def _grown(array: np.ndarray, more: int, fill) -> np.ndarray:
    """A copy of ``array`` with ``more`` items of ``fill`` after its own."""
    grown = np.empty(len(array) + more, dtype=array.dtype)
    grown[: len(array)] = array
    grown[len(array):] = fill
    return grown


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

    # Word ids index _mults/_present/_tag_ids/_len/_logk/_force/_listed: the
    # words compiled first in the order of _text (their code points joined by
    # "\n"), then those of _overlay ((word, id) pairs).  _layers holds the
    # automata mapping words of two or more characters to ids: the base one
    # and, after ``updated`` added new words, a small overlay with just those
    # so that adding a word to a large dictionary does not rebuild it.
    # One-character words are found through _singles (sorted code points,
    # their ids) with one vectorised lookup.  A removed word keeps its id,
    # not _present, with log-multiplier _REMOVED and no force: no effect.
    # _entries_made and _tags_made hold entries and tags once made.
    __slots__ = ("_text", "_overlay", "_mults", "_present", "_count", "_tag_ids", "_tag_names", "_layers", "_singles",
                 "_len", "_logk", "_force", "_listed", "_any_force", "_any_listed", "_entries_made", "_tags_made")

    def __init__(self, entries: Mapping[str, float | None] = _NO_ENTRIES, *, tags: Mapping[str, str] = _NO_TAGS,
                 use_cache: bool = True, progress: Callable[[str], None] | None = None,
                 _compiled: _Compiled | None = None, _kept: bool = False) -> None:
        if _compiled is None:
            _compiled = _compile(entries, tags, use_cache, progress, _kept)
        elif entries or tags:
            raise TypeError("UserDictionary: entries and _compiled are exclusive")
        (self._text, self._overlay, self._mults, self._present, self._count, self._tag_ids, self._tag_names,
         self._len, self._logk, self._force, self._listed, self._layers, self._singles) = _compiled
        for array in (self._text, self._mults, self._present, self._tag_ids, self._len, self._logk, self._force,
                      self._listed, *self._singles):
            array.flags.writeable = False  # shared with the dictionaries derived from this one
        self._any_force = bool(self._force.any())
        self._any_listed = bool(self._listed.any())
        self._entries_made: Mapping[str, float | None] | None = None
        self._tags_made: Mapping[str, str] | None = None

    # -- mapping-ish API ---------------------------------------------------

    @property
    def entries(self) -> Mapping[str, float | None]:
        """Read-only view of word -> multiplier (``math.inf`` = force,
        ``None`` = listed); made when first asked for (a race makes it twice, alike)."""
        made = self._entries_made
        if made is None:
            words = self._words()
            values = self._mults.tolist()
            if self._listed.any():
                values = [None if k != k else k for k in values]
            if self._count == len(words):
                made = MappingProxyType(dict(zip(words, values)))
            else:
                made = MappingProxyType({w: k for w, k, p in zip(words, values, self._present.tolist()) if p})
            self._entries_made = made
        return made

    @property
    def tags(self) -> Mapping[str, str]:
        """Read-only view of word -> tag, for the words a tag was given; made
        when first asked for."""
        made = self._tags_made
        if made is None:
            made = _NO_TAGS
            tagged = np.flatnonzero((self._tag_ids >= 0) & self._present) if self._tag_names else ()
            if len(tagged):
                words, names = self._words(), self._tag_names
                made = MappingProxyType({words[i]: names[t]
                                         for i, t in zip(tagged.tolist(), self._tag_ids[tagged].tolist())})
            self._tags_made = made
        return made

    def tag_of(self, word: str) -> str | None:
        """The tag the dictionary gives ``word`` (in its lookup form), if any."""
        return self.tags.get(word) if self._tag_names else None

    def __len__(self) -> int:
        return self._count

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str) or not word:
            return False
        i = self._lookup(word)
        return i is not None and bool(self._present[i])

    def __repr__(self) -> str:
        return f"UserDictionary({len(self)} words)"

    def _words(self) -> list[str]:
        """Every word compiled, by id (removed ones too)."""
        words = from_codepoints(self._text).split("\n") if len(self._text) else []
        return words + [w for w, _ in self._overlay]

    def parts(self) -> dict[str, object] | None:
        """The arrays of a dictionary fresh from a compile (no overlay, none
        removed), what :func:`_compiled_of` takes back; None for any other."""
        if self._overlay or self._count != len(self._len) or len(self._layers) > 1:
            return None
        return {"text": self._text, "lengths": self._len, "mults": self._mults, "tag_ids": self._tag_ids,
                "tag_names": self._tag_names, "singles": self._singles,
                "nodes": self._layers[0].nodes if self._layers else None}

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
        _checked_tags(tags)
        known_k: list[int] = []
        at: list[int] = []
        added_k: list[int] = []
        for k, w in enumerate(words):
            i = self._lookup(w)
            (added_k if i is None else known_k).append(k)
            if i is not None:
                at.append(i)
        if len(self._overlay) + len(added_k) > OVERLAY_MAX:
            merged = dict(self.entries)
            merged.update(zip(words, [None if k != k else k for k in mults.tolist()]))
            merged_tags = dict(self.tags)
            merged_tags.update(tags)
            return UserDictionary(merged, tags=merged_tags)
        first = len(self._len)
        added = [words[k] for k in added_k]
        order = np.array(known_k + added_k, dtype=np.int64)  # extra's words in the order of ids
        ids = np.array(at + list(range(first, first + len(added))), dtype=np.int64)
        count = self._count + len(added) + int((~self._present[np.array(at, dtype=np.int64)]).sum())
        grow = len(added)
        new_mults = _grown(self._mults, grow, np.nan)
        new_mults[ids] = mults[order]
        logk, force, listed = _log_multipliers(mults[order])
        new_logk, new_force, new_listed = (_grown(self._logk, grow, 0.0), _grown(self._force, grow, False),
                                           _grown(self._listed, grow, False))
        new_logk[ids], new_force[ids], new_listed[ids] = logk, force, listed
        present = _grown(self._present, grow, True)
        present[ids] = True
        tag_ids, tag_names = _grown(self._tag_ids, grow, -1), self._tag_names
        if tags:
            id_of = dict(zip([words[k] for k in order.tolist()], ids.tolist()))
            names = dict(zip(tag_names, range(len(tag_names))))
            for w, t in tags.items():
                i = id_of.get(w)
                if i is None and isinstance(w, str) and w:
                    i = self._lookup(w)
                if i is not None and present[i]:
                    tag_ids[i] = names.setdefault(t, len(names))
            tag_names = tuple(names)
        lengths, layers, overlay, singles = self._len, self._layers, self._overlay, self._singles
        if added:
            lengths = np.concatenate([lengths, np.fromiter(map(len, added), np.int64, len(added))])
            pairs = tuple(zip(added, range(first, first + len(added))))
            new_singles = [(w, i) for w, i in pairs if len(w) == 1]
            if new_singles:
                chars, char_ids = singles
                singles = _single_table(
                    [chr(c) for c in chars.tolist()] + [w for w, _ in new_singles],
                    np.concatenate([char_ids, [i for _, i in new_singles]]).astype(np.int64),
                )
            if len(new_singles) < len(pairs):  # the overlay's automaton, of all its longer words, replaces the last
                base = layers[:-1] if any(len(w) > 1 for w, _ in overlay) else layers
                longer = {i: w for w, i in overlay + pairs if len(w) > 1}
                layers = base + (_build_automaton(longer, np.fromiter(longer, np.int64, len(longer)), lengths),)
            overlay = overlay + pairs
        return UserDictionary(_compiled=_Compiled(
            self._text, overlay, new_mults, present, count, tag_ids, tag_names, lengths, new_logk, new_force,
            new_listed, layers, singles))

    def removed(self, words: Iterable[str]) -> UserDictionary:
        """A new dictionary without ``words`` (absent ones are ignored): the
        model alone decides about them.  ``self`` is left untouched; nothing
        is recompiled (a removed word stays in the automaton, with no effect)."""
        if isinstance(words, str):
            raise TypeError("removed() takes an iterable of words, not a string")
        gone = [i for w in dict.fromkeys(words) if isinstance(w, str) and w
                for i in (self._lookup(w),) if i is not None and self._present[i]]
        if not gone:
            return self
        present, logk, force, listed, tag_ids = (self._present.copy(), self._logk.copy(), self._force.copy(),
                                                 self._listed.copy(), self._tag_ids.copy())
        present[gone], logk[gone], force[gone], listed[gone], tag_ids[gone] = False, _REMOVED, False, False, -1
        return UserDictionary(_compiled=_Compiled(
            self._text, self._overlay, self._mults, present, self._count - len(gone), tag_ids, self._tag_names,
            self._len, logk, force, listed, self._layers, self._singles))

    def _lookup(self, word: str) -> int | None:
        """The id of ``word``, removed or not; None if it was never compiled."""
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

    def _matches(self, cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ends, ids): every occurrence of every word in the text of these
        code points, as the index of its last character and its word id, in
        no set order (segcli.trie, csrc/match.c)."""
        return trie.matches(self._layers, self._singles, cps)

    def word_spans_codepoints(self, cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of every occurrence, in the text of these code
        points (its lookup form), of a word of two characters or more that is
        listed, forced or has a multiplier above 1; occurrences may overlap.
        Sorted by start, then end.  (What the boundary rules keep whole: a
        one-character word has no inside, and in a large dictionary they are
        most of the matches.)"""
        if not self._has_words() or not len(cps):
            return _NO_SPANS
        ends, ids = self._matches_of(cps)
        lengths = self._len[ids]
        wanted = (lengths > 1) & (self._force[ids] | self._listed[ids] | (self._logk[ids] > 0.0))
        ends, lengths = ends[wanted], lengths[wanted]
        starts = ends - lengths + 1
        order = np.lexsort((ends, starts))
        return starts[order], ends[order] + 1

    def apply_codepoints(self, cps: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """apply() to the text of these code points."""
        if not self._has_words() or not len(cps):
            return _NO_SPANS
        return self._apply_matches(len(cps), scores, *self._matches_of(cps))

    def _matches_of(self, cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """_matches of these code points, walked once for a batch's
        apply_codepoints and word_spans_codepoints alike (the last answer is
        kept per thread, for the same dictionary and array)."""
        last = getattr(_LAST_MATCHES, "value", None)
        if last is not None and last[0] is self and last[1] is cps:
            return last[2]
        matches = self._matches(cps)
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
        return self._apply_matches(len(text), scores, *self._matches(codepoints(text)))

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
