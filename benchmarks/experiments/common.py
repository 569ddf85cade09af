"""`import common` in an experiment means benchmarks/common.py: a script run as
`python benchmarks/experiments/NAME.py` has only this folder on its path, so
this stand-in is what it finds, and it puts the one common module in its place."""

import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location(__name__, Path(__file__).resolve().parent.parent / "common.py")
sys.modules[__name__] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sys.modules[__name__])
