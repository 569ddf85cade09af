"""The BERT-style encoder option (training time; imports torch).

`seg train --encoder transformer` trains TransformerTagger from scratch: the
same inputs as the FCN (character, bigram and word-match features, the
standard) projected to d_model, learned positions, pre-norm self-attention
layers, a 4-way head. `--init PATH` starts instead from a local Hugging Face
BERT checkpoint (`transformers`, never the network): the model's character
ids are mapped to BERT's vocabulary inside the graph, so the runtime feeds
the same ids as for the FCN.

Every row may hold several sequences (the scorer packs them): `segments`
numbers them (0 at padding) and attention is block-diagonal, so a line's
output never depends on what it is packed with; `positions` restart at 0 for
each sequence. The exported graph takes both as extra inputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from .errors import CorpusError

def attention_mask(segments: torch.Tensor) -> torch.Tensor:
    """(B, T, T) bool, True where position i may attend to j: same sequence.
    A padding position attends to itself only, so no softmax row is empty."""
    same = (segments.unsqueeze(2) == segments.unsqueeze(1)) & (segments != 0).unsqueeze(1)
    index = torch.arange(segments.shape[1], device=segments.device)
    return same | (index.unsqueeze(1) == index.unsqueeze(0)).unsqueeze(0)


def default_layout(chars: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Segments and positions of rows holding one sequence each (training)."""
    real = (chars != 0).to(torch.int64)
    return real, torch.clamp(torch.cumsum(real, 1) - 1, min=0)


class Block(nn.Module):
    """A pre-norm transformer layer: self-attention under an additive mask,
    then a feed-forward network, each added back to its input. Written out
    rather than nn.TransformerEncoderLayer, whose exported graph keeps the
    example batch's shapes as constants."""

    def __init__(self, d: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.drop = nn.Dropout(dropout)
        self.scale = (d // heads) ** -0.5

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        q, k, v = (t.unflatten(-1, (self.heads, -1)).transpose(1, 2) for t in self.qkv(self.norm1(x)).chunk(3, -1))
        weights = self.drop(torch.softmax(q @ k.transpose(-1, -2) * self.scale + bias, -1))
        x = x + self.drop(self.proj((weights @ v).transpose(1, 2).flatten(2)))
        return x + self.drop(self.ff(self.norm2(x)))


class TransformerTagger(nn.Module):
    """Feature embeddings → d_model, + learned positions (+ the standard's
    embedding) → pre-norm transformer layers → 4 tag scores."""

    def __init__(self, cfg, n_chars: int, ngram_sizes: list[int], word_features: int, n_standards: int = 0):
        super().__init__()
        d = cfg.d_model
        self.char_emb = nn.Embedding(n_chars, cfg.char_dim, padding_idx=0)
        self.ngram_embs = nn.ModuleList(nn.Embedding(n, cfg.ngram_dim, padding_idx=0) for n in ngram_sizes)
        width = cfg.char_dim + cfg.ngram_dim * len(ngram_sizes) + word_features
        self.inp = nn.Linear(width, d)
        self.positions = nn.Embedding(cfg.max_positions, d)
        self.standard_emb = nn.Embedding(n_standards, d) if n_standards else None
        self.layers = nn.ModuleList(Block(d, cfg.heads, cfg.dropout) for _ in range(cfg.layers))
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, 4)

    def forward(self, chars, *features, standard=None, segments=None, positions=None):
        if segments is None:
            segments, positions = default_layout(chars)
        embedded = [self.char_emb(chars)] + [emb(ids) for emb, ids in zip(self.ngram_embs, features)]
        embedded += features[len(self.ngram_embs):]
        x = self.inp(torch.cat(embedded, -1)) + self.positions(positions)
        if self.standard_emb is not None:
            if standard is None:
                standard = torch.zeros(1, dtype=torch.int64)
            x = x + self.standard_emb(standard).unsqueeze(1)
        # A large finite penalty, not -inf: exp() of it is exactly 0 either way.
        bias = (~attention_mask(segments)).to(x.dtype).unsqueeze(1) * -1e9
        for layer in self.layers:
            x = layer(x, bias)
        return self.out(self.norm(x))


def _checkpoint_config(path: Path) -> dict:
    if not (path / "config.json").is_file():
        raise CorpusError(f"--init {path}: not a Hugging Face checkpoint directory (no config.json)")
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CorpusError(f"--init {path}: unreadable config.json ({e})") from None
    if not isinstance(config, dict) or config.get("model_type") != "bert":
        model_type = config.get("model_type") if isinstance(config, dict) else None
        raise CorpusError(f"--init {path}: model_type {model_type!r}, expected 'bert'")
    return config


def max_positions(path: str | Path) -> int:
    """The checkpoint's longest input (max_position_embeddings)."""
    return int(_checkpoint_config(Path(path)).get("max_position_embeddings", 512))


def load_bert(path: str | Path):
    """(BertModel, its vocabulary: token -> id) from a local checkpoint
    directory; a missing or incompatible one is a one-line CorpusError."""
    path = Path(path)
    _checkpoint_config(path)
    if not (path / "vocab.txt").is_file():
        raise CorpusError(f"--init {path}: no vocab.txt (a BERT checkpoint has one)")
    try:
        from transformers import BertModel
    except ImportError:
        raise CorpusError("--init needs the transformers package: pip install transformers") from None
    try:
        bert = BertModel.from_pretrained(str(path), local_files_only=True, attn_implementation="eager",
                                         add_pooling_layer=False)
    except (OSError, ValueError) as e:
        first = (str(e).strip().splitlines() or [""])[0]
        raise CorpusError(f"--init {path}: cannot load it: {first}") from None
    tokens = (path / "vocab.txt").read_text(encoding="utf-8").splitlines()
    return bert, {token: i for i, token in enumerate(tokens)}


class BertTagger(nn.Module):
    """A local BERT checkpoint with a 4-way head; our character ids are mapped
    to BERT's token ids by a table inside the graph (unknown → [UNK], PAD →
    [PAD]); the standard's embedding is added to BERT's input embeddings."""

    def __init__(self, bert, bert_vocab: dict[str, int], chars: str, first_id: int, n_standards: int = 0):
        super().__init__()
        self.bert = bert
        unk = bert_vocab.get("[UNK]", 0)
        table = [bert_vocab.get("[PAD]", 0), unk] + [bert_vocab.get(c, unk) for c in chars]
        assert len(table) == len(chars) + first_id
        self.register_buffer("token_ids", torch.tensor(table, dtype=torch.int64))
        hidden = bert.config.hidden_size
        self.standard_emb = nn.Embedding(n_standards, hidden) if n_standards else None
        if self.standard_emb is not None:
            nn.init.zeros_(self.standard_emb.weight)  # start as the checkpoint is
        self.out = nn.Linear(hidden, 4)
        self.max_positions = bert.config.max_position_embeddings

    def forward(self, chars, *features, standard=None, segments=None, positions=None):
        if segments is None:
            segments, positions = default_layout(chars)
        ids = self.token_ids[chars]
        embeds = self.bert.embeddings.word_embeddings(ids)
        if self.standard_emb is not None:
            if standard is None:
                standard = torch.zeros(1, dtype=torch.int64)
            embeds = embeds + self.standard_emb(standard).unsqueeze(1)
        # BERT's embeddings and layers are called directly with an additive
        # (B, 1, T, T) mask: the block-diagonal mask is ours, not one of the
        # forms BertModel builds from a padding mask.
        bias = (~attention_mask(segments)).to(embeds.dtype).unsqueeze(1) * -1e9
        hidden = self.bert.embeddings(inputs_embeds=embeds, position_ids=positions)
        encoded = self.bert.encoder(hidden, attention_mask=bias)
        hidden = encoded[0] if isinstance(encoded, tuple) else encoded.last_hidden_state
        return self.out(hidden)
