#!/usr/bin/env python
"""What the dictionary does, as digests to compare between two commits: run it before and after a change
to the dictionary's code and diff the outputs (issue 27: "output byte-identical before and after").

    python benchmarks/experiments/dict_identity.py > before.txt   # at the old commit
    python benchmarks/experiments/dict_identity.py > after.txt    # at the new one
    diff before.txt after.txt

Cut: the first 400,000 characters of the benchmark text (common.news, seed as benchmarks/run.py's), with
jieba's own dict.txt (its frequency lines decided by the shipped model), loaded cold and then from the
cache; two small files of bare, force, 0, numeric, tagged and jieba-form lines, then add_word/remove_word
of every kind; jieba's dict.txt with one of them and runtime changes. Printed: the sha256 of each cut
output, the entries, the tags' digest and a few look-ups (``in``, ``tag_of``, search mode).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import common


def main() -> None:
    os.environ["SEG_CACHE_DIR"] = tempfile.mkdtemp(prefix="seg-dict-identity-")  # cold first, then cached
    import jieba

    from segcli import Segmenter

    jieba_dict = str(Path(jieba.__file__).resolve().parent / "dict.txt")
    lines = common.text(common.news(5_000_000))[:400_000].splitlines()
    folder = Path(tempfile.mkdtemp(prefix="seg-dict-identity-files-"))
    a, b = folder / "a.txt", folder / "b.txt"
    a.write_text("南京市长\n长江大桥,force\n大桥,0\n市长,5\n人民,0.2\n共和国\n发展,force,v\n经济 3 n\n", encoding="utf-8")
    b.write_text("南京市长,0\n北京\n中国人民,100\n", encoding="utf-8")

    def digest(segmenter) -> str:
        out = "".join(" ".join(words) + "\n" for words in segmenter.cut_lines(lines)).encode("utf-8")
        return hashlib.sha256(out).hexdigest()[:16]

    def tags(segmenter) -> str:
        return hashlib.sha256(repr(sorted(segmenter._dictionary.tags.items())).encode()).hexdigest()[:12]

    for run in ("cold", "cached"):
        s = Segmenter(dicts=[jieba_dict])
        print("jieba", run, digest(s), len(s.entries), s.duplicate_words, tags(s))
    s = Segmenter(dicts=[a, b])
    print("a+b", digest(s), sorted(s.entries.items()), tags(s))
    s.add_word("经济发展", "force")
    s.add_word("中", 0)
    s.add_word("报道", None, "v")
    s.remove_word("北京")
    s.remove_word("大桥")
    print("a+b changed", digest(s), sorted(s.entries.items()), tags(s))
    s = Segmenter(dicts=[jieba_dict, a])
    s.add_word("新闻", "force")
    s.remove_word("记者")
    print("jieba+a changed", digest(s), len(s.entries), tags(s))
    for word in ["中国", "记者", "发展", "南京市长", "x"]:
        print(word, s.entries.get(word), word in s._dictionary, s._dictionary.tag_of(word))
    print(s.cut("南京市长江大桥发展经济新闻记者", mode="search"))


if __name__ == "__main__":
    main()
