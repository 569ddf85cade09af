"""The networks training builds: the FCN tagger (or the transformer option), the exported wrappers, the device.

One model for several annotation standards (multi-criteria segmentation, after
He et al. 2019, "Effective Neural Solution for Multi-Criteria Word
Segmentation", adapted to the FCN): every corpus trains the same encoder; a
learned embedding of the line's standard joins every position's input
features, and each standard has its own CRF / MEMM transition matrix (see
loop.py). The exported graph takes the standard's id as one more input,
``standard``.
"""

from __future__ import annotations

import os

import torch
from torch import nn

from ..encode import Vocab
from ..errors import CorpusError
from .config import Config


class Tagger(nn.Module):
    """Character + n-gram embeddings (+ word matches, + the standard's
    embedding) → residual 1-D convolutions → 4 tag scores."""

    def __init__(self, cfg: Config, n_chars: int, ngram_sizes: list[int], word_features: int,
                 n_standards: int = 0):
        """n_standards > 0 (with cfg.standard_dim > 0): the model takes a standard id per row."""
        super().__init__()
        # Sparse gradients: a step touches a few thousand of the n-gram rows, and
        # dense Adam updates of every row would dominate training time.
        self.char_emb = nn.Embedding(n_chars, cfg.char_dim, padding_idx=0, sparse=True)
        self.ngram_embs = nn.ModuleList(
            nn.Embedding(n, cfg.ngram_dim, padding_idx=0, sparse=True) for n in ngram_sizes
        )
        k = cfg.kernel
        width = cfg.char_dim + cfg.ngram_dim * len(ngram_sizes) + word_features
        self.inp = nn.Conv1d(width, cfg.hidden, k, padding=k // 2)
        self.standard_emb = nn.Embedding(n_standards, cfg.standard_dim) if n_standards and cfg.standard_dim else None
        if self.standard_emb is not None:
            # The first convolution's weights for the standard's embedding, as
            # if it were k more input channels (see _standard_term).
            self.standard_inp = nn.Conv1d(cfg.standard_dim, cfg.hidden, k, bias=False)
            self.register_buffer("shift", torch.eye(k).unsqueeze(1), persistent=False)
        self.blocks = nn.ModuleList(
            nn.Conv1d(cfg.hidden, cfg.hidden, k, padding=d * (k // 2), dilation=d) for d in cfg.dilations
        )
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Conv1d(cfg.hidden, 4, 1)

    def forward(self, chars: torch.Tensor, *features: torch.Tensor,
                standard: torch.Tensor | None = None) -> torch.Tensor:
        """features: one id matrix per n-gram order, then the word-match matrix
        if any; standard: int64 (batch,) standard ids, or (1,) for every row
        (default: 0; ignored by a model without a standard input)."""
        # Zeroing padded positions after every layer makes a line's scores
        # independent of what it is batched with.
        mask = (chars != 0).unsqueeze(1).to(torch.float32)
        embedded = [self.char_emb(chars)] + [emb(ids) for emb, ids in zip(self.ngram_embs, features)]
        embedded += features[len(self.ngram_embs) :]
        x = self.inp(self.drop(torch.cat(embedded, -1).transpose(1, 2)))
        if self.standard_emb is not None:
            x = x + self._standard_term(standard, mask)
        x = torch.relu(x) * mask
        for conv in self.blocks:
            x = (x + torch.relu(conv(self.drop(x)))) * mask
        return self.out(self.drop(x)).transpose(1, 2)

    def _standard_term(self, standard: torch.Tensor | None, mask: torch.Tensor) -> torch.Tensor:
        """What the standard's embedding adds to the first convolution, as if
        it were extra input channels, zero at PAD like every other input (so
        PAD between packed sequences looks like the padding at a row's ends).
        Computed as a per-standard (hidden, kernel) table times the mask's k
        shifts: the same numbers as concatenating the embedding to every
        position, for a fraction of the arithmetic at run time."""
        if standard is None:
            standard = torch.zeros(1, dtype=torch.int64)
        table = torch.einsum("hdk,nd->nhk", self.standard_inp.weight, self.standard_emb.weight)
        shifted = nn.functional.conv1d(mask, self.shift, padding=self.shift.shape[-1] // 2)  # (B, k, T)
        return torch.matmul(table[standard], shifted)


class AttentionLogProbs(nn.Module):
    """LogProbs of an attention encoder. Inputs: chars, the features, the
    standard ids (if the model takes them), then segments and positions."""

    def __init__(self, tagger: nn.Module, features: int):
        super().__init__()
        self.tagger = tagger
        self.features = features

    def forward(self, chars: torch.Tensor, *inputs: torch.Tensor) -> torch.Tensor:
        features, rest = inputs[: self.features], inputs[self.features :]
        standard = rest[0] if len(rest) == 3 else None
        return torch.log_softmax(self.tagger(chars, *features, standard=standard, segments=rest[-2],
                                             positions=rest[-1]), -1)


class LogProbs(nn.Module):
    """What ships: per-character log-probabilities. For a CRF this is a per-position
    shift of its emissions, which leaves every Viterbi decision unchanged.
    Inputs: chars, the features, then (with a standard input) the standard ids."""

    def __init__(self, tagger: Tagger):
        super().__init__()
        self.tagger = tagger

    def forward(self, chars: torch.Tensor, *inputs: torch.Tensor) -> torch.Tensor:
        if self.tagger.standard_emb is None:
            return torch.log_softmax(self.tagger(chars, *inputs), -1)
        return torch.log_softmax(self.tagger(chars, *inputs[:-1], standard=inputs[-1]), -1)


def make_encoder(cfg: Config, vocab: Vocab, n_standards: int) -> nn.Module:
    """The encoder cfg names: the FCN Tagger, or a transformer (from scratch,
    or from the local BERT checkpoint cfg.init)."""
    if cfg.encoder == "fcn":
        if cfg.init:
            raise CorpusError("--init needs --encoder transformer")
        return Tagger(cfg, vocab.size, list(vocab.ngram_sizes.values()), vocab.word_feature_count, n_standards)
    if cfg.encoder != "transformer":
        raise CorpusError(f"unknown encoder {cfg.encoder!r}: fcn or transformer")
    from .. import transformer
    from ..encode import _FIRST_ID

    if cfg.init:
        bert, bert_vocab = transformer.load_bert(cfg.init)
        return transformer.BertTagger(bert, bert_vocab, vocab.chars, _FIRST_ID, n_standards)
    if cfg.d_model % cfg.heads:
        raise CorpusError(f"d_model {cfg.d_model} is not a multiple of heads {cfg.heads}")
    return transformer.TransformerTagger(cfg, vocab.size, list(vocab.ngram_sizes.values()),
                                         vocab.word_feature_count, n_standards)


def training_device(cfg: Config) -> torch.device:
    if cfg.device == "cpu":
        return torch.device("cpu")
    if cfg.device != "cuda":
        raise CorpusError(f"unknown device {cfg.device!r}: cpu or cuda")
    if not torch.cuda.is_available():
        raise CorpusError("device=cuda: this PyTorch sees no CUDA device (a CPU build, or no GPU)")
    # Deterministic cuBLAS (torch.use_deterministic_algorithms) needs a fixed workspace.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return torch.device("cuda")


def attention_window(cfg: Config) -> int:
    """The longest row an attention encoder sees, in training and at run
    time alike (so every position embedding the runtime uses was trained):
    cfg.max_train_len, within cfg.max_positions and, with cfg.init, the
    checkpoint's own limit."""
    window = min(cfg.max_train_len, cfg.max_positions)
    if not cfg.init:
        return window
    from .. import transformer

    return min(window, transformer.max_positions(cfg.init))

