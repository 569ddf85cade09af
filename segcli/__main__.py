"""`python -m segcli`, and the `seg` command's entry point."""

import os
import signal


def _leave(signum, frame):
    os._exit(128 + signum)


def main() -> None:
    # Until the command takes over (stream.exit_on_signals), Ctrl-C or SIGTERM
    # ends seg at once and quietly: nothing has been read or written yet, and
    # a KeyboardInterrupt inside an import would print a traceback.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _leave)
    from .cli import main as command

    command(prog_name="seg")


if __name__ == "__main__":
    main()
