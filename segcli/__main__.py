"""`python -m segcli`, and the `seg` command's entry point."""

# First of all, before any other import: from here on a stop signal ends seg
# at once and quietly, with status 128 + signal, until the command's own policy
# (exits.exit_on_signals) takes over; nothing has been read or written yet.
# Without this, a Ctrl-C during the imports below printed a KeyboardInterrupt
# traceback, and a SIGTERM or SIGHUP killed seg by the signal itself. What
# comes before is Python's own start-up and the package's __init__ (README,
# "What seg promises"). `_signal` is the builtin under `signal`, loaded by the
# interpreter itself: `signal` would import enum first.
import _signal
import os


def _stop_at_once(signum, frame):
    os._exit(128 + signum)


# SIGTERM last: once it is caught, all three are (tests/test_stop_signals.py).
for _name in ("SIGINT", "SIGHUP", "SIGTERM"):
    _signum = getattr(_signal, _name, None)  # Windows has no SIGHUP
    # One that whoever started seg ignores (nohup, `&` in a script) stays ignored.
    if _signum is not None and _signal.getsignal(_signum) != _signal.SIG_IGN:
        _signal.signal(_signum, _stop_at_once)

import sys  # noqa: E402 (after the handlers, as every other import)

from .exits import exit_now  # noqa: E402


def main() -> None:
    if sys.stderr is None:
        # Started with stderr closed (`seg 2>&-`): messages go nowhere, not to
        # stdout (where click falls back to) and not into whatever file would
        # be opened next as descriptor 2.
        sys.stderr = open(os.devnull, "w")
    try:
        from .cli import main as command
    except ImportError as e:  # a checkout without its compiled part, say: one line, not a traceback
        _fail(f"seg: error: {e}")

    try:
        command(prog_name="seg")
    except SystemExit as e:
        if e.code is not None and not isinstance(e.code, int):
            raise  # a message for Python to print
        _exit(e.code or 0)
    except BrokenPipeError:  # writing --help or --version to a reader that went away
        _exit(0)
    except OSError as e:  # writing them to a full disk, say: one line, never a traceback
        where = f"{e.filename}: " if isinstance(e.filename, str) and e.filename else ""
        _fail(f"seg: error: {where}{e.strerror or e}")


def _exit(status: int) -> None:
    """Ends the process (exits.exit_now) once stdout's text layer is flushed:
    a finished command has nothing else left, files are closed and worker
    processes joined by then."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:  # the reader went away, as in `seg | head -1`: not an error
        pass
    except (OSError, ValueError) as e:  # a full disk, say
        _fail(f"seg: error: cannot write output: {getattr(e, 'strerror', None) or e}")
    exit_now(status)


def _fail(message: str) -> None:
    try:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass
    exit_now(1)


if __name__ == "__main__":
    main()
