"""Dev scores during training: dev lines cut as the runtime cuts them, scored per standard."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .. import atoms
from ..decode import decode, word_spans
from ..evaluate import compare
from .config import Config
from .data import Encoded, Prepared


def predict_words(model: nn.Module, data: Encoded, trans: np.ndarray) -> list[list[str]]:
    """Each line cut as the runtime cuts it: log-probabilities, atoms ruled
    out (on the text's lookup form), constrained Viterbi with the transitions
    of the line's standard (trans: (4, 4) for all, or (standards, 4, 4))."""
    trans = np.asarray(trans, dtype=np.float32)
    if trans.ndim == 2:
        trans = trans[None]
    model.eval()
    texts = ["".join(w) for w in data.lines]
    result: list[list[str]] = [[] for _ in texts]
    with torch.no_grad():
        for batch in data.batches:
            chars, features, _ = data.tensors(batch)
            device = next(model.parameters()).device
            standards = data.standards[batch]
            inputs = [t.to(device) for t in (chars, *features)]
            scores = torch.log_softmax(model(*inputs, standard=torch.from_numpy(standards).to(device)), -1)
            scores = scores.cpu().numpy()
            lengths = np.array([len(data.ids[i]) for i in batch])
            rows = np.concatenate([scores[r, :k] for r, k in enumerate(lengths)])
            ends = np.cumsum(lengths)
            starts = ends - lengths
            for i, start in zip(batch, starts):
                atom_starts, atom_ends = atoms.find(data.vocab.lookup_form(texts[i]))
                atoms.constrain(rows, atom_starts + start, atom_ends + start)
            tags = np.zeros(len(rows), np.uint8)
            for s in np.unique(standards):
                pick = standards == s
                inside = np.repeat(pick, lengths)
                tags[inside] = decode(rows, starts[pick], ends[pick], trans[s if len(trans) > 1 else 0])[inside]
            for i, start, end in zip(batch, starts, ends):
                result[i] = [texts[i][a:b] for a, b in word_spans(tags[start:end])]
    model.train()
    return result


def dev_scores(gold: list[list[str]], predicted: list[list[str]], words: set[str]) -> dict:
    """What the metadata records of one dev set's scores."""
    scores = compare(gold, predicted, words)
    return {
        "precision": scores.precision,
        "recall": scores.recall,
        "f1": scores.f1,
        "oov_rate": scores.oov_rate,
        "oov_recall": scores.oov_recall,
        "iv_recall": scores.iv_recall,
        "words": scores.gold_words,
    }


def dev_by_standard(data: Prepared, predicted: list[list[str]]) -> dict[str, dict]:
    """Each standard's dev_scores over its dev lines, against its own training words."""
    return {
        name: dev_scores([line for line, s in zip(data.dev_lines, data.dev_standards) if s == k],
                         [line for line, s in zip(predicted, data.dev_standards) if s == k],
                         data.standard_words[name])
        for k, name in enumerate(data.standards)
    }


def decode_transitions(cfg: Config, trans: nn.Parameter, n_standards: int) -> np.ndarray:
    """(n_standards, 4, 4) float32: each standard's decoding transitions."""
    # A softmax tagger has no transition model: only the hard constraints apply.
    if cfg.objective == "softmax":
        return np.zeros((n_standards, 4, 4), np.float32)
    matrices = trans.detach().cpu().numpy().astype(np.float32)
    return matrices if len(matrices) == n_standards else np.repeat(matrices, n_standards, axis=0)
