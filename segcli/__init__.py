"""seg: a fast, dictionary-faithful Chinese word segmenter."""

from .segmenter import Segmenter as Segmenter

__version__ = "0.1.0"
__all__ = ["Segmenter", "__version__"]
