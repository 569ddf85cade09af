"""seg as a Hugging Face ``tokenizers`` pre-tokenizer (``pip install "seg[hf]"``).

    from tokenizers import Tokenizer
    tokenizer.pre_tokenizer = segcli.hf.pre_tokenizer()

Pre-tokens are seg's words, with offsets into the original string;
whitespace is dropped (as the Whitespace pre-tokenizer does).

A custom pre-tokenizer cannot be serialised: before ``tokenizer.save`` swap
in a built-in one (e.g. ``pre_tokenizers.Whitespace()``), and after loading
swap seg's back in. BERT's normaliser with ``handle_chinese_chars=True``
(its default) puts a space around every Chinese character before the
pre-tokenizer runs, which leaves seg nothing to cut but single characters:
use ``BertNormalizer(handle_chinese_chars=False)``.
"""

from __future__ import annotations

import warnings

from .segmenter import Segmenter

SPACED_OUT = ("seg pre-tokenizer: every Chinese character arrives with spaces around it, so seg can only "
              "cut single characters; the normaliser probably is BertNormalizer(handle_chinese_chars=True): "
              "set handle_chinese_chars=False")


def pre_tokenizer(segmenter: Segmenter | None = None):
    """A PreTokenizer that splits text into seg's words (default: a Segmenter
    with the shipped model)."""
    from tokenizers.pre_tokenizers import PreTokenizer

    return PreTokenizer.custom(SegPreTokenizer(segmenter if segmenter is not None else Segmenter()))


class SegPreTokenizer:
    """What PreTokenizer.custom wraps: pre_tokenize(PreTokenizedString)."""

    def __init__(self, segmenter: Segmenter):
        self.segmenter = segmenter
        self.warned = False

    def split(self, index: int, normalized):
        text = str(normalized)
        if not self.warned and spaced_out(text):
            self.warned = True
            warnings.warn(SPACED_OUT, stacklevel=2)
        return [normalized[a:b] for a, b in self.segmenter.spans(text)]

    def pre_tokenize(self, pretok) -> None:
        pretok.split(self.split)


def _is_han(char: str) -> bool:
    code = ord(char)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2FA1F


def spaced_out(text: str) -> bool:
    """Whether the text looks like BertNormalizer(handle_chinese_chars=True)
    output: at least four Chinese characters and none next to another."""
    han = [i for i, c in enumerate(text) if _is_han(c)]
    if len(han) < 4:
        return False
    return not any(b == a + 1 for a, b in zip(han, han[1:])) and all(
        text[i + 1 : i + 2] in ("", " ") for i in han)
