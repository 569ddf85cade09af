"""The model directory: its file names, metadata, default location, loading and saving.

A model directory holds

* ``model.onnx``: the tagger, per-character log-probabilities of s b m e;
* ``vocab.json`` and ``ngrams.npz``: the inputs' vocabulary (``encode.Vocab``);
* ``transitions.json``: the 4 x 4 tag transition scores for decoding;
* ``lookup.npy`` (optional): code point -> lookup form, traditional and variant
  characters to the simplified ones the model knows (see variants.py);
* ``train_words.txt``: the training words, one a line (for OOV figures);
* ``metadata.json``: architecture, training settings and scores;
* ``training.png``: a plot of the training run (not read back).

This module is the only one that knows these names and formats.
"""

from __future__ import annotations

import contextlib
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .encode import Vocab
from .errors import ModelError
from .evaluate import read_word_list

MODEL_FILE = "model.onnx"
VOCAB_FILE = "vocab.json"
NGRAMS_FILE = "ngrams.npz"
TRANSITIONS_FILE = "transitions.json"
TRAIN_WORDS_FILE = "train_words.txt"
METADATA_FILE = "metadata.json"
PLOT_FILE = "training.png"
LOOKUP_FILE = "lookup.npy"
FORMAT = 1  # metadata["format"]: the version of this layout

# What reading a damaged file can raise, besides what load() checks itself.
_READ_ERRORS = (OSError, ValueError, TypeError, KeyError, IndexError, EOFError, zipfile.BadZipFile)


def default_dir() -> Path:
    """The shipped model: the installed package's ``segcli/models``, else
    (in a source checkout) the repository's top-level ``models/``."""
    installed = Path(__file__).parent / "models"
    return installed if installed.is_dir() else Path(__file__).parent.parent / "models"


@dataclass(frozen=True, eq=False)
class Model:
    """A loaded model directory (all but the ONNX graph, which the scorer opens)."""

    directory: Path
    metadata: dict
    vocab: Vocab
    transitions: np.ndarray  # float32 (4, 4)

    @property
    def onnx_path(self) -> Path:
        return self.directory / MODEL_FILE

    @property
    def context(self) -> int:
        """Characters on each side that can influence a position's scores."""
        return int(self.metadata["architecture"]["context"])

    @property
    def gap(self) -> int:
        """PAD positions that keep sequences laid end to end apart: as many
        as one convolution reaches (the model zeroes PAD after every layer)."""
        architecture = self.metadata["architecture"]
        return architecture["kernel"] // 2 * max(1, *architecture["dilations"])

    def train_words(self) -> set[str] | None:
        """The words the model was trained on; None if the directory has no list."""
        path = self.directory / TRAIN_WORDS_FILE
        if not path.exists():
            return None
        with _reading(path):
            return read_word_list(path)


@contextlib.contextmanager
def _reading(path: Path):
    """Turns what reading ``path`` raises into a one-line ModelError naming it."""
    try:
        yield
    except ModelError:
        raise
    except UnicodeDecodeError as e:
        raise _damaged(path, f"invalid UTF-8 at byte {e.start}") from None
    except OSError as e:
        raise _damaged(path, e.strerror or str(e)) from None
    except _READ_ERRORS as e:
        raise _damaged(path, (str(e).strip().splitlines() or [type(e).__name__])[0]) from None


def _damaged(path: Path, reason: str) -> ModelError:
    return ModelError(f"cannot load model: {path}: {reason}")


def _read_json(path: Path):
    with _reading(path):
        return json.loads(path.read_text(encoding="utf-8"))


def _read_ngrams(path: Path) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """The n-gram keys by order and the word keys by length."""
    with np.load(path) as stored:
        tables = {name: stored[name] for name in stored.files}
    pick = lambda prefix: {int(k.split("_")[1]): v for k, v in tables.items() if k.startswith(prefix)}
    return pick("order_"), pick("words_")


def load(directory: str | Path | None = None) -> Model:
    """The model in ``directory`` (default: ``default_dir()``). A missing,
    incomplete or damaged directory raises ModelError, one line naming the file."""
    directory = Path(directory) if directory is not None else default_dir()

    path = directory / METADATA_FILE
    metadata = _read_json(path)
    try:  # what Model.context and Model.gap compute
        architecture = metadata["architecture"]
        int(architecture["context"])
        architecture["kernel"] // 2 * max(1, *architecture["dilations"])
    except (KeyError, IndexError, TypeError, ValueError):
        raise _damaged(path, "no valid architecture (context, kernel, dilations)") from None

    path = directory / VOCAB_FILE
    chars = _read_json(path)
    if not isinstance(chars, dict) or not isinstance(chars.get("chars"), str):
        raise _damaged(path, "no chars string")
    path = directory / NGRAMS_FILE
    with _reading(path):
        with path.open("rb") as f:
            if not zipfile.is_zipfile(f):  # np.load would try to unpickle it
                raise _damaged(path, "not an .npz archive")
        ngram_keys, word_keys = _read_ngrams(path)
    lookup = None
    path = directory / LOOKUP_FILE
    if path.exists():  # models trained before lookup tables have none
        with _reading(path):
            sources, targets = load_lookup(path)
        if len(sources) and (min(sources.min(), targets.min()) < 0 or max(sources.max(), targets.max()) >= 0x110000):
            raise _damaged(path, "code points out of range")
        lookup = dict(zip(sources.tolist(), targets.tolist()))
    vocab = Vocab(chars["chars"], ngram_keys, word_keys, lookup)

    path = directory / TRANSITIONS_FILE
    values = _read_json(path)
    try:
        transitions = np.array(values, dtype=np.float32)
    except (TypeError, ValueError):
        transitions = None
    if transitions is None or transitions.shape != (4, 4):
        raise _damaged(path, "expected a 4 x 4 matrix of numbers")

    path = directory / MODEL_FILE
    with _reading(path):
        path.stat()  # the scorer opens it; a missing file is reported here, by name

    return Model(directory, metadata, vocab, transitions)


def save(directory: str | Path, *, vocab: Vocab, transitions: np.ndarray, train_words, metadata: dict) -> None:
    """Writes everything of a model directory but the ONNX graph (``MODEL_FILE``)
    and the plot (``PLOT_FILE``), which their producers write themselves."""
    directory = Path(directory)
    transitions = np.asarray(transitions, dtype=np.float32)
    if transitions.shape != (4, 4):
        raise ValueError(f"transitions: expected shape (4, 4), got {transitions.shape}")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / VOCAB_FILE).write_text(json.dumps({"chars": vocab.chars}, ensure_ascii=False), encoding="utf-8")
    np.savez(
        directory / NGRAMS_FILE,
        **{f"order_{n}": k for n, k in vocab.ngram_keys.items()},
        **{f"words_{n}": k for n, k in vocab.word_keys.items()},
    )
    if vocab.lookup:
        save_lookup(vocab.lookup, directory / LOOKUP_FILE)
    (directory / TRANSITIONS_FILE).write_text(json.dumps(transitions.tolist()) + "\n")
    (directory / TRAIN_WORDS_FILE).write_text("\n".join(sorted(train_words)) + "\n", encoding="utf-8")
    (directory / METADATA_FILE).write_text(
        json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def save_lookup(mapping: Mapping[int, int], path: str | Path) -> None:
    """Writes the table as an (N, 2) int32 .npy array sorted by source."""
    rows = sorted((int(s), int(d)) for s, d in mapping.items())
    array = np.array(rows, dtype=np.int32).reshape(-1, 2)
    with open(path, "wb") as f:  # np.save on a file object adds no ".npy"
        np.save(f, array, allow_pickle=False)


def load_lookup(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(source code points, lookup-form code points), int32, sorted by source."""
    array = np.load(path, allow_pickle=False)
    if array.ndim != 2 or array.shape[1] != 2 or array.dtype.kind not in "iu":
        raise ValueError(f"{path}: not a lookup table (expected an (N, 2) integer array)")
    array = array.astype(np.int32, copy=False)
    return array[:, 0].copy(), array[:, 1].copy()
