"""seg: a fast, dictionary-faithful Chinese word segmenter."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
