"""Part-of-speech stage: a tag for each word, decided after the cut.

The model's tagging head (WordHead, the model directory's pos_head.npz)
reads each word of the cut with the characters around it: hashed features
of the word, its first and last characters and its neighbours, summed int8
rows, one hidden layer, an argmax over the PKU tags. Dictionaries, atoms,
standards and the constrained Viterbi decide the cut exactly as without
tags, and any standard's cut gets PKU tags; the encoder is not involved, so
`seg --pos` scores each character once, as plain `seg` does.
Two things overrule the model, in this order:

1. a dictionary tag (`word,10,nz`, jieba's `word 10 nz`): that word,
   wherever it is cut, gets that tag;
2. the kind of word, for words that are whole atoms or punctuation
   (ATOM_TAGS, KIND_TAGS), as People's Daily 1998 (199801.txt, the
   tagged training data) tags them:

   ============================  ====  ====================  =============
   word                          tag   199801.txt            jieba.posseg
   ============================  ====  ====================  =============
   number (1,299.00, -3.5%, ５)   m     m (11,238 of 11,242)  m
   digit groups, clock time      m     m (３∶１, ２１∶１６)    m, x (pieces)
   Latin word (iPhone15, ＩＭＦ)  nx    nx (345 of 411)       eng
   URL, e-mail address           nx    nx (its one URL)      eng, x, m
   file path, --option           nx    (none)                x, eng
   emoji, keycap (1️⃣)            w     (none)                x
   punctuation, symbols (，●±),  w     w (173,047 of 173,062) x
   a run of = (====)
   unit symbols ℃ ℉ °            q     q (12 of 12)          x
   ============================  ====  ====================  =============

   jieba's eng and x are not PKU tags: PKU tags foreign words nx and every
   punctuation mark and symbol w. Words that only begin with an atom
   (2024年, A股, 5G网络) are the model's: 199801 tags １９９８年 t.

UNIVERSAL maps PKU tags to Universal POS (spaCy's token.pos_); universal()
refines it by the word: w of symbols or emoji is SYM, of punctuation PUNCT.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from . import _core, atoms
from .encode import from_codepoints
from .errors import ModelError


class NoTaggingHead(ModelError):
    """Tags were asked of a model that has no part-of-speech head."""


def no_head(directory) -> NoTaggingHead:
    return NoTaggingHead(f"the model {directory} has no part-of-speech head: tags need a model trained with "
                         "them (seg's shipped model has one)")


#: atoms.PATTERNS kind -> the tag of a word that is one whole atom of that kind.
ATOM_TAGS = {
    "url": "nx",
    "email": "nx",
    "path": "nx",  # as a URL: ~/.bashrc, C:\\Users\\x
    "option": "nx",  # a command line's --dry-run
    "keycap": "w",
    "digit groups": "m",
    "clock time": "m",
    "latin word": "nx",
    "number": "m",
    "emoji sequence": "w",
    "equals run": "w",
}
#: The tags of words of punctuation and symbols (every character's Unicode
#: category P* or S*).
KIND_TAGS = {"punctuation": "w", "unit": "q"}
_UNIT_SYMBOLS = frozenset("℃℉°")

#: PKU tag -> Universal POS (https://universaldependencies.org/u/pos/), as
#: UD's Chinese treebanks tag the same words: classifiers (q), time (t) and
#: place (s) words are NOUN, localisers (f: 上, 之间) ADP, verbal and
#: adjectival nouns (vn, an) NOUN, adverbial verbs and adjectives (vd, ad)
#: ADV, non-predicate and state adjectives (b, z) ADJ, abbreviations (j:
#: 中, 政协) PROPN; idioms (i), set phrases (l), foreign letters (nx) and
#: non-morphemes (x) have no one class: X. A tag not listed is X.
UNIVERSAL = {
    "n": "NOUN", "Ng": "NOUN", "na": "NOUN", "nr": "PROPN", "ns": "PROPN", "nt": "PROPN", "nz": "PROPN",
    "nx": "X", "j": "PROPN", "s": "NOUN", "t": "NOUN", "Tg": "NOUN", "f": "ADP", "q": "NOUN",
    "v": "VERB", "Vg": "VERB", "vvn": "VERB", "vn": "NOUN", "vd": "ADV",
    "a": "ADJ", "Ag": "ADJ", "an": "NOUN", "ad": "ADV", "b": "ADJ", "Bg": "ADJ", "z": "ADJ",
    "d": "ADV", "Dg": "ADV", "m": "NUM", "Mg": "NUM", "r": "PRON", "Rg": "PRON",
    "p": "ADP", "c": "CCONJ", "u": "PART", "y": "PART", "Yg": "PART", "k": "PART", "h": "PART",
    "e": "INTJ", "o": "INTJ", "i": "X", "l": "X", "x": "X", "w": "PUNCT",
}


def universal(tag: str, word: str) -> str:
    """The Universal POS of a word tagged `tag`: UNIVERSAL's, except that w
    (PKU's one class for punctuation and symbols) is SYM for a word with a
    symbol or emoji in it."""
    upos = UNIVERSAL.get(tag, "X")
    if upos == "PUNCT" and any(unicodedata.category(c)[0] == "S" for c in word):
        return "SYM"
    return upos


_KINDS = tuple((name, re.compile(pattern)) for name, pattern, _ in atoms.PATTERNS)
_KNOWN: dict[str, str | None] = {}  # word (lookup form) -> its kind's tag; None: the model's
_KNOWN_LIMIT = 1 << 16  # words remembered; numbers vary without end


def kind_tag(word: str) -> str | None:
    """The tag of `word` (its lookup form) by its kind (ATOM_TAGS,
    KIND_TAGS), None when the model decides."""
    tag = _KNOWN.get(word, "")
    if tag != "":
        return tag
    tag = _kind_tag(word)
    if len(_KNOWN) >= _KNOWN_LIMIT:
        _KNOWN.clear()
    _KNOWN[word] = tag
    return tag


def _kind_tag(word: str) -> str | None:
    for name, pattern in _KINDS:
        if pattern.fullmatch(word):
            return ATOM_TAGS.get(name)
    if word and all(unicodedata.category(c)[0] in "PS" for c in word):
        return KIND_TAGS["unit"] if word in _UNIT_SYMBOLS else KIND_TAGS["punctuation"]
    return None


@functools.lru_cache(maxsize=None)
def _single_kinds() -> tuple[tuple[str | None, ...], np.ndarray]:
    """(tags, kind): kind[c] indexes tags with the kind_tag of the
    one-character word chr(c) (lookup form), for c below U+10000; 0: none.
    One character is a number if an ASCII digit, a Latin word if an ASCII
    letter, an emoji in U+2600..U+27BF, else punctuation or a symbol by its
    category (a test holds this to kind_tag for every character)."""
    tags = (None, ATOM_TAGS["number"], ATOM_TAGS["latin word"], KIND_TAGS["punctuation"], KIND_TAGS["unit"],
            ATOM_TAGS["emoji sequence"])
    kind = np.zeros(0x10000, dtype=np.uint8)
    kind[[c for c in range(0x10000) if unicodedata.category(chr(c))[0] in "PS"]] = 3
    kind[[ord(c) for c in _UNIT_SYMBOLS]] = 4
    kind[0x2600:0x27C0] = 5  # the emoji pattern's one block below U+10000 (dingbat digits ❶ are No)
    kind[ord("0") : ord("9") + 1] = 1
    kind[ord("A") : ord("Z") + 1] = 2
    kind[ord("a") : ord("z") + 1] = 2
    return tags, kind


def _maybe_kind(first: np.ndarray) -> np.ndarray:
    """Whether words whose first code points (lookup form) are `first` may
    have a kind: Han characters never begin an atom or a punctuation word."""
    han = (((first >= 0x3400) & (first < 0xA000)) | ((first >= 0xF900) & (first < 0xFB00))
           | ((first >= 0x20000) & (first < 0x40000)))
    return ~han


#: The features of a word (csrc/tags.c word_features): a bucket each.
FEATURES = 12


def word_features(cps: np.ndarray, space: np.ndarray | None, starts: np.ndarray, ends: np.ndarray,
                  line_starts: np.ndarray, line_ends: np.ndarray, buckets: int) -> np.ndarray:
    """(len(starts), FEATURES) int32: the buckets of the features of each
    word cps[starts[k]:ends[k]] (lookup form), its context read inside
    [line_starts[k], line_ends[k]) with the whitespace (space, None for
    none) left out, as in the tagged training text, which has none.
    Training and tagging share this one function, so a word's features
    cannot drift between them."""
    cps = np.ascontiguousarray(cps, dtype=np.uint32)
    space = np.zeros(len(cps), np.uint8) if space is None else np.ascontiguousarray(space).view(np.uint8)
    features = np.empty((len(starts), FEATURES), dtype=np.int32)
    _core.word_features(cps, space, *(np.ascontiguousarray(a, dtype=np.int64)
                                      for a in (starts, ends, line_starts, line_ends)), buckets, features)
    return features


@dataclass(eq=False)
class WordHead:
    """The tagging head (model.POS_HEAD_FILE): a word's tag from its
    features' int8 rows summed, scaled and rectified (`width` units), then
    one linear layer over the tags."""

    table: np.ndarray  # (buckets, width) int8
    scales: np.ndarray  # (width,) float32
    biases: np.ndarray  # (width,) float32
    weights: np.ndarray  # (width, tags) float32
    out_biases: np.ndarray  # (tags,) float32

    @property
    def buckets(self) -> int:
        return self.table.shape[0]

    @functools.cached_property
    def _padded(self) -> tuple[np.ndarray, np.ndarray]:
        """weights and out_biases with tags added up to a multiple of 8,
        which never win (weights 0, bias -inf; where every score is -inf or
        NaN the first tag is taken): word_head's fast path takes whole
        blocks of 8 tags."""
        extra = -len(self.out_biases) % 8
        weights = np.pad(self.weights, ((0, 0), (0, extra)))
        return (np.ascontiguousarray(weights, dtype=np.float32),
                np.concatenate([self.out_biases, np.full(extra, -np.inf, np.float32)]).astype(np.float32))

    def tag_ids(self, features: np.ndarray) -> np.ndarray:
        ids = np.empty(len(features), dtype=np.int64)
        weights, out_biases = self._padded
        _core.word_head(np.ascontiguousarray(features, dtype=np.int32), self.table, self.table.shape[1], self.scales,
                        self.biases, weights, out_biases, ids)
        return ids


def span_tag_ids(head: WordHead, batch, starts: np.ndarray, ends: np.ndarray, names: Sequence[str],
                 tag_of: Callable[[str], str | None] | None = None) -> tuple[np.ndarray, list[str]]:
    """(ids, labels): the tag of each word [starts[k], ends[k]) of a decoded
    batch is labels[ids[k]] (positions in its code points, no whitespace
    inside a word; words may overlap, as search mode's do). batch: its
    lookup form (folded), whitespace (space) and lines (line_starts,
    line_ends); names: the head's tags; tag_of: the dictionary's tag of a
    word (lookup form). A word's context is the characters around it on its
    line, whitespace left out (word_features)."""
    folded, line_starts, line_ends = batch.folded, batch.line_starts, batch.line_ends
    kind_names, kinds = _single_kinds()
    labels = [*names, *kind_names[1:]]
    if not len(starts):
        return np.empty(0, dtype=np.int64), labels
    line = np.searchsorted(line_starts, starts, side="right") - 1
    features = word_features(folded, batch.space, starts, ends, line_starts[line], line_ends[line], head.buckets)
    ids = head.tag_ids(features)
    firsts = folded[starts]
    single = (ends - starts == 1) & (firsts < 0x10000)
    # Most words that have a kind are one punctuation mark: their tags are
    # set among the ids, past the model's, all at once.
    words = np.flatnonzero(single)
    kind = kinds[firsts[words]]
    has_kind = kind > 0
    ids[words[has_kind]] = len(names) + kind[has_kind] - 1
    candidates = np.flatnonzero(_maybe_kind(firsts) & ~single)
    if tag_of is None and not len(candidates):
        return ids, labels
    label_ids = {label: k for k, label in enumerate(labels)}

    def label_id(tag: str) -> int:
        if tag not in label_ids:  # a dictionary's own tag
            label_ids[tag] = len(labels)
            labels.append(tag)
        return label_ids[tag]

    text = from_codepoints(folded)
    for k, a, b in zip(candidates.tolist(), starts[candidates].tolist(), ends[candidates].tolist()):
        tag = kind_tag(text[a:b])
        if tag is not None:
            ids[k] = label_id(tag)
    if tag_of is not None:
        for k, (a, b) in enumerate(zip(starts.tolist(), ends.tolist())):
            tag = tag_of(text[a:b])
            if tag is not None:
                ids[k] = label_id(tag)
    return ids, labels


def dictionary_tags(dictionary) -> Callable[[str], str | None] | None:
    """The dictionary's word -> tag lookup (interface 1: UserDictionary.tag_of),
    None when it has no tags (then no word needs looking up)."""
    tag_of = getattr(dictionary, "tag_of", None)
    if tag_of is None or not getattr(dictionary, "tags", True):
        return None
    return tag_of
