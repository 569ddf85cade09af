"""`seg -o FILE`: never the file being read, never left half-written or
truncated (a new file renamed over it at the end), devices and FIFOs written
directly. Real processes: the stop signals' handlers and the umask are the
process's own."""

import os
import resource
import signal
import stat
import subprocess
import threading
import time

import pytest
from conftest import DEV_LINES, SEG, dev_text

OLD = "旧的内容，不能丢。\n".encode()
TEXT = ("\n".join(DEV_LINES) + "\n").encode()


def run_seg(args, seg_env, cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, input=None, **kwargs):
    proc = subprocess.run(SEG + args, stdin=None if input is not None else stdin, stdout=stdout,
                          stderr=subprocess.PIPE, input=input, env=seg_env, cwd=cwd, timeout=120, **kwargs)
    assert b"Traceback" not in proc.stderr, proc.stderr
    return proc


def seg_output(seg_env, tmp_path):
    """What seg writes for TEXT."""
    return run_seg([], seg_env, tmp_path, input=TEXT).stdout


# --- an output that is one of the inputs ------------------------------------------

# name: (arguments, standard input, standard output): "f.txt" holds OLD;
# hard.txt is a hard link to it, link.txt a symbolic one, other.txt another file.
SAME_FILE = {
    "the same name": (["f.txt", "-o", "f.txt"], None, None),
    "another spelling": (["./f.txt", "-o", "{dir}/f.txt"], None, None),
    "a hard link": (["f.txt", "-o", "hard.txt"], None, None),
    "a symbolic link": (["link.txt", "-o", "f.txt"], None, None),
    "the second input": (["other.txt", "f.txt", "-o", "f.txt"], None, None),
    "standard input": (["-o", "f.txt"], "f.txt", None),
    "standard input as -": (["other.txt", "-", "-o", "link.txt"], "f.txt", None),
    "-o /dev/stdin": (["-o", "/dev/stdin"], "f.txt", None),
    "standard output": (["f.txt"], None, "f.txt"),  # `seg f.txt >> f.txt` would grow it for ever
    "standard output and input": ([], "f.txt", "hard.txt"),
    "-o /dev/stdout": (["f.txt", "-o", "/dev/stdout"], None, "f.txt"),
    "a dictionary": (["--dict", "link.txt", "other.txt", "-o", "hard.txt"], None, None),
}


@pytest.fixture
def files(tmp_path):
    (tmp_path / "f.txt").write_bytes(OLD)
    (tmp_path / "other.txt").write_bytes(TEXT)
    os.link(tmp_path / "f.txt", tmp_path / "hard.txt")
    os.symlink("f.txt", tmp_path / "link.txt")
    return tmp_path


@pytest.mark.parametrize("case", list(SAME_FILE))
def test_an_output_that_is_an_input_is_refused_before_anything_is_written(files, seg_env, case):
    args, stdin_name, stdout_name = SAME_FILE[case]
    args = [a.format(dir=files) for a in args]
    stdin = open(files / stdin_name, "rb") if stdin_name else subprocess.DEVNULL
    stdout = open(files / stdout_name, "ab") if stdout_name else subprocess.PIPE
    try:
        proc = run_seg(args, seg_env, files, stdin=stdin, stdout=stdout)
    finally:
        for stream in (stdin, stdout):
            if not isinstance(stream, int):
                stream.close()
    assert proc.returncode == 1
    message = proc.stderr.decode()
    assert message.startswith("seg: error: ") and message.count("\n") == 1, message
    assert "is the same file as" in message
    assert (files / "f.txt").read_bytes() == OLD
    assert sorted(os.listdir(files)) == ["f.txt", "hard.txt", "link.txt", "other.txt"]


@pytest.mark.parametrize("args, stdin_name", [
    (["f.txt", "-o", "out.txt"], None),
    (["-o", "f.txt"], None),  # standard input is a pipe here, not f.txt
    (["other.txt", "-o", "/dev/stdout"], None),  # standard output is a pipe
    (["/dev/null", "-o", "f.txt"], None),
    (["-o", "f.txt"], "other.txt"),
])
def test_outputs_that_are_no_input_are_written(files, seg_env, args, stdin_name):
    if stdin_name:
        with open(files / stdin_name, "rb") as stdin:
            proc = run_seg(args, seg_env, files, stdin=stdin)
    else:
        proc = run_seg(args, seg_env, files, input=b"")
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr


@pytest.mark.parametrize("name, message", [
    ("", ": No such file or directory"),
    ("somedir/", "somedir/: Is a directory"),
    ("somedir", "somedir: Is a directory"),
    ("missing/", "missing/: Is a directory"),
    ("missing/out.txt", "missing/out.txt: No such file or directory"),
])
def test_an_output_name_that_open_refuses_is_refused_as_before(tmp_path, seg_env, name, message):
    (tmp_path / "somedir").mkdir()
    proc = run_seg(["-o", name], seg_env, tmp_path, input=TEXT)
    assert (proc.returncode, proc.stderr.decode()) == (1, f"seg: error: {message}\n")
    assert os.listdir(tmp_path) == ["somedir"] and os.listdir(tmp_path / "somedir") == []


# --- a new file, renamed into place ----------------------------------------------

def test_the_output_replaces_the_old_file_and_nothing_else_is_left(tmp_path, seg_env):
    expected = seg_output(seg_env, tmp_path)
    (tmp_path / "in.txt").write_bytes(TEXT)
    (tmp_path / "out.txt").write_bytes(OLD)
    proc = run_seg(["in.txt", "-o", "out.txt"], seg_env, tmp_path)
    assert proc.returncode == 0 and proc.stderr == b""
    assert (tmp_path / "out.txt").read_bytes() == expected
    assert sorted(os.listdir(tmp_path)) == ["in.txt", "out.txt"]


def test_a_symbolic_link_output_stays_a_link_to_the_file_written(tmp_path, seg_env):
    expected = seg_output(seg_env, tmp_path)
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "out.txt").write_bytes(OLD)
    os.symlink("real/out.txt", tmp_path / "link.txt")
    assert run_seg(["-o", "link.txt"], seg_env, tmp_path, input=TEXT).returncode == 0
    assert os.readlink(tmp_path / "link.txt") == "real/out.txt"
    assert (tmp_path / "real" / "out.txt").read_bytes() == expected
    assert sorted(os.listdir(tmp_path / "real")) == ["out.txt"]


@pytest.mark.parametrize("umask, old_mode, expected_mode", [
    (0o022, None, 0o644),
    (0o027, None, 0o640),
    (0o077, None, 0o600),
    (0o022, 0o600, 0o600),  # an existing file keeps its mode, whatever the umask
    (0o077, 0o755, 0o755),
    (0o022, 0o2640, 0o2640),
])
def test_the_output_has_the_mode_a_plain_open_would_give(tmp_path, seg_env, umask, old_mode, expected_mode):
    out = tmp_path / "out.txt"
    if old_mode is not None:
        out.write_bytes(OLD)
        os.chmod(out, old_mode)
    proc = run_seg(["-o", "out.txt"], seg_env, tmp_path, input=TEXT,
                   preexec_fn=lambda: os.umask(umask))
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(out.stat().st_mode) == expected_mode


def test_an_output_that_a_plain_open_could_not_write_is_an_error(tmp_path, seg_env):
    out = tmp_path / "out.txt"
    out.write_bytes(OLD)
    out.chmod(0o444)
    proc = run_seg(["-o", "out.txt"], seg_env, tmp_path, input=TEXT)
    try:
        with open(out, "ab"):  # root may write it all the same, with a plain open too
            writable = True
    except PermissionError:
        writable = False
    if writable:
        assert proc.returncode == 0 and stat.S_IMODE(out.stat().st_mode) == 0o444
    else:
        assert (proc.returncode, proc.stderr) == (1, b"seg: error: out.txt: Permission denied\n")
        assert out.read_bytes() == OLD


def test_a_write_that_fails_midway_leaves_the_old_file(tmp_path, seg_env):
    seg_output(seg_env, tmp_path)  # the caches are written: the limit below is for the output alone
    (tmp_path / "in.txt").write_bytes(TEXT * 400)
    (tmp_path / "out.txt").write_bytes(OLD)
    limit = 64 * 1024  # a file size limit: writing past it fails with EFBIG (Python ignores SIGXFSZ)
    proc = run_seg(["in.txt", "-o", "out.txt"], seg_env, tmp_path,
                   preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    assert (proc.returncode, proc.stderr) == (1, b"seg: error: cannot write out.txt: File too large\n")
    assert (tmp_path / "out.txt").read_bytes() == OLD
    assert sorted(os.listdir(tmp_path)) == ["in.txt", "out.txt"]


@pytest.mark.parametrize("signum, args", [
    (signal.SIGTERM, []), (signal.SIGINT, []), (signal.SIGHUP, []), (signal.SIGTERM, ["--jobs", "2"]),
])
def test_a_stop_signal_midway_leaves_the_old_file_and_no_other(tmp_path, seg_env, signum, args):
    out = tmp_path / "out.txt"
    out.write_bytes(OLD)
    proc = subprocess.Popen(SEG + args + ["-o", "out.txt"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=seg_env, cwd=tmp_path)
    try:
        # More than a batch (more than the chunks --jobs keeps in flight), and
        # standard input kept open: seg is midway.
        text = ("\n".join(dev_text(120)[: 80 + k % 40] for k in range(6000)) + "\n").encode()

        def feed():  # a thread: seg reads only as fast as it cuts
            try:
                proc.stdin.write(text)
                proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass

        threading.Thread(target=feed, daemon=True).start()
        deadline = time.monotonic() + 60
        while not any(name != "out.txt" and os.path.getsize(tmp_path / name) for name in os.listdir(tmp_path)):
            assert time.monotonic() < deadline and proc.poll() is None, "no output written"
            time.sleep(0.02)
        proc.send_signal(signum)
        assert proc.wait(timeout=60) == 128 + signum
        assert b"Traceback" not in proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            stream.close()
    assert out.read_bytes() == OLD
    assert os.listdir(tmp_path) == ["out.txt"]


# --- devices and FIFOs: written directly -------------------------------------------

def test_dev_null_is_written_and_stays_a_device(tmp_path, seg_env):
    proc = run_seg(["-o", "/dev/null"], seg_env, tmp_path, input=TEXT)
    assert proc.returncode == 0 and proc.stderr == b""
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_fifo_is_written_directly(tmp_path, seg_env):
    expected = seg_output(seg_env, tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    proc = run_seg(["-o", "fifo"], seg_env, tmp_path, input=TEXT)
    reader.join(timeout=60)
    assert proc.returncode == 0 and proc.stderr == b""
    assert received == [expected]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and os.listdir(tmp_path) == ["fifo"]


def test_dev_stdout_is_standard_output(tmp_path, seg_env):
    expected = seg_output(seg_env, tmp_path)
    proc = run_seg(["-o", "/dev/stdout"], seg_env, tmp_path, input=TEXT)
    assert proc.returncode == 0 and proc.stdout == expected
    assert os.listdir(tmp_path) == []
