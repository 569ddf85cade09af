"""The annotation standards seg knows by name: the default, their descriptions, the form of a name.

A runtime module: ``model.load`` reads a model's standards against these at
every start, and training records the descriptions in the model it writes.
"""

from __future__ import annotations

import re

#: The standard of ``seg train`` without --corpus or --recipe, and of a format-1 model.
#: It is also the shipped recipe's first standard, so the default for text of
#: unknown origin: weibo and ctb join more of today's words on their own, but
#: cut 这 个 and 一 个, which readers (and jieba, thulac) write whole; blends
#: of their embeddings with pku's give that up first
#: (benchmarks/experiments/everyday.md).
DEFAULT_STANDARD = "pku"

#: Annotation standards seg knows by name. Training accepts any name matching
#: STANDARD_NAME; these just come with a description.
STANDARDS: dict[str, str] = {
    "pku": "Peking University (SIGHAN 2005 PKU, People's Daily 1998): news",
    "weibo": "NLPCC 2016 Weibo: social media, close to PKU",
    "ctb": "Penn Chinese Treebank 6 and the Weibo Treebank: news, broadcast, magazines, Weibo",
    "sxu": "SIGHAN 2008 SXU (Shanxi University): news",
    "ud": "Universal Dependencies Chinese: Wikipedia",
}

STANDARD_NAME = re.compile(r"[a-z0-9_]+")


def describe(standard: str) -> str:
    """The description of a known standard, "" for any other."""
    return STANDARDS.get(standard, "")


def canonical(name: str) -> str:
    """A standard's name as models and messages write it: names are matched
    whatever the case of their ASCII letters (PKU is pku)."""
    return name.lower() if name.isascii() else name
