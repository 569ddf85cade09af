"""Soak: `seg --dict` over a long stream, peak RSS recorded every second.

    python benchmarks/soak.py                  # 1 GB, jieba's 349k-word dict.txt as the dictionary
    python benchmarks/soak.py --megabytes 200  # a shorter run

The stream is the PKU dev text repeated (generated on the fly, never on disk);
the dictionary is jieba's dict.txt (every word, multiplier 10) when jieba is
installed, else 350,000 random Han words. Prints RSS over time (seg and its
worker processes together) and the peak, and fails if the output has a
different number of lines than the input.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import common


def dictionary(path: Path) -> str:
    """Writes the dictionary to path; what it is, in words."""
    words = common.jieba_dictionary(path)
    if words is not None:
        return f"jieba dict.txt, {words:,} words"
    common.random_dictionary(path, 350_000, seed=1)
    return "350,000 random Han words"


def rss_kb(pid: int) -> int:
    """Resident memory of pid and its children, in KiB."""
    total = 0
    for p in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def main() -> int:
    parser = common.parser(__doc__)
    parser.add_argument("--megabytes", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dict_path = Path(tmp) / "dict.txt"
        described = dictionary(dict_path)
        block = common.text(common.dev_lines()).encode()
        repeats = max(1, args.megabytes * 1_000_000 // len(block))
        env = common.child_env(SEG_CACHE_DIR=str(Path(tmp) / "cache"))
        command = [sys.executable, "-m", "segcli", "--dict", str(dict_path), "--jobs", str(args.jobs)]
        started = time.time()
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)

        def feed():
            for _ in range(repeats):
                proc.stdin.write(block)
            proc.stdin.close()

        lines = [0]

        def drain():
            for chunk in iter(lambda: proc.stdout.read(1 << 20), b""):
                lines[0] += chunk.count(b"\n")

        threads = [threading.Thread(target=feed), threading.Thread(target=drain)]
        for t in threads:
            t.start()
        samples = []
        while proc.poll() is None:
            samples.append((time.time() - started, rss_kb(proc.pid)))
            time.sleep(1)
        for t in threads:
            t.join()
        seconds = time.time() - started
    mb = repeats * len(block) / 1e6
    print(f"input: {mb:,.0f} MB ({repeats} copies of the PKU dev text); dictionary: {described}; "
          f"--jobs {args.jobs}; {seconds:.0f} s, {mb / seconds:.2f} MB/s; exit status {proc.returncode}")
    print("seconds  RSS MB")
    for t, kb in samples[:: max(1, len(samples) // 20)]:
        print(f"{t:7.0f}  {kb / 1024:6.0f}")
    peak = max(kb for _, kb in samples) / 1024 if samples else 0
    print(f"peak RSS: {peak:.0f} MB (sampled every second)")
    expected = repeats * block.count(b"\n")
    if proc.returncode != 0 or lines[0] != expected:
        print(f"FAILED: {lines[0]} output lines for {expected} input lines", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
