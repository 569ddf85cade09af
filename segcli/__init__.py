"""seg: a fast, dictionary-faithful Chinese word segmenter."""

# Not `from typing import TYPE_CHECKING`: importing typing costs ~5 ms of the
# start-up window in which a stop signal still gets Python's defaults (seg's
# handlers come right after this package's __init__); type checkers accept it.
TYPE_CHECKING = False

__version__ = "0.1.0"
__all__ = ["Segmenter", "__version__"]

if TYPE_CHECKING:
    from .segmenter import Segmenter


def __getattr__(name: str):
    # Imported on first use: `seg` installs its signal handlers before the
    # model's libraries (numpy, onnxruntime) load, and `seg --help` never
    # loads onnxruntime (numpy it does: the CLI's help lists the atoms).
    if name == "Segmenter":
        from .segmenter import Segmenter

        return Segmenter
    if name == "_core":
        return _compiled_part()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _compiled_part():
    # Every `from . import _core` asks the package for the attribute first
    # (hasattr, in importlib's _handle_fromlist), so the first one lands
    # here: it imports the extension as usual, or says in words what is
    # wrong, rather than "cannot import name '_core'" (issue 23.12).
    import importlib
    import os

    try:
        return importlib.import_module(f"{__name__}._core")
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}._core":
            raise
        raise ImportError(
            f"segcli's compiled part (segcli._core, built for this Python) is missing from "
            f"{os.path.dirname(os.path.abspath(__file__))}: if that is a source checkout shadowing the installed "
            "package, run from another directory, or build it in place with `pip install -e .`") from None
