"""`python -m segcli`, and the `seg` command's entry point."""

import os
import signal
import sys


def _leave(signum, frame):
    os._exit(128 + signum)


def main() -> None:
    # Until the command takes over (stream.exit_on_signals), Ctrl-C or SIGTERM
    # ends seg at once and quietly: nothing has been read or written yet, and
    # a KeyboardInterrupt inside an import would print a traceback.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _leave)
    from .cli import main as command

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
    """Ends the process once the output is flushed, skipping the interpreter's
    shutdown: tearing down numpy, onnxruntime and the model's tables took
    ~30 ms of every run (of ~220), and a finished command has nothing left for
    it to do: files are closed and worker processes joined by then."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:  # the reader went away, as in `seg | head -1`: not an error
        pass
    except (OSError, ValueError) as e:  # a full disk, say
        _fail(f"seg: error: cannot write output: {getattr(e, 'strerror', None) or e}")
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(status)


def _fail(message: str) -> None:
    try:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass
    os._exit(1)


if __name__ == "__main__":
    main()
