"""`python -m segcli` on Python < 3.11 (conftest.SEG): run as a
script, so sys.path starts at tests/ rather than at a checkout whose segcli
lacks the compiled extension."""

import runpy

runpy.run_module("segcli", run_name="__main__", alter_sys=True)
