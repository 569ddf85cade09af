"""Write stage: words back to bytes, as delimited text or as JSON lines, and
those bytes out whole lines at a time.

The one home of the output formats: Format (a format and its delimiter) is
what the CLI hands down, and decides how a batch's words become bytes. A
long line arrives in pieces (see reader.read_pieces); LineWriter frames the
pieces' words into one output line, written as they come. OutputFile is `-o FILE`: a new file
renamed over FILE at the end, never one of the inputs (check_output).
"""

from __future__ import annotations

import errno
import functools
import json
import os
import re
import secrets
import stat
import sys
from dataclasses import dataclass
from typing import BinaryIO, Callable, Sequence

import numpy as np

from . import _core, files
from .decode import Spans
from .errors import InputError
from .reader import ENCODING_ERRORS, Piece

FORMATS = ("text", "jsonl")
#: A batch of pieces → each piece's output body (see Format.body).
Renderer = Callable[[list[Piece]], list[bytes]]
#: Lines → the spans of each line's words.
SpansFunction = Callable[[Sequence[str]], list[Spans]]
#: Lines → the spans of each line's words and their part-of-speech tags.
TaggedSpansFunction = Callable[[Sequence[str]], list[tuple[Spans, list[str]]]]


def _text_body(text: str, spans: Spans, start: int, delimiter: str) -> bytes:
    return delimiter.join([text[a:b] for a, b in spans]).encode("utf-8", ENCODING_ERRORS)


def _jsonl_body(text: str, spans: Spans, start: int, delimiter: str) -> bytes:
    # UTF-8 as it is; only the lone surrogates that stand for undecodable
    # input bytes cannot be encoded, and backslashreplace writes them as the
    # JSON escape \udcXX, so the line stays valid JSON.
    return ", ".join(
        json.dumps({"word": text[a:b], "start": start + a, "end": start + b}, ensure_ascii=False) for a, b in spans
    ).encode("utf-8", "backslashreplace")


def _tagged_text_body(text: str, spans: Spans, tags: list[str], start: int, delimiter: str,
                      pos_delimiter: str) -> bytes:
    return delimiter.join([text[a:b] + pos_delimiter + tag for (a, b), tag in zip(spans, tags)]).encode(
        "utf-8", ENCODING_ERRORS)


def _tagged_jsonl_body(text: str, spans: Spans, tags: list[str], start: int, delimiter: str,
                       pos_delimiter: str) -> bytes:
    return ", ".join(
        json.dumps({"word": text[a:b], "start": start + a, "end": start + b, "pos": tag}, ensure_ascii=False)
        for (a, b), tag in zip(spans, tags)
    ).encode("utf-8", "backslashreplace")


_TAGGED_BODIES = {"text": _tagged_text_body, "jsonl": _tagged_jsonl_body}

# format: (line head, body of one piece's words, separator between pieces, line tail)
_STYLES = {
    "text": (b"", _text_body, None, b"\n"),
    "jsonl": (b'{"tokens": [', _jsonl_body, b", ", b"]}\n"),
}


def body(fmt: str, text: str, spans: Spans, start: int, delimiter: str) -> bytes:
    """The words of one piece of a line, whose first character is at `start`."""
    return _STYLES[fmt][1](text, spans, start, delimiter)


@dataclass(frozen=True)
class Format:
    """How output is written: "text" (a line's words joined by `delimiter`)
    or "jsonl" (its tokens with character offsets). With `pos`, each word
    with its part-of-speech tag: `word/tag` in text (`pos_delimiter`
    between them), a "pos" field in jsonl. Picklable: --jobs workers render
    with it."""

    name: str = "text"
    delimiter: str = " "
    pos: bool = False
    pos_delimiter: str = "/"

    def __post_init__(self):
        if self.name not in _STYLES:
            raise ValueError(f"unknown format {self.name!r}; formats: {', '.join(FORMATS)}")

    def body(self, text: str, spans: Spans, start: int = 0) -> bytes:
        """The words of one piece of a line, whose first character is at `start`."""
        return body(self.name, text, spans, start, self.delimiter)

    def tagged_body(self, text: str, spans: Spans, tags: list[str], start: int = 0) -> bytes:
        """body() of words with their tags (tags[k] is the tag of spans[k])."""
        return _TAGGED_BODIES[self.name](text, spans, tags, start, self.delimiter, self.pos_delimiter)

    def tagged_renderer(self, tagged_spans_of: TaggedSpansFunction, tagged_labels_of: Callable | None = None
                        ) -> Renderer:
        """The Renderer of words with their tags, as tagged_spans_of gives
        them. `tagged_labels_of`, where given, decodes lines to the same words
        and tags as (a decoded batch, see text_bodies; ids; labels): word j's
        tag is labels[ids[j]], and plain text renders a whole batch in one C call."""

        def render(pieces: list[Piece]) -> list[bytes]:
            results = tagged_spans_of([piece.text for piece in pieces])
            return [self.tagged_body(piece.text, spans, tags, piece.start)
                    for piece, (spans, tags) in zip(pieces, results)]

        if self.name == "text" and tagged_labels_of is not None:
            suffix = self.pos_delimiter

            def render_text(pieces: list[Piece]) -> list[bytes]:
                lines = [piece.text for piece in pieces]
                if not any(lines):
                    return [b"" for _ in lines]
                tagged, ids, labels = tagged_labels_of(lines)
                bodies = text_bodies(tagged.cps, tagged.tags, tagged.space, tagged.line_starts, tagged.line_ends,
                                     self.delimiter, ids, [suffix + label for label in labels])
                return render(pieces) if bodies is None else bodies  # None: the general path fails or passes

            return render_text
        return render

    def line_writer(self) -> LineWriter:
        return LineWriter(self.name, self.delimiter)

    def renderer(self, spans_of: SpansFunction, tagged_of: Callable | None = None) -> Renderer:
        """The Renderer whose words are spans_of's. `tagged_of`, where given,
        decodes lines to the same words as tags (an object with cps, tags,
        space, line_starts and line_ends, see text_bodies): plain text then
        renders a whole batch in one C call."""
        if self.name == "text" and tagged_of is not None:
            return functools.partial(self._text_bodies, spans_of, tagged_of)

        def render(pieces: list[Piece]) -> list[bytes]:
            spans = spans_of([piece.text for piece in pieces])
            return [self.body(piece.text, s, piece.start) for piece, s in zip(pieces, spans)]

        return render

    def _text_bodies(self, spans_of: SpansFunction, tagged_of: Callable, pieces: list[Piece]) -> list[bytes]:
        lines = [piece.text for piece in pieces]
        if not any(lines):
            return [b"" for _ in lines]
        tagged = tagged_of(lines)
        bodies = text_bodies(tagged.cps, tagged.tags, tagged.space, tagged.line_starts, tagged.line_ends,
                             self.delimiter)
        if bodies is None:  # a code point the C call cannot write: the general path fails or passes as it would
            return [self.body(line, s) for line, s in zip(lines, spans_of(lines))]
        return bodies


def text_bodies(cps: np.ndarray, tags: np.ndarray, space: np.ndarray, line_starts: np.ndarray,
                line_ends: np.ndarray, delimiter: str, word_labels: np.ndarray | None = None,
                labels: Sequence[str] = ()) -> list[bytes] | None:
    """The "text" body of each line of a tagged batch in one C call, equal to
    body("text", …) of its words (see decode.word_bounds): cps are the
    batch's code points, tags one per code point, space marks whitespace
    (in no word), lines [line_starts[k], line_ends[k]). With word_labels
    (one a word of the batch, in order), each word is followed by its label,
    labels[word_labels[j]] (`seg --pos`'s /tag). None where a code point
    cannot be written (a surrogate that stands for no input byte): the
    caller then takes the general path, which fails or passes as it would."""
    separator = delimiter.encode("utf-8", ENCODING_ERRORS)
    encoded = [label.encode("utf-8", ENCODING_ERRORS) for label in labels]
    label_ends = np.cumsum([len(label) for label in encoded], dtype=np.int64)
    cps = np.ascontiguousarray(cps, dtype=np.uint32)
    out = np.empty(len(cps) * (4 + len(separator) + max(map(len, encoded), default=0)), dtype=np.uint8)
    body_ends = np.empty(len(line_starts), dtype=np.int64)
    written = _core.render_text(cps, np.ascontiguousarray(tags, dtype=np.uint8),
                                np.ascontiguousarray(space, dtype=np.uint8),
                                np.ascontiguousarray(line_starts, dtype=np.int64),
                                np.ascontiguousarray(line_ends, dtype=np.int64), separator, out, body_ends,
                                np.ascontiguousarray(word_labels if word_labels is not None else (), dtype=np.int64),
                                b"".join(encoded), label_ends)
    if written < 0:
        return None
    data = out[:written].tobytes()
    cuts = [0, *body_ends.tolist()]
    return [data[a:b] for a, b in zip(cuts, cuts[1:])]


class OutputFile:
    """Where `seg -o NAME` writes, as a context manager whose value is the
    stream to write. A regular file (or a name not yet there) is written as
    a new file beside it, renamed over it once everything is in (so a failed
    or interrupted run leaves NAME as it was, and the new file is removed:
    discard()); it gets the mode a plain open would give, or the old file's.
    A device, a FIFO or the name of an open descriptor (/dev/stdout,
    /dev/fd/3) cannot be replaced by a rename, and holds nothing to lose:
    it is written directly."""

    def __init__(self, name: str):
        self.name = name
        self._stream: BinaryIO | None = None
        self._temporary: str | None = None  # the new file, until it is renamed into place
        self._target = name

    def __enter__(self) -> BinaryIO:
        name = self.name
        existing = _stat_or_none(name)
        # Written directly: "" or "dir/" (no file to put in place: open() says
        # why), and what a rename cannot replace.
        if (not os.path.basename(name) or (existing is not None and not stat.S_ISREG(existing.st_mode))
                or _names_a_descriptor(name)):
            self._stream = files.open_for_writing(name, InputError)
            return self._stream
        # Through symbolic links, as open() writes: a link stays a link.
        self._target = os.path.realpath(name)
        if existing is not None and not os.access(self._target, os.W_OK):
            raise InputError(f"{name}: {os.strerror(errno.EACCES)}")  # as open() would say
        directory, base = os.path.split(self._target)
        while self._stream is None:
            # Named before it exists: a stop signal from here on removes it (discard).
            self._temporary = os.path.join(directory, f".{base[:40]}.seg-{secrets.token_hex(4)}")
            try:
                self._stream = open(self._temporary, "xb")  # mode 0o666 less the umask, as open(name, "wb")
            except FileExistsError:
                continue
            except OSError as e:
                self._temporary = None
                hint = (" (seg writes a new file beside it, then renames it over the old one)"
                        if existing is not None and e.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else "")
                raise InputError(files.describe(name, e) + hint) from None
        self._stream.raw.name = name  # what write errors name
        if existing is not None:
            try:
                _keep_owner_and_mode(self._stream.fileno(), existing)
            except OSError as e:
                self.__exit__(OSError, e, None)
                raise InputError(files.describe(name, e)) from None
        return self._stream

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            self.discard()
            try:
                self._stream.close()
            except (AttributeError, OSError):  # never opened; the unwritten rest of a full disk
                pass
            return
        try:
            if self._temporary is None:
                self._stream.close()
                return
            self._stream.flush()
            os.fsync(self._stream.fileno())  # the data is on disk before the name points at it
            self._stream.close()
            os.replace(self._temporary, self._target)
        except OSError as e:
            self.discard()
            raise InputError(files.describe(self.name, e, "cannot write {name}: {reason}")) from None
        self._temporary = None

    def discard(self) -> None:
        """Removes the new file, leaving NAME as it was: for a failure, and
        for a stop signal's handler (which may come at any moment, and twice,
        so it only unlinks: the stream may be in the middle of a write)."""
        temporary, self._temporary = self._temporary, None
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:  # not created yet, or already gone
                pass


def check_output(name: str | None, inputs: Sequence[str], dictionaries: Sequence[str] = ()) -> None:
    """Raises InputError when the output (the file `name`, or standard
    output for None) is the same file as one of `inputs` (standard input
    for "-" or none) or of the `dictionaries`: writing it would destroy what
    is still to be read. The same file, not the same name: hard and symbolic
    links count. Only a regular file holds data to lose (/dev/tty in and out
    is fine)."""
    written = _stat_or_none(name) if name is not None else _stat_stream(sys.stdout)
    if written is None or not stat.S_ISREG(written.st_mode):
        return
    read = [(input_name, "standard input" if input_name == "-" else f"the input {input_name}")
            for input_name in inputs or ("-",)]
    read += [(dictionary, f"the dictionary {dictionary}") for dictionary in dictionaries]
    for read_name, shown_input in read:
        info = _stat_stream(sys.stdin) if read_name == "-" else _stat_or_none(read_name)
        if info is not None and (info.st_dev, info.st_ino) == (written.st_dev, written.st_ino):
            shown_output = f"the output {name}" if name is not None else "standard output"
            raise InputError(f"{shown_output} is the same file as {shown_input}: write the output to another file")


def _stat_or_none(name: str) -> os.stat_result | None:
    """The file's status (through links), None where there is no such file."""
    try:
        return os.stat(name)
    except (OSError, ValueError):  # missing, unreadable directory, a NUL in the name: open() reports it
        return None


def _stat_stream(stream) -> os.stat_result | None:
    try:
        return os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):  # closed, or in memory (tests, the API)
        return None


def _names_a_descriptor(name: str) -> bool:
    """Whether `name` leads, link by link, to /proc/PID/fd/N (as /dev/stdout
    and /dev/fd/N do on Linux): whatever that descriptor is, a rename would
    go around it, to the name it was once opened by (if it still has one)."""
    path = os.path.abspath(name)
    for _ in range(40):  # as many links as the kernel follows
        directory = os.path.realpath(os.path.dirname(path))
        if _DESCRIPTOR_DIRECTORY.fullmatch(directory):
            return True
        path = os.path.join(directory, os.path.basename(path))
        if not os.path.islink(path):
            return False
        path = os.path.join(directory, os.readlink(path))
    return False


_DESCRIPTOR_DIRECTORY = re.compile(r"/proc/(self|thread-self|\d+)(/task/\d+)?/fd")


def _keep_owner_and_mode(fd: int, old: os.stat_result) -> None:
    """The replacement keeps the old file's mode, and its owner and group
    where this process may give them (root; a group it is in)."""
    new = os.fstat(fd)
    if (new.st_uid, new.st_gid) != (old.st_uid, old.st_gid):
        try:
            os.fchown(fd, old.st_uid, old.st_gid)
        except OSError:
            pass
    os.fchmod(fd, stat.S_IMODE(old.st_mode))  # after chown, which clears set-id bits


def stdout() -> BinaryIO:
    if sys.stdout is None:  # started with stdout closed (`seg >&-`)
        raise InputError("standard output is closed")
    return sys.stdout.buffer


def write_whole(out: BinaryIO, data: bytes) -> None:
    """Writes and flushes whole lines (see exits.deferring_stops for how the
    command keeps a stop signal from cutting them). A reader that went away
    is a BrokenPipeError; any other failure an InputError."""
    if not data:
        return
    try:
        try:
            fd = out.fileno()
        except (AttributeError, OSError, ValueError):  # in-memory streams (the API, tests)
            out.write(data)
            out.flush()
        else:
            # Straight to the file descriptor: a BufferedWriter whose write a
            # signal interrupts can drop the rest of it.
            out.flush()
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
    except BrokenPipeError:
        raise  # the reader went away: the CLI ends quietly
    except OSError as e:  # a full disk, a lost network file system
        name = getattr(out, "name", None)
        where = {"<stdout>": "standard output"}.get(name, name) if isinstance(name, str) else "the output"
        raise InputError(files.describe(where, e, "cannot write {name}: {reason}")) from e


class LineWriter:
    """Frames the bodies of consecutive pieces into output lines and hands
    each piece's bytes on as they come (ready()): a line longer than a piece
    (see reader.read_pieces) is never held whole, so memory stays bounded
    whatever the line length. A line of one piece (any line up to
    reader.PIECE_BYTES) comes out whole from one call; a longer one piece by
    piece, so a stop signal between two of its pieces ends the output inside
    it (see exits.deferring_stops)."""

    def __init__(self, fmt: str, delimiter: str):
        self._head, _, separator, self._tail = _STYLES[fmt]
        self._separator = separator if separator is not None else delimiter.encode("utf-8", ENCODING_ERRORS)
        self._open = False
        self._has_words = False
        self._parts: list[bytes] = []

    def add(self, piece: Piece, piece_body: bytes) -> None:
        """Adds the body of the next piece (see body())."""
        if not self._open:
            self._parts.append(self._head)
            self._open, self._has_words = True, False
        if piece_body:
            if self._has_words:
                self._parts.append(self._separator)
            self._parts.append(piece_body)
            self._has_words = True
        if piece.ends_line:
            self._parts.append(self._tail)
            self._open = False

    def ready(self) -> bytes:
        """The bytes of the pieces added since the last call, to write: the
        lines they complete, and of a line still open what is known of it."""
        data = b"".join(self._parts)
        self._parts.clear()
        return data

