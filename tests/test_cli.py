"""The `seg` command: CliRunner for options and errors, real subprocesses for
pipes, signals, terminals and --jobs (stream.run and workers.run_parallel
themselves: test_stream.py, test_workers.py)."""

import json
import os
import re
import select
import signal
import subprocess
import threading
import time

import pytest
from conftest import DEV_LINES, SEG, cli_runner, dev_text

from segcli import __version__
from segcli.cli import main


def seg(*args, input=b""):
    result = cli_runner().invoke(main, list(args), input=input)
    # No exception may escape the command (CliRunner would otherwise turn it
    # into exit status 1 without a traceback on stderr).
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.stderr
    return result


def nonspace_bytes(data: bytes) -> bytes:
    """The bytes of `data` without the whitespace seg drops (input side)."""
    text = data.decode("utf-8", "surrogateescape")
    return "".join(c for c in text if not c.isspace()).encode("utf-8", "surrogateescape")


def expected_text(segmenter, lines, delimiter=" "):
    return "".join(delimiter.join(segmenter.cut(line)) + "\n" for line in lines).encode()


# --- the seed example, formats, options ------------------------------------------

def test_seed_example_with_dictionary(tmp_path):
    d = tmp_path / "dict.txt"
    d.write_text("微信号,10\n", encoding="utf-8")
    result = seg("--dict", str(d), input="扫描二维码，关注微信号。\n".encode())
    assert result.exit_code == 0
    assert " 微信号 " in result.stdout
    assert result.stdout.replace(" ", "") == "扫描二维码，关注微信号。\n"


@pytest.mark.parametrize("args", [[], ["cut"]])
def test_default_command_is_cut(segmenter, args):
    data = "\n".join(DEV_LINES).encode() + b"\n"
    result = seg(*args, input=data)
    assert result.exit_code == 0
    assert result.stdout_bytes == expected_text(segmenter, DEV_LINES)


@pytest.mark.parametrize("data, expected", [
    # One-character runs are one word whatever the model: exact output.
    (b"a\r\nb\r\n", b"a\nb\n"),  # CRLF accepted, LF written
    (b"a\r\nb", b"a\nb\n"),  # no final newline: one is added
    (b"\xef\xbb\xbfa\n", b"a\n"),  # BOM at the start dropped
    (b"a\n\xef\xbb\xbfb\n", b"a\n\xef\xbb\xbfb\n"),  # ... only there (U+FEFF is no space)
    (b"\xff\n\xc3\n\xed\n", b"\xff\n\xc3\n\xed\n"),  # invalid bytes kept
    (b"\n\n\n", b"\n\n\n"),  # empty lines kept
    (b"", b""),
    (b"a b\tc\n", b"a/b/c\n"),  # whitespace is a boundary and goes
    (b" \t \n", b"\n"),
])
def test_bytes_in_bytes_out(data, expected):
    result = seg("-d", "/", input=data)
    assert result.exit_code == 0
    assert result.stdout_bytes == expected


@pytest.mark.parametrize("data", [
    b"\xef\xbb\xbf\xe6\x89\xab\xe6\x8f\x8f\xff\xfe\xe4\xb8\xe4\xba\x8c\xe7\xbb\xb4\xe7\xa0\x81\r\n",
    "关注\udc80微信号 𠀀😀\x00 ok\r\n".encode("utf-8", "surrogateescape") * 3,
    b"\xc0\xaf\xe0\x80\xaf\xf8\x88\x80\x80\x80 \xf4\x90\x80\x80" + "中文".encode() + b"\n",
])
def test_invalid_utf8_passes_through(data):
    result = seg("-d", "|", input=data)
    assert result.exit_code == 0
    out = result.stdout_bytes
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    assert out.replace(b"|", b"") == b"\n".join(nonspace_bytes(line) for line in body.split(b"\n")[:-1]) + b"\n"
    assert out.count(b"\n") == body.count(b"\n")


def test_jsonl_offsets(tmp_path):
    lines = [*DEV_LINES, "", "  𠀀 a\udc80b  😀中文 ", "\x00\t\u3000x"]
    data = "\n".join(lines).encode("utf-8", "surrogateescape") + b"\n"
    result = seg("--format", "jsonl", input=b"\xef\xbb\xbf" + data)
    assert result.exit_code == 0
    out_lines = result.stdout_bytes.decode("utf-8").splitlines()  # strict: lone surrogates come escaped
    assert len(out_lines) == len(lines)
    assert "中文" in result.stdout_bytes.decode("utf-8") and "\\udc80" in out_lines[-2]
    for line, out in zip(lines, out_lines):
        tokens = json.loads(out)["tokens"]
        assert all(line[t["start"]:t["end"]] == t["word"] for t in tokens)
        assert "".join(t["word"] for t in tokens) == "".join(c for c in line if not c.isspace())
        ends = [t["start"] for t in tokens[1:]]
        assert all(t["end"] <= e for t, e in zip(tokens, ends))


@pytest.mark.parametrize("delimiter", ["/", " | ", "\t", "、"])
def test_delimiter(segmenter, delimiter):
    result = seg("-d", delimiter, input="\n".join(DEV_LINES).encode())
    assert result.exit_code == 0
    assert result.stdout_bytes == expected_text(segmenter, DEV_LINES, delimiter)


def test_files_in_order_stdin_dash_and_output(segmenter, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(("\n".join(DEV_LINES[:3]) + "\n").encode())
    b.write_bytes(("\n".join(DEV_LINES[6:]) + "\n").encode())  # CRLF-free, final newline
    stdin = ("\n".join(DEV_LINES[3:6]) + "\n").encode()
    out = tmp_path / "out.txt"
    result = seg(str(a), "-", str(b), "-o", str(out), input=stdin)
    assert result.exit_code == 0
    assert result.stdout_bytes == b""
    assert out.read_bytes() == expected_text(segmenter, DEV_LINES)
    # Last line without a newline, then the next file: still separate lines.
    a.write_bytes("中国".encode())
    result = seg(str(a), str(a))
    assert result.stdout_bytes == expected_text(segmenter, ["中国", "中国"])


def test_deterministic_across_batch_sizes():
    lines = [*DEV_LINES, "", dev_text(10_500), "a\udc80 b", *DEV_LINES[::-1]]
    data = "\n".join(lines).encode("utf-8", "surrogateescape") + b"\n"
    outputs = {bc: seg(*(["--batch-chars", str(bc)] if bc else []), input=data).stdout_bytes
               for bc in (1, 7, 100, None)}
    assert len(set(outputs.values())) == 1, {k: v[:200] for k, v in outputs.items()}
    assert outputs[None].count(b"\n") == len(lines)


# --- help, version, errors ------------------------------------------------------

@pytest.mark.parametrize("args", [["--help"], ["-h"], ["cut", "--help"]])
def test_help(args):
    result = seg(*args)
    assert result.exit_code == 0
    assert "Usage:" in result.stdout and "Examples:" in result.stdout
    assert "seg --dict" in result.stdout


def test_help_lists_options():
    text = seg("cut", "--help").stdout
    for option in ("--dict", "--delimiter", "--output", "--format", "--jobs", "--batch-chars"):
        assert option in text


def test_seg_help_shows_the_cutting_options_first_then_the_commands():
    text = seg("--help").stdout
    assert re.match(r"Usage: (\S+) \[OPTIONS\] \[FILES\]\.\.\.\n   or: \1 COMMAND \[ARGS\]\.\.\.\n", text), text
    options, commands = text.split("\nCommands:\n")
    listed = re.findall(r"^  (-\w, )?(--[\w-]+)", options, flags=re.MULTILINE)
    cut_options = [o for _, o in re.findall(r"^  (-\w, )?(--[\w-]+)", seg("cut", "--help").stdout, re.MULTILINE)]
    assert [o for _, o in listed] == [*cut_options[:-1], "--version", "--help"]  # cut's own --help is the group's
    assert "--output" in cut_options and "--standard" in cut_options
    assert re.findall(r"^  (\w+) ", commands, flags=re.MULTILINE)[:4] == ["cut", "eval", "standards", "train"]


def test_version():
    result = seg("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"seg, version {__version__}"


def _error_setup(tmp_path, case):
    bad = tmp_path / "bad.txt"
    bad.write_text("好,10\n科学空间,lots\n", encoding="utf-8")
    d = tmp_path / "dir"
    d.mkdir()
    return {
        "missing input": ([str(tmp_path / "nope.txt")], r"seg: error: .*nope\.txt: No such file or directory"),
        "directory input": ([str(d)], r"seg: error: .*dir: Is a directory"),
        "bad dict line": (["--dict", str(bad)], r"seg: error: .*bad\.txt:2: multiplier 'lots' is not a number"),
        "bad dict line, jobs": (["--jobs", "2", "--dict", str(bad)], r"seg: error: .*bad\.txt:2: "),
        "dict is a directory": (["--dict", str(d)], r"seg: error: .*dir: is a directory"),
        "missing dict": (["--dict", str(tmp_path / "no.txt")], r"seg: error: .*no\.txt: cannot read"),
        "missing model": (["--model", str(d)], r"seg: error: cannot load model: "),
        "output in a directory that is not there": (["-o", str(tmp_path / "x" / "y.txt")],
                                                    r"seg: error: .*y\.txt: No such file or directory"),
    }[case]


@pytest.mark.parametrize("case", [
    "missing input", "directory input", "bad dict line", "bad dict line, jobs", "dict is a directory",
    "missing dict", "missing model", "output in a directory that is not there",
])
def test_data_errors_are_one_line(tmp_path, case):
    args, pattern = _error_setup(tmp_path, case)
    result = seg(*args, input=b"abc\n")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert re.fullmatch(pattern + r".*\n", result.stderr), result.stderr


@pytest.mark.parametrize("args", [
    ["--bogus"], ["--batch-chars", "0"], ["--jobs", "0"], ["--format", "xml"], ["-d"], ["eval"],
])
def test_usage_errors_exit_2(args):
    result = seg(*args)
    assert result.exit_code == 2
    assert "Error: " in result.stderr


def test_errors_in_a_real_process(tmp_path, seg_env):
    bad = tmp_path / "bad.txt"
    bad.write_text("好\n\n科学空间;3\n", encoding="utf-8")
    for args, status in ([str(tmp_path / "missing.txt")], 1), (["--dict", str(bad)], 1), (["--nope"], 2):
        proc = subprocess.run(SEG + args, input=b"", env=seg_env, capture_output=True, timeout=60)
        assert proc.returncode == status, proc.stderr
        assert b"Traceback" not in proc.stderr
        if status == 1:
            assert proc.stderr.startswith(b"seg: error: ") and proc.stderr.count(b"\n") == 1, proc.stderr


def test_bad_dict_line_number_in_real_process(tmp_path, seg_env):
    bad = tmp_path / "bad.txt"
    bad.write_text("好\n\n科学空间;3\n", encoding="utf-8")
    proc = subprocess.run(SEG + ["--dict", str(bad)], input=b"", env=seg_env, capture_output=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.decode() == (f"seg: error: {bad}:3: a semicolon before '3': did you mean ','? "
                                    "(a multiplier: 科学空间,3; a jieba frequency: 科学空间 3)\n")


def test_a_skipped_dictionary_line_is_one_warning_line(tmp_path, seg_env):
    spaced = tmp_path / "spaced.txt"
    spaced.write_text("好\n\nEdu Trust认证 2000\n", encoding="utf-8")
    for jobs in ("1", "2"):
        proc = subprocess.run(SEG + ["--dict", str(spaced), "--jobs", jobs], input="你好\n".encode(), env=seg_env,
                              capture_output=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.decode().startswith(f"seg: warning: {spaced}:3: word 'Edu Trust认证' contains whitespace")
        assert proc.stderr.count(b"\n") == 1, proc.stderr


# --- real processes: pipes, signals, terminals ------------------------------------

def big_input(path, lines=4000):
    path.write_bytes(("\n".join(dev_text(120)[: 80 + k % 40] for k in range(lines)) + "\n").encode())
    return path


@pytest.mark.parametrize("args", ["", "--jobs 2"])  # no leaked-semaphore warnings either
def test_head_closes_the_pipe_quietly(tmp_path, seg_env, args):
    big = big_input(tmp_path / "big.txt", lines=20000)
    err = tmp_path / "err.txt"
    cmd = (f'{" ".join(SEG)} {args} < "{big}" 2> "{err}" | head -1; '
           'echo "status=${PIPESTATUS[0]}"')
    proc = subprocess.run(["bash", "-c", cmd], env=seg_env, capture_output=True, timeout=120)
    out = proc.stdout.decode().splitlines()
    assert len(out) == 2 and out[1] == "status=0", proc.stdout[-300:]
    assert err.read_bytes() == b""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("args, message", [
    ("", "seg: error: cannot write standard output: No space left on device"),
    ("--jobs 2", "seg: error: cannot write standard output: No space left on device"),
    ("-o /dev/full", "seg: error: cannot write /dev/full: No space left on device"),
    ("--version", "seg: error: No space left on device"),
    ("--standard list", "seg: error: No space left on device"),
])
def test_a_full_disk_is_one_line_and_status_1(seg_env, args, message):
    cmd = f'echo 你好 | {" ".join(SEG)} {args} > /dev/full'
    proc = subprocess.run(["bash", "-c", cmd], env=seg_env, capture_output=True, timeout=60)
    assert (proc.returncode, proc.stderr.decode()) == (1, message + "\n")


def test_closed_stdout_is_one_line_and_status_1(seg_env):
    proc = subprocess.run(["bash", "-c", f'echo 你好 | {" ".join(SEG)} >&-'], env=seg_env, capture_output=True,
                          timeout=60)
    assert (proc.returncode, proc.stderr.decode()) == (1, "seg: error: standard output is closed\n")


@pytest.mark.parametrize("args, status", [("--bogus", 2), ("--jobs 0", 2), ("/nonexistent/file", 1)])
def test_with_stderr_closed_errors_never_reach_stdout(seg_env, args, status):
    proc = subprocess.run(["bash", "-c", f'echo 你好 | {" ".join(SEG)} {args} 2>&-'], env=seg_env,
                          capture_output=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (status, b"")


def test_shell_pipeline_sort_uniq(seg_env):
    cmd = f"printf '好\\n好\\n坏 好\\n\\n' | {' '.join(SEG)} | sort | uniq -c"
    proc = subprocess.run(["bash", "-c", cmd], env=seg_env, capture_output=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == b""
    counts = sorted(line.split() for line in proc.stdout.decode().splitlines())
    assert counts == [["1"], ["1", "坏", "好"], ["2", "好"]]


def read_line(stream, timeout=60.0) -> bytes:
    """One line from a pipe, failing rather than hanging."""
    deadline = time.monotonic() + timeout
    data = b""
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"no output within {timeout} s (got {data!r})"
        chunk = os.read(stream.fileno(), 1)
        assert chunk, f"end of output (got {data!r})"
        data += chunk
    return data


@pytest.mark.parametrize("args, lines", [
    (["--batch-chars", "1"], 1),  # answers the first line, then waits for more
    (["--jobs", "2"], 8000),  # output starts after a few chunks
])
def test_sigint_exits_130_without_traceback(seg_env, args, lines):
    # Its own process group, signalled as a whole, as Ctrl-C in a terminal does
    # (--jobs workers have groups of their own: the parent kills them).
    proc = subprocess.Popen(SEG + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=seg_env, start_new_session=True)
    try:
        text = "\n".join(dev_text(120)[: 80 + k % 40] for k in range(lines)) + "\n"

        def feed():  # a thread, as seg's output would fill its pipe and block it
            try:
                proc.stdin.write(text.encode())
                proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass

        threading.Thread(target=feed, daemon=True).start()
        read_line(proc.stdout)  # the model is loaded and working; stdin stays open
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=60) == 130
        stderr = proc.stderr.read()
        assert b"Traceback" not in stderr and b"KeyboardInterrupt" not in stderr, stderr
    finally:
        proc.kill()
        proc.wait()
        for f in (proc.stdin, proc.stdout, proc.stderr):
            f.close()


@pytest.mark.parametrize("args", [[], ["--jobs", "2"]])
def test_sigterm_leaves_only_whole_lines(seg_env, tmp_path, args):
    lines = [dev_text(200)[: 50 + k % 150] for k in range(20000)]
    source = tmp_path / "in.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open(source, "rb") as stdin:
        proc = subprocess.Popen(SEG + args, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=seg_env)
        try:
            first = read_line(proc.stdout)  # working, and its output pipe is filling up
            proc.terminate()
            rest, stderr = proc.communicate(timeout=60)
        finally:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM
    assert b"Traceback" not in stderr, stderr
    out = (first + rest).decode().split("\n")
    assert out[-1] == ""  # ends with a whole line
    assert [line.replace(" ", "") for line in out[:-1]] == lines[: len(out) - 1]


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_terminal_input_is_answered_line_by_line(segmenter, seg_env):
    master, slave = os.openpty()
    proc = subprocess.Popen(SEG, stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=seg_env)
    os.close(slave)
    try:
        for line in DEV_LINES[:2]:
            os.write(master, line.encode() + b"\n")
            # Answered while stdin is still open: no waiting for a full batch.
            assert read_line(proc.stdout) == expected_text(segmenter, [line])
        os.write(master, b"\x04")  # Ctrl-D: end of input
        assert proc.wait(timeout=60) == 0
        assert b"Traceback" not in proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
        os.close(master)
        proc.stdout.close()
        proc.stderr.close()


# --- --jobs ---------------------------------------------------------------------------

def test_jobs_2_equals_jobs_1_in_a_real_process(tmp_path, seg_env):
    big = big_input(tmp_path / "big.txt", lines=3000)
    with open(big, "ab") as f:
        f.write("\n\nx\udc80 y\r\n".encode("utf-8", "surrogateescape"))
    outs = []
    for jobs in ("1", "2"):
        proc = subprocess.run(SEG + ["--jobs", jobs, str(big)], env=seg_env, capture_output=True, timeout=120)
        assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
        outs.append(proc.stdout)
    assert outs[0] == outs[1]
    assert outs[0].count(b"\n") == big.read_bytes().count(b"\n")


EVAL_CASES = [
    # gold, prediction, expected (precision, recall, f1, gold words, predicted words)
    ("迈向 充满 希望\n", "迈向 充满 希望\n", (1.0, 1.0, 1.0, 3, 3)),
    ("迈向 充满 希望\n", "迈 向 充满希望\n", (0.0, 0.0, 0.0, 3, 3)),
    ("迈向 充满 希望\n的 新 世纪\n", "迈向 充 满 希望\n的 新世纪\n", (3 / 6, 3 / 6, 0.5, 6, 6)),
]


@pytest.mark.parametrize(("gold", "pred", "expected"), EVAL_CASES)
def test_eval_scores_a_prediction_file(tmp_path, gold, pred, expected):
    (tmp_path / "gold.txt").write_text(gold, encoding="utf-8")
    (tmp_path / "pred.txt").write_text(pred, encoding="utf-8")
    (tmp_path / "words.txt").write_text("迈向\n充满\n", encoding="utf-8")
    result = cli_runner().invoke(main, ["eval", str(tmp_path / "gold.txt"), "--pred", str(tmp_path / "pred.txt"),
                                       "--train-words", str(tmp_path / "words.txt"), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    got = (scores["precision"], scores["recall"], scores["f1"], scores["gold_words"], scores["pred_words"])
    assert got == pytest.approx(expected)
    assert scores["oov_rate"] == pytest.approx(1 - 2 / scores["gold_words"])  # 迈向 and 充满 are known


def test_eval_reports_lines_whose_text_differs(tmp_path):
    (tmp_path / "gold.txt").write_text("迈向 充满\n希望 的\n", encoding="utf-8")
    (tmp_path / "pred.txt").write_text("迈向 充满\n失望 的\n", encoding="utf-8")
    result = cli_runner().invoke(main, ["eval", str(tmp_path / "gold.txt"), "--pred", str(tmp_path / "pred.txt"),
                                       "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["mismatched_lines"] == [2] and scores["f1"] == 1.0


@pytest.mark.parametrize("mismatched, expected", [
    ("迈向 充满\n失望 的\n", "not scored (the text differs between gold and prediction): line 2"),
    ("迈 充满\n失望 的\n", "not scored (the text differs between gold and prediction): lines 1, 2"),
])
def test_eval_names_the_lines_whose_text_differs(tmp_path, mismatched, expected):
    (tmp_path / "gold.txt").write_text("迈向 充满\n希望 的\n", encoding="utf-8")
    (tmp_path / "pred.txt").write_text(mismatched, encoding="utf-8")
    result = cli_runner().invoke(main, ["eval", str(tmp_path / "gold.txt"), "--pred", str(tmp_path / "pred.txt")])
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip("\n").splitlines()[-1] == expected


@pytest.mark.parametrize("gold, pred, warned", [
    ("迈向充满希望的新世纪\n中共中央总书记国家主席江泽民\n", None, ["gold.txt"]),
    ("迈向充满希望的新世纪\n", "迈向充满希望的新世纪\n", ["gold.txt", "pred.txt"]),
    ("迈向 充满 希望 的 新 世纪\n", "迈向充满希望的新世纪\n", ["pred.txt"]),
    ("迈向 充满 希望 的 新 世纪\n", "迈向 充满希望 的 新世纪\n", []),
    ("迈向 充满 希望 的 新 世纪\n", None, []),
    ("好\n你好\n", "好\n你好\n", []),  # one word a line, but words of everyday length
])
def test_eval_warns_once_about_a_file_without_word_separators(tmp_path, gold, pred, warned):
    (tmp_path / "gold.txt").write_text(gold, encoding="utf-8")
    args = ["eval", str(tmp_path / "gold.txt")]
    if pred is not None:
        (tmp_path / "pred.txt").write_text(pred, encoding="utf-8")
        args += ["--pred", str(tmp_path / "pred.txt")]
    result = cli_runner().invoke(main, args)
    assert result.exit_code == 0, result.output
    expected = [f"seg: warning: {tmp_path / name}: words average" for name in warned]
    assert [line[: len(e)] for line, e in zip(result.stderr.splitlines(), expected)] == expected
    assert len(result.stderr.splitlines()) == len(warned)
    assert "is it segmented (words separated by spaces)?" in result.stderr or not warned


def test_eval_without_pred_segments_gold_with_seg(tmp_path, segmenter):
    gold = "扫描 二维码 ， 关注 微信号 。\n"
    (tmp_path / "gold.txt").write_text(gold, encoding="utf-8")
    (tmp_path / "d.txt").write_text("".join(f"{w},force\n" for w in gold.split()), encoding="utf-8")
    result = cli_runner().invoke(main, ["eval", str(tmp_path / "gold.txt"), "--dict", str(tmp_path / "d.txt")])
    assert result.exit_code == 0, result.output
    assert "1.0000" in result.output  # forced words make the cut exactly the gold one


def test_eval_line_count_mismatch_is_a_data_error(tmp_path):
    (tmp_path / "gold.txt").write_text("迈向\n充满\n", encoding="utf-8")
    (tmp_path / "pred.txt").write_text("迈向\n", encoding="utf-8")
    result = cli_runner().invoke(main, ["eval", str(tmp_path / "gold.txt"), "--pred", str(tmp_path / "pred.txt")])
    assert result.exit_code == 1
    assert result.stderr.strip() == "seg: error: gold has 2 lines, prediction has 1"
