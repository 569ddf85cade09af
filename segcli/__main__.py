"""`python -m segcli`, and the `seg` command's entry point."""

import os
import signal
import sys

from .exits import exit_now


def _leave(signum, frame):
    exit_now(128 + signum)


def main() -> None:
    # Until the command takes over (exits.exit_on_signals), Ctrl-C or SIGTERM
    # ends seg at once and quietly: nothing has been read or written yet, and
    # a KeyboardInterrupt inside an import would print a traceback.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _leave)
    if sys.stderr is None:
        # Started with stderr closed (`seg 2>&-`): messages go nowhere, not to
        # stdout (where click falls back to) and not into whatever file would
        # be opened next as descriptor 2.
        sys.stderr = open(os.devnull, "w")
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
