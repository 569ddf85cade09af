"""The training run: seeded, data prepared, encoder and per-standard transitions fitted by epochs, then shipped.

``train`` is the whole of ``seg train`` after its settings are planned
(config.plan): each of its steps is a function here or in the module that
owns that step's data.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import corpus
from ..decode import TAGS
from ..encode import UNK
from ..errors import CorpusError
from ..model import MODEL_FILE, PLOT_FILE, save as save_model
from ..standards import DEFAULT_STANDARD
from .config import Config
from .data import Prepared, prepare
from .export import directory_mb, export_onnx, quantize_model
from .losses import LOSSES
from .metadata import metadata
from .network import Tagger, make_encoder, training_device
from .plot import plot
from .predict import decode_transitions, dev_by_standard, predict_words


def train(cfg: Config, sources: list[corpus.Source] | Path, out: Path, progress: bool = True) -> dict:
    """Trains on the sources (a bare path: one corpus of the default standard),
    writes the model directory `out` and returns its metadata."""
    if isinstance(sources, (str, Path)):
        sources = [corpus.Source(DEFAULT_STANDARD, Path(sources))]
    if not sources:
        raise CorpusError("no training corpus")
    seed(cfg)
    started = time.time()
    data = prepare(cfg, sources)
    fit = Fit.start(cfg, data)
    history = []
    print(f"{len(data.train_data.lines)} training sequences ({sum(map(len, data.train_data.ids))} characters) of "
          f"{len(data.standards)} standard(s) in {len(data.train_data.batches)} batches; "
          f"{len(data.dev_lines)} dev lines; "
          f"{data.vocab.size} chars, {sum(data.vocab.ngram_sizes.values())} n-grams", flush=True)
    for epoch in range(1, cfg.epochs + 1):
        history.append(fit.epoch(epoch, progress))
    if cfg.objective != "softmax":
        print_transitions(data.standards, fit)
    return ship(cfg, data, fit, history, out, started)


def seed(cfg: Config) -> None:
    """Every generator training draws from, seeded; deterministic kernels."""
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    torch.use_deterministic_algorithms(True)


@dataclass
class Fit:
    """The encoder, the transition matrices (one per standard, or one
    pooled), their optimisers and schedules, and the last epoch's dev results."""

    cfg: Config
    data: Prepared
    model: nn.Module
    trans: nn.Parameter  # (standards or 1, 4, 4)
    standard_input: bool
    device: torch.device
    dense: list[nn.Parameter]
    optimizers: list[torch.optim.Optimizer]
    schedules: list[torch.optim.lr_scheduler.LambdaLR]
    steps_per_epoch: int
    rng: random.Random
    predicted: list[list[str]] | None = None  # the dev lines as the last epoch cut them
    dev: dict | None = None  # their scores per standard
    decode_trans: np.ndarray | None = None  # (standards, 4, 4): the transitions decoding uses

    @classmethod
    def start(cls, cfg: Config, data: Prepared) -> "Fit":
        # One standard needs no standard input; standard_dim 0 pools the corpora
        # into one standard (one transition matrix, recorded under every name).
        standard_input = cfg.standard_dim > 0 and len(data.standards) > 1
        device = training_device(cfg)
        model = make_encoder(cfg, data.vocab, len(data.standards) if standard_input else 0).to(device)
        model.train()
        trans = nn.Parameter(torch.zeros(len(data.standards) if standard_input else 1, 4, 4, device=device))
        embeddings = [p for m in model.modules() if isinstance(m, nn.Embedding) and m.sparse
                      for p in m.parameters()]
        dense = [p for p in model.parameters() if all(p is not e for e in embeddings)]
        optimizers = [
            *([torch.optim.SparseAdam(embeddings, lr=cfg.lr)] if embeddings else []),
            torch.optim.Adam(
                [{"params": dense, "lr": cfg.lr}, {"params": [trans], "lr": cfg.lr * cfg.transition_lr_factor}]
            ),
        ]
        batches = len(data.train_data.batches)
        steps_per_epoch = batches if not cfg.max_steps else min(cfg.max_steps, batches)
        total = steps_per_epoch * cfg.epochs

        def warmup_cosine(step: int) -> float:
            return min(1.0, (step + 1) / 100) * 0.5 * (1 + math.cos(math.pi * min(step, total) / total))

        schedules = [torch.optim.lr_scheduler.LambdaLR(o, warmup_cosine) for o in optimizers]
        return cls(cfg, data, model, trans, standard_input, device, dense, optimizers, schedules, steps_per_epoch,
                   random.Random(cfg.seed))

    def epoch(self, epoch: int, progress: bool) -> dict:
        """One epoch's steps, then the dev lines cut and scored; its history entry."""
        from tqdm import tqdm

        cfg, train_data = self.cfg, self.data.train_data
        order = list(range(len(train_data.batches)))
        self.rng.shuffle(order)
        order = order[: self.steps_per_epoch]
        t0, total_loss, seen = time.time(), 0.0, 0
        bar = tqdm(order, desc=f"epoch {epoch}/{cfg.epochs}", disable=not progress, unit="batch")
        for b in bar:
            loss, n = self.step(train_data.batches[b])
            total_loss += loss * n
            seen += n
            bar.set_postfix(loss=f"{total_loss / seen:.4f}", chars_s=f"{seen / (time.time() - t0):.0f}")
        seconds = time.time() - t0
        self.decode_trans = decode_transitions(cfg, self.trans, len(self.data.standards))
        self.predicted = predict_words(self.model, self.data.dev_data, self.decode_trans)
        self.dev = dev = dev_by_standard(self.data, self.predicted)
        mean = lambda key: float(np.mean([d[key] for d in dev.values()]))  # noqa: E731
        per_standard = "  ".join(f"{name} {d['f1']:.4f}" for name, d in dev.items())
        print(f"epoch {epoch}: loss {total_loss / seen:.4f}  dev F1 {per_standard}"
              + (f"  (mean {mean('f1'):.4f})" if len(dev) > 1 else "")
              + f"  OOV-R {mean('oov_recall'):.4f}  {seconds:.0f}s", flush=True)
        return {
            "epoch": epoch,
            "loss": total_loss / seen,
            "seconds": round(seconds, 1),
            "batches": len(order),
            "dev_f1": mean("f1"),
            "dev_oov_recall": mean("oov_recall"),
            "dev_f1_by_standard": {name: d["f1"] for name, d in dev.items()},
        }

    def step(self, batch: list[int]) -> tuple[float, int]:
        """One optimiser step on a batch: (its loss, its characters)."""
        cfg, device, train_data = self.cfg, self.device, self.data.train_data
        chars, features, tags = (x.to(device) if isinstance(x, torch.Tensor) else [f.to(device) for f in x]
                                 for x in train_data.tensors(batch))
        standard = train_data.standard_tensor(batch).to(device)
        if cfg.ngram_dropout:
            n = len(cfg.ngram_orders)
            features[:n] = [
                torch.where((torch.rand(m.shape, device=device) < cfg.ngram_dropout) & (m != 0), UNK, m)
                for m in features[:n]
            ]
        mask = chars != 0
        row_trans = self.trans[standard] if self.standard_input else self.trans[0]
        loss = LOSSES[cfg.objective](self.model(chars, *features, standard=standard), tags, mask, row_trans)
        for o in self.optimizers:
            o.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.dense, 5.0)
        for o, sched in zip(self.optimizers, self.schedules):
            o.step()
            sched.step()
        return loss.item(), int(mask.sum())


def print_transitions(standards: list[str], fit: Fit) -> None:
    """The learned transition matrices, one per standard (or the pooled one)."""
    names = standards if fit.standard_input else [", ".join(standards) + (" (pooled)" if len(standards) > 1 else "")]
    for name, matrix in zip(names, fit.trans.detach().cpu().numpy()):
        print(f"learned transitions of {name} (rows: from, columns: to; s b m e):")
        for tag, row in zip(TAGS, matrix):
            print(f"  {tag}  " + "  ".join(f"{v:+7.3f}" for v in row))


def ship(cfg: Config, data: Prepared, fit: Fit, history: list[dict], out: Path, started: float) -> dict:
    """Writes the model directory: ONNX graph, plot, vocabulary, transitions,
    word lists, metadata; then the int8 model if asked. Returns the metadata."""
    out.mkdir(parents=True, exist_ok=True)
    model, fit.trans = fit.model.cpu(), fit.trans.cpu()
    worst = export_onnx(model, data.dev_data, data.vocab, out / MODEL_FILE)
    plot(history, out / PLOT_FILE)
    meta = metadata(cfg, data, model, fit.standard_input, history=history, dev=fit.dev, predicted=fit.predicted,
                    onnx_max_abs_diff=worst, seconds=time.time() - started)
    save_model(out, vocab=data.vocab, transitions=dict(zip(data.standards, fit.decode_trans)),
               train_words=data.train_words, metadata=meta, standard_words=data.standard_words)
    if cfg.quantize and isinstance(model, Tagger):
        meta = quantize_model(out, meta, data.splits, cfg)
    if cfg.pos_corpus:
        from .pos import PosConfig, train_pos

        pos_cfg = PosConfig(corpus=cfg.pos_corpus, max_steps=cfg.max_steps, train_lines=cfg.train_lines,
                            seed=cfg.seed, **({"epochs": 1} if cfg.max_steps else {}))
        meta = {**meta, "pos": train_pos(out, out, pos_cfg, progress=True)}
    print(f"model directory {out}: {directory_mb(out):.1f} MB ({MODEL_FILE} "
          f"{(out / MODEL_FILE).stat().st_size / 1e6:.1f} MB)", flush=True)
    return meta
