"""The model directory: its file names, metadata, default location, loading and saving.

A model directory holds

* ``model.onnx``: the tagger, per-character log-probabilities of s b m e;
* ``pos_head.npz`` (optional): the part-of-speech head (segcli.pos.WordHead:
  ``table`` int8 (buckets, width), ``scales`` and ``biases`` float32 (width,),
  ``weights`` float32 (width, tags), ``out_biases`` float32 (tags,));
  ``metadata["pos"]["tags"]`` names the tags, in column order;
* ``vocab.json`` and ``ngrams.npz``: the inputs' vocabulary (``encode.Vocab``);
* ``transitions.json``: the 4 x 4 tag transition scores for decoding, one
  matrix per annotation standard: ``{"pku": [[…], …], "weibo": …}`` (format 1:
  a bare 4 x 4 list, the one standard "pku");
* ``lookup.npy`` (optional): code point -> lookup form, traditional and variant
  characters to the simplified ones the model knows (see variants.py);
* ``train_words.txt``: the training words of every standard, one a line (for
  OOV figures); ``train_words_<standard>.txt``: those of one standard (format 2);
* ``metadata.json``: architecture, training settings and scores; in format 2,
  ``standards`` lists the annotation standards in id order, each with its
  description and corpora, and ``dev`` holds the dev scores per standard;
* ``training.png``: a plot of the training run (not read back).

A model trained on several standards (format 2) takes the standard's id as
one more ONNX input, ``standard``: int64, shape (batch,), the position of the
standard in ``Model.standards`` (when ``Model.standard_input``).

This module is the only one that knows these names and formats.
"""

from __future__ import annotations

import contextlib
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import files, tablecache
from .encode import KeyIndex, Vocab
from .errors import InputError, ModelError, UnknownStandardError
from .standards import DEFAULT_STANDARD, STANDARD_NAME, describe

MODEL_FILE = "model.onnx"
VOCAB_FILE = "vocab.json"
NGRAMS_FILE = "ngrams.npz"
TRANSITIONS_FILE = "transitions.json"
TRAIN_WORDS_FILE = "train_words.txt"
METADATA_FILE = "metadata.json"
PLOT_FILE = "training.png"
LOOKUP_FILE = "lookup.npy"
POS_HEAD_FILE = "pos_head.npz"
# A graph of seg 0.x before the word head had its tagging head inside, run
# only when this bool input was true: such a graph is fed false.
WITH_POS_INPUT = "with_pos"
FORMAT = 2  # metadata["format"] of the models save() writes: the version of this layout
FORMATS = (1, 2)  # the versions load() reads

# What reading a damaged file can raise, besides what load() checks itself.
_READ_ERRORS = (OSError, ValueError, TypeError, KeyError, IndexError, EOFError, zipfile.BadZipFile)


def default_dir() -> Path:
    """The shipped model: the installed package's ``segcli/models``, else
    (in a source checkout) the repository's top-level ``models/``."""
    installed = Path(__file__).parent / "models"
    return installed if installed.is_dir() else Path(__file__).parent.parent / "models"


def train_words_file(standard: str) -> str:
    """The file name of one standard's training words (format 2)."""
    return f"train_words_{standard}.txt"


@dataclass(frozen=True, eq=False)
class Model:
    """A loaded model directory (all but the ONNX graph, which the scorer opens)."""

    directory: Path
    metadata: dict
    vocab: Vocab
    transitions: dict[str, np.ndarray]  # standard -> float32 (4, 4), in id order
    standards: tuple[str, ...] = (DEFAULT_STANDARD,)  # position = the standard's id
    standard_input: bool = False  # does the ONNX graph take the "standard" input
    descriptions: dict[str, str] = field(default_factory=dict)  # standard -> description ("" if none)
    has_pos_head: bool = False  # is there a POS_HEAD_FILE (and metadata["pos"] names its tags)

    @property
    def format(self) -> int:
        return int(self.metadata.get("format", 1))

    @property
    def default_standard(self) -> str:
        """The first standard (pku for the shipped recipe)."""
        return self.standards[0]

    def standard_id(self, standard: str | None = None) -> int:
        """The id to feed as the "standard" input (default: the default
        standard); a name the model does not know raises ModelError."""
        if standard is None:
            return 0
        try:
            return self.standards.index(standard)
        except ValueError:
            raise UnknownStandardError(f"unknown standard {standard!r}; this model knows: "
                             f"{', '.join(self.standards)}") from None

    def dev_scores(self, standard: str | None = None) -> dict | None:
        """The dev scores recorded for a standard (default: the default
        standard), as metadata["dev"] holds them in either format; None if absent."""
        index = self.standard_id(standard)
        dev = self.metadata.get("dev")
        if not isinstance(dev, dict):
            return None
        if self.format == 1:
            return dev
        return dev.get(self.standards[index])

    @property
    def pos_tags(self) -> tuple[str, ...] | None:
        """The part-of-speech tags of the head, in its column order
        (metadata["pos"]["tags"]: PKU's tag set, whichever standard cuts);
        None for a model without a tagging head."""
        pos = self.metadata.get("pos")
        return tuple(pos["tags"]) if self.has_pos_head and isinstance(pos, dict) else None

    def pos_head(self) -> dict[str, np.ndarray]:
        """The arrays of POS_HEAD_FILE (see the module docstring), checked
        against each other and the tags: ModelError naming the file if not."""
        path = self.directory / POS_HEAD_FILE
        tags = self.pos_tags
        if tags is None:
            raise ModelError(f"cannot load model: {path.name}: the model has no part-of-speech head")
        with _reading(path):
            if not zipfile.is_zipfile(path):  # np.load would report it as pickled data
                raise _damaged(path, "not an .npz archive")
            with np.load(path, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in _POS_HEAD_ARRAYS if name in archive.files}
        if len(arrays) != len(_POS_HEAD_ARRAYS) or any(arrays[n].dtype != t for n, t in _POS_HEAD_ARRAYS.items()):
            raise _damaged(path, f"expected the arrays {', '.join(_POS_HEAD_ARRAYS)} (int8 table, float32 others)")
        table = arrays["table"]
        buckets = table.shape[0] if table.ndim == 2 else 0
        width = table.shape[1] if table.ndim == 2 else 0
        if (not buckets or buckets & (buckets - 1) or buckets > 1 << 30 or not width
                or arrays["scales"].shape != (width,)
                or arrays["biases"].shape != (width,) or arrays["weights"].shape != (width, len(tags))
                or arrays["out_biases"].shape != (len(tags),)):
            raise _damaged(path, f"expected a (power of two up to 2**30, width) table and a head over {len(tags)} tags")
        return {name: np.ascontiguousarray(a) for name, a in arrays.items()}

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

    @property
    def window(self) -> int:
        """An attention encoder's longest row (0 for a convolutional one)."""
        return int(self.metadata["architecture"].get("window", 0))

    def train_words(self, standard: str | None = None) -> set[str] | None:
        """The words the model was trained on: of every standard (None), or of
        one (an unknown name raises ModelError); None if the directory has no list."""
        path = self.directory / TRAIN_WORDS_FILE
        if standard is not None:
            self.standard_id(standard)
            if self.format >= 2:
                path = self.directory / train_words_file(standard)
        if not path.exists():
            return None
        from .wordlist import read_word_list  # here: only OOV figures and search mode read these

        with _reading(path):
            return read_word_list(path)


@contextlib.contextmanager
def _reading(path: Path):
    """Turns what reading ``path`` raises into a one-line ModelError naming it."""
    try:
        yield
    except ModelError:
        raise
    except InputError as e:  # what wordlist's readers raise, the file already named
        raise ModelError(f"cannot load model: {e}") from None
    except UnicodeDecodeError as e:
        raise _damaged(path, f"invalid UTF-8 at byte {e.start}") from None
    except OSError as e:
        raise _damaged(path, files.reason(e)) from None
    except _READ_ERRORS as e:
        raise _damaged(path, (str(e).strip().splitlines() or [type(e).__name__])[0]) from None


#: How a model file that cannot be read, or holds what it must not, is reported.
_CANNOT_LOAD = "cannot load model: {name}: {reason}"


def _damaged(path: Path, reason: str) -> ModelError:
    return ModelError(_CANNOT_LOAD.format(name=path, reason=reason))


def _read_json(path: Path):
    text = files.read_text(path, ModelError, _CANNOT_LOAD)
    with _reading(path):
        return json.loads(text)


_KEY_GROUPS = ("order", "words", "lexicon")  # ngrams.npz: order_N (n-gram keys), words_N, lexicon_N (word keys)


def _key_members(archive) -> list[list]:
    """[name, CRC-32, size] of each key array in the open ngrams.npz (other
    members are not ours to read); ValueError for a key array's bad name."""
    members = []
    for info in zipfile.ZipFile(archive).infolist():
        group, _, rest = info.filename.partition("_")
        if group in _KEY_GROUPS and rest.endswith(".npy"):
            int(rest.removesuffix(".npy"))  # its order or length
            members.append([info.filename, info.CRC, info.file_size])
    return members


def _read_ngrams(archive, names: set[str]) -> dict[str, np.ndarray]:
    """The named arrays of the open ngrams.npz."""
    archive.seek(0)
    with np.load(archive) as stored:
        return {name: stored[name] for name in names}


def _key_groups(arrays: Mapping[str, np.ndarray]) -> tuple[dict[int, np.ndarray], ...]:
    """(n-gram keys by order, word keys by length, lexicon word keys by length)."""
    return tuple({int(name.partition("_")[2]): keys for name, keys in arrays.items() if name.partition("_")[0] == group}
                 for group in _KEY_GROUPS)


_CACHED_KEYS = "keys/"  # the table cache holds a large model's keys too, under these names


def _cached(members: list, chars: str) -> tuple[str | None, dict[str, np.ndarray] | None]:
    """(the table cache's key, what it holds for this model) for a model
    large enough to cache; (None, None) for a small one."""
    if sum(size for _, _, size in members) // 8 < tablecache.MIN_KEYS:
        return None, None
    key = tablecache.key_of([KeyIndex.LAYOUT, len(chars), members])
    return key, tablecache.load(key)


def architecture(recorded: Mapping, *, window: int = 0) -> dict:
    """metadata["architecture"], the one description of the network the
    runtime reads: ``recorded`` (what training records of it, in its order)
    with at least ``context`` (characters on each side that can influence a
    position's scores), ``kernel`` and ``dilations`` (the convolutions:
    Model.gap) and, in format 2, ``standard_input`` (does the graph take the
    "standard" input). ``window`` > 0 makes it an attention encoder's, whose
    longest row that is: not a convolution, so no receptive field and no gap
    between packed lines (kernel 1, dilations [1], context 0); the runtime
    gives each line (or window of one) a row of its own. ValueError if
    load() would refuse the result."""
    result = dict(recorded)
    if window:
        result.update(kernel=1, dilations=[1], context=0, window=window)
    _check_architecture(result)
    if not isinstance(result.get("standard_input", False), bool):
        raise ValueError("architecture.standard_input is not true or false")
    return result


_POS_HEAD_ARRAYS = {"table": np.int8, "scales": np.float32, "biases": np.float32, "weights": np.float32,
                    "out_biases": np.float32}  # POS_HEAD_FILE's arrays and their types


def _check_pos(path: Path, pos) -> None:
    """A damaged-file ModelError unless metadata["pos"] is absent or names
    its tags: distinct non-empty strings (the graph's "pos" columns)."""
    if pos is None:
        return
    tags = pos.get("tags") if isinstance(pos, dict) else None
    if (not isinstance(tags, list) or not tags or not all(isinstance(t, str) and t and t.isprintable()
                                                          and not any(c.isspace() for c in t) for t in tags)
            or len(set(tags)) != len(tags)):
        raise _damaged(path, 'expected "pos": {"tags": [...distinct tag names...], ...}')


def _check_architecture(architecture) -> None:
    """ValueError unless Model.context, .gap and .window can compute from ``architecture``."""
    try:
        int(architecture["context"])
        architecture["kernel"] // 2 * max(1, *architecture["dilations"])
        int(architecture.get("window", 0))
    except (KeyError, IndexError, TypeError, ValueError):
        raise ValueError("no valid architecture (context, kernel, dilations, window)") from None


def load(directory: str | Path | None = None) -> Model:
    """The model in ``directory`` (default: ``default_dir()``). A missing,
    incomplete or damaged directory raises ModelError, one line naming the file."""
    directory = Path(directory) if directory is not None else default_dir()

    path = directory / METADATA_FILE
    metadata = _read_json(path)
    if not isinstance(metadata, dict):
        raise _damaged(path, "expected a JSON object")
    fmt = metadata.get("format", 1)
    if fmt not in FORMATS or isinstance(fmt, bool):
        raise _damaged(path, f"format {fmt!r} is not one this seg reads ({', '.join(map(str, FORMATS))})")
    try:
        _check_architecture(metadata.get("architecture"))
    except ValueError as e:
        raise _damaged(path, str(e)) from None
    _check_pos(path, metadata.get("pos"))
    if fmt == 1:
        standards = (DEFAULT_STANDARD,)
        descriptions = {DEFAULT_STANDARD: describe(DEFAULT_STANDARD)}
        standard_input = False
    else:
        standards, descriptions = _standards(path, metadata)
        standard_input = metadata["architecture"].get("standard_input", False)
        if not isinstance(standard_input, bool):
            raise _damaged(path, "architecture.standard_input is not true or false")

    path = directory / VOCAB_FILE
    chars = _read_json(path)
    if not isinstance(chars, dict) or not isinstance(chars.get("chars"), str):
        raise _damaged(path, "no chars string")
    path = directory / NGRAMS_FILE
    archive = files.open_binary(path, ModelError, _CANNOT_LOAD)
    # One open file for the directory and the arrays: the cache key and
    # what is read are of the same file, even if it is replaced meanwhile.
    with archive:
        with _reading(path):
            if not zipfile.is_zipfile(archive):  # np.load would try to unpickle it
                raise _damaged(path, "not an .npz archive")
            members = _key_members(archive)
        # A large model's keys and tables come from the per-user cache once
        # they were read, checked and built there (segcli.tablecache), keyed
        # by the archive's own CRC-32s: a start then reads neither.
        cache_key, cached = _cached(members, chars["chars"])
        names = {name.removesuffix(".npy") for name, _, _ in members}
        with _reading(path):
            if cached is not None and {n[len(_CACHED_KEYS):] for n in cached if n.startswith(_CACHED_KEYS)} == names:
                arrays = {name: cached[_CACHED_KEYS + name] for name in names}
            else:
                cached = None
                arrays = _read_ngrams(archive, names)
                # Checked here, where the damaged file can be named (the hash tables refuse such keys).
                if any(not isinstance(k, np.ndarray) or k.ndim != 1 or k.dtype.kind not in "iu"
                       or (len(k) and (k.min() <= 0 or k.max() > np.iinfo(np.int64).max)) for k in arrays.values()):
                    raise _damaged(path, "keys must be positive integers")
            ngram_keys, word_keys, lexicon_keys = _key_groups(arrays)
    size = len(chars["chars"]) + 2  # encode.Vocab.size: the base of the keys' digits
    if any(n < 2 or n >= 63 or size ** n >= 2**63 for group in (ngram_keys, word_keys, lexicon_keys) for n in group):
        raise _damaged(path, "n-gram orders and word lengths must be 2 or more and fit 64-bit keys")
    lookup = None
    path = directory / LOOKUP_FILE
    if path.exists():  # models trained before lookup tables have none
        with _reading(path):
            sources, targets = load_lookup(path)
        if len(sources) and (min(sources.min(), targets.min()) < 0 or max(sources.max(), targets.max()) >= 0x110000):
            raise _damaged(path, "code points out of range")
        lookup = dict(zip(sources.tolist(), targets.tolist()))
    vocab = Vocab(chars["chars"], ngram_keys, word_keys, lookup, lexicon_keys, tables=cached)
    if cache_key is not None:
        tables = vocab.tables()
        if cached is None or any(cached.get(name) is not table for name, table in tables.items()):
            tablecache.store(cache_key, {**tables, **{_CACHED_KEYS + name: np.asarray(a, dtype=np.int64)
                                                      for name, a in arrays.items()}})

    path = directory / TRANSITIONS_FILE
    values = _read_json(path)
    if fmt == 1:
        transitions = {DEFAULT_STANDARD: _matrix(path, values, "expected a 4 x 4 matrix of numbers")}
    else:
        expected = f"expected a 4 x 4 matrix of numbers for each of {', '.join(standards)}"
        if not isinstance(values, dict) or sorted(values) != sorted(standards):
            raise _damaged(path, expected)
        transitions = {name: _matrix(path, values[name], expected) for name in standards}

    path = directory / MODEL_FILE
    with _reading(path):
        path.stat()  # the scorer opens it; a missing file is reported here, by name

    has_pos_head = metadata.get("pos") is not None and (directory / POS_HEAD_FILE).is_file()
    return Model(directory, metadata, vocab, transitions, standards, standard_input, descriptions, has_pos_head)


def _matrix(path: Path, values, expected: str) -> np.ndarray:
    try:
        matrix = np.array(values, dtype=np.float32)
    except (TypeError, ValueError):
        matrix = None
    if matrix is None or matrix.shape != (4, 4):
        raise _damaged(path, expected)
    return matrix


def _standards(path: Path, metadata: dict) -> tuple[tuple[str, ...], dict[str, str]]:
    """The standards (in id order) and descriptions of a format-2 metadata.json."""
    entries = metadata.get("standards")
    names = []
    descriptions = {}
    if isinstance(entries, list):
        for entry in entries:
            name = entry.get("name") if isinstance(entry, dict) else None
            if not isinstance(name, str) or not STANDARD_NAME.fullmatch(name) or name in descriptions:
                break
            description = entry.get("description", "")
            names.append(name)
            descriptions[name] = description if isinstance(description, str) else ""
        else:
            if names:
                return tuple(names), descriptions
    raise _damaged(path, 'expected "standards": [{"name": …}, …], distinct names of a-z 0-9 _')


def save(directory: str | Path, *, vocab: Vocab, transitions, train_words, metadata: dict,
         standard_words: Mapping[str, object] | None = None) -> None:
    """Writes everything of a model directory but the ONNX graph (``MODEL_FILE``)
    and the plot (``PLOT_FILE``), which their producers write themselves.

    The layout follows ``metadata["format"]`` (default FORMAT). Format 2:
    ``transitions`` maps each standard of ``metadata["standards"]`` to its
    4 x 4 matrix, ``standard_words`` (optional) each standard to its training
    words. Format 1: ``transitions`` is one 4 x 4 matrix (or a mapping with one)."""
    directory = Path(directory)
    fmt = metadata.get("format", FORMAT)
    if fmt == 1:
        if isinstance(transitions, Mapping):
            if len(transitions) != 1:
                raise ValueError("transitions: format 1 holds one matrix")
            transitions = next(iter(transitions.values()))
        matrices = _checked(transitions, "transitions")
    elif fmt == 2:
        if not isinstance(transitions, Mapping):
            raise ValueError("transitions: format 2 needs a mapping of standard -> 4 x 4 matrix")
        names = [s["name"] for s in metadata.get("standards", [])]
        if sorted(names) != sorted(transitions):
            raise ValueError(f"transitions: expected the standards {names}, got {list(transitions)}")
        matrices = {name: _checked(transitions[name], f"transitions[{name!r}]") for name in names}
    else:
        raise ValueError(f"format {fmt!r}: save() writes formats {FORMATS}")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / VOCAB_FILE).write_text(json.dumps({"chars": vocab.chars}, ensure_ascii=False), encoding="utf-8")
    np.savez(
        directory / NGRAMS_FILE,
        **{f"order_{n}": k for n, k in vocab.ngram_keys.items()},
        **{f"words_{n}": k for n, k in vocab.word_keys.items()},
        **{f"lexicon_{n}": k for n, k in vocab.lexicon_keys.items()},
    )
    if vocab.lookup:
        save_lookup(vocab.lookup, directory / LOOKUP_FILE)
    if isinstance(matrices, dict):
        text = json.dumps({name: m.tolist() for name, m in matrices.items()})
    else:
        text = json.dumps(matrices.tolist())
    (directory / TRANSITIONS_FILE).write_text(text + "\n")
    (directory / TRAIN_WORDS_FILE).write_text("\n".join(sorted(train_words)) + "\n", encoding="utf-8")
    for name, words in (standard_words or {}).items():
        if fmt == 1 or not STANDARD_NAME.fullmatch(name):
            raise ValueError(f"standard_words: no per-standard word list {name!r} in format {fmt}")
        (directory / train_words_file(name)).write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")
    save_metadata(directory, metadata)


def save_metadata(directory: str | Path, metadata: dict) -> None:
    """(Re)writes the directory's metadata, e.g. after a step that follows save()."""
    (Path(directory) / METADATA_FILE).write_text(
        json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _checked(matrix, name: str) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.shape != (4, 4):
        raise ValueError(f"{name}: expected shape (4, 4), got {matrix.shape}")
    return matrix


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
