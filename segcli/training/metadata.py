"""What a trained model's metadata.json records: the architecture (model.py's schema), the run, the scores."""

from __future__ import annotations

import datetime
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from .. import __version__, corpus, model
from ..standards import describe
from .config import Config
from .data import Prepared
from .network import Tagger, attention_window
from .predict import dev_scores


def metadata(cfg: Config, data: Prepared, network: nn.Module, standard_input: bool, *, history: list[dict],
             dev: dict, predicted: list[list[str]], onnx_max_abs_diff: float, seconds: float) -> dict:
    """The metadata of the model trained on ``data``; ``dev`` and
    ``predicted`` are the last epoch's dev scores and dev lines."""
    vocab = data.vocab
    encoder = describe_encoder(cfg, network)
    return {
        "format": model.FORMAT,
        "architecture": model.architecture(
            {
                "type": encoder["type"],
                "char_dim": cfg.char_dim,
                "ngram_orders": list(cfg.ngram_orders),
                "ngram_dim": cfg.ngram_dim,
                "hidden": cfg.hidden,
                "kernel": cfg.kernel,
                "dilations": list(cfg.dilations),
                "context": cfg.context,
                "chars": vocab.size,
                "ngrams": {str(n): size for n, size in vocab.ngram_sizes.items()},
                "word_max_len": cfg.word_max_len,
                "words": {str(n): len(k) for n, k in vocab.word_keys.items()},
                "lexicon_words": {str(n): len(k) for n, k in vocab.lexicon_keys.items()},
                "standard_input": standard_input,
                "standard_dim": cfg.standard_dim if standard_input else 0,
            },
            window=encoder.get("window", 0),
        ),
        "encoder": encoder,
        "objective": cfg.objective,
        "config": asdict(cfg),
        "standards": describe_standards(data, predicted),
        "lexicon": data.lexicon_info,
        "split": (f"per corpus file: X_train.txt with a sibling X_dev.txt trains on all its lines and is "
                  f"evaluated on X_dev.txt; any other file's every {corpus.DEV_EVERY}th non-empty line is dev"),
        "lookup": {"entries": len(data.lookup), "from": "OpenCC data and the character counts of all training text"},
        "dev": dev,
        "history": history,
        "onnx_max_abs_diff": onnx_max_abs_diff,
        "training_seconds": round(seconds, 1),
        "date": datetime.date.today().isoformat(),
        "seg_version": __version__,
        "torch_version": torch.__version__,
    }


def describe_standards(data: Prepared, predicted: list[list[str]]) -> list[dict]:
    """Per standard, in id order: its name, description and corpora, each
    corpus with its dev scores (``predicted``: every dev line, cut)."""
    described = []
    for k, name in enumerate(data.standards):
        corpora = []
        for i, (sp, s) in enumerate(zip(data.splits, data.standard_of)):
            if s == k:
                a, b = data.dev_offsets[i], data.dev_offsets[i + 1]
                corpora.append({**sp.info, "dev_scores": dev_scores(data.dev_lines[a:b], predicted[a:b],
                                                                    data.standard_words[name])})
        described.append({"name": name, "description": describe(name), "corpora": corpora})
    return described


def describe_encoder(cfg: Config, network: nn.Module) -> dict:
    """metadata["encoder"]: the FCN, or the transformer's shape and window."""
    if isinstance(network, Tagger):
        return {"type": "fcn"}
    described = {"type": "bert" if cfg.init else "transformer", "window": attention_window(cfg)}
    if cfg.init:
        config = network.bert.config
        return {**described, "init": Path(cfg.init).name, "layers": config.num_hidden_layers,
                "hidden": config.hidden_size, "heads": config.num_attention_heads}
    return {**described, "layers": cfg.layers, "d_model": cfg.d_model, "heads": cfg.heads}


