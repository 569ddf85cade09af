"""seg as a spaCy tokenizer (``pip install "seg[spacy]"``).

Registered through the ``spacy_tokenizers`` entry point, so a config names it
with nothing imported by hand::

    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {
        "@tokenizers": "seg.Tokenizer.v1", "standard": "pku", "dicts": []}}})

``nlp.to_disk`` saves the dictionary in force (entries added at run time
included) as data, not as file paths, and ``spacy.load`` restores it.

With a model that has a tagging head (the shipped one does), each token's
``tag_`` is its PKU part-of-speech tag and ``pos_`` its Universal POS, by
the table in segcli/pos.py (whitespace tokens: ``_SP`` and ``SPACE``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Union

from .segmenter import Segmenter

_DICTIONARY_FILE = "dictionary.json"
_SPACE_TAG, _SPACE_POS = "_SP", "SPACE"  # what spaCy's own pipelines give whitespace tokens


def create_tokenizer(standard: Optional[str] = None, dicts: List[str] = [],  # noqa: B006 (spaCy configs pass lists)
                     entries: Dict[str, Union[float, str]] = {},  # noqa: B006
                     model: Optional[str] = None) -> Callable:
    """The ``seg.Tokenizer.v1`` factory: nlp -> SegTokenizer."""

    def make(nlp) -> SegTokenizer:
        return SegTokenizer(nlp.vocab, Segmenter(model, dicts, standard=standard, entries=entries))

    return make


class SegTokenizer:
    """Cuts a text into seg's words; whitespace is kept as spaCy keeps it
    (a token's trailing space, or whitespace tokens), so doc.text == text."""

    def __init__(self, vocab, segmenter: Segmenter | None = None):
        self.vocab = vocab
        self.segmenter = segmenter if segmenter is not None else Segmenter()

    def __call__(self, text: str):
        from spacy.tokens import Doc
        from spacy.util import get_words_and_spaces

        if self.segmenter.pos_tags is None:
            words, spaces = get_words_and_spaces(self.segmenter.cut(text), text)
            return Doc(self.vocab, words=words, spaces=spaces)
        from .pos import universal

        tagged = self.segmenter.tag(text)
        words, spaces = get_words_and_spaces([word for word, _ in tagged], text)
        # The whitespace tokens spaCy puts between words have no tag of seg's.
        word_tags = iter(tag for _, tag in tagged)
        tags = [_SPACE_TAG if word.isspace() else next(word_tags) for word in words]
        pos = [_SPACE_POS if word.isspace() else universal(tag, word) for word, tag in zip(words, tags)]
        return Doc(self.vocab, words=words, spaces=spaces, tags=tags, pos=pos)

    def pipe(self, texts: Iterable[str], batch_size: int = 1000):
        for text in texts:
            yield self(text)

    def __reduce__(self):
        return SegTokenizer, (self.vocab, self.segmenter)

    # -- serialisation: the dictionary in force, as data ------------------------

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        entries = {word: ("force" if k == float("inf") else k) for word, k in self.segmenter.entries.items()}
        tags = dict(self.segmenter._dictionary.tags)
        return json.dumps({"entries": entries, "tags": tags}, ensure_ascii=False).encode("utf-8")

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> SegTokenizer:
        saved = json.loads(data.decode("utf-8"))
        self.segmenter.replace_entries(saved["entries"], saved.get("tags"))  # saved before tags were: none
        return self

    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / _DICTIONARY_FILE).write_bytes(self.to_bytes())

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = ()) -> SegTokenizer:
        return self.from_bytes((Path(path) / _DICTIONARY_FILE).read_bytes())
