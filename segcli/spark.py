"""seg over Spark DataFrames (``pip install "seg[spark]"``; pyspark 4 needs
Python >= 3.11 and Java 17).

    from segcli.spark import segment
    words = segment(df, "text")                       # adds an array<string> column "words"

Each Python worker process builds one Segmenter, the first time a batch
reaches it, and reuses it for every later batch. Dictionary entries travel
with the task as data; a model directory given on the driver is shipped to
the executors with SparkContext.addFile (a driver path does not exist on a
cluster's workers). Nothing is shared between lines and a line's words never
depend on its neighbours, so the output is the same however Spark
partitions the data.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterator, Mapping

from .segmenter import Segmenter

# Per Python worker process: (model, its digest, standard, entries digest) -> Segmenter.
_segmenters: dict[tuple, Segmenter] = {}
_CACHED = 4


def segment(df, input_col: str, output_col: str = "words", standard: str | None = None,
            entries: Mapping[str, float | str] | None = None, offsets: bool = False, model: str | None = None):
    """`df` with `output_col` added: the words of `input_col` as
    array<string>, or with offsets=True array<struct<word, start, end>>
    (character offsets). A null text gives a null. entries: dictionary
    words (word -> multiplier, a number or "force"); model: a model
    directory on the driver (default: the shipped model)."""
    from pyspark.sql import types

    entries = dict(entries or {})
    # Checked on the driver, so a bad standard, model or entry fails here, once.
    Segmenter(model, standard=standard, entries=entries, threads=1)
    shipped = model_digest = None
    if model is not None:
        model_dir = Path(model).resolve()
        df.sparkSession.sparkContext.addFile(str(model_dir), recursive=True)
        shipped = model_dir.name
        # Workers are reused across jobs: a model retrained in the same
        # directory must not meet the Segmenter cached for the old one.
        model_digest = _digest(*(f.read_bytes() for f in sorted(model_dir.iterdir()) if f.is_file()))
    entries_digest = _digest(json.dumps(entries, sort_keys=True, ensure_ascii=False).encode())
    key = (shipped, model_digest, standard, entries_digest)

    if offsets:
        word = types.StructType([types.StructField("word", types.StringType()),
                                 types.StructField("start", types.IntegerType()),
                                 types.StructField("end", types.IntegerType())])
    else:
        word = types.StringType()
    schema = types.StructType([*df.schema.fields, types.StructField(output_col, types.ArrayType(word))])

    def cut_partition(batches: Iterator) -> Iterator:
        segmenter = _worker_segmenter(key, entries)
        for frame in batches:
            frame[output_col] = [_words(segmenter, text, offsets) for text in frame[input_col]]
            yield frame

    return df.mapInPandas(cut_partition, schema)


def _words(segmenter: Segmenter, text, offsets: bool):
    if not isinstance(text, str):  # null (None or NaN)
        return None
    if offsets:
        return [{"word": w, "start": a, "end": b} for w, a, b in segmenter.tokenize(text)]
    return segmenter.cut(text)


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def _worker_segmenter(key: tuple, entries: dict) -> Segmenter:
    segmenter = _segmenters.get(key)
    if segmenter is None:
        shipped, _, standard, _ = key
        while len(_segmenters) >= _CACHED:  # each holds a whole model: keep the newest few
            del _segmenters[next(iter(_segmenters))]
        model = None
        if shipped is not None:
            from pyspark import SparkFiles

            model = SparkFiles.get(shipped)
        segmenter = Segmenter(model, standard=standard, entries=entries, threads=1)
        _segmenters[key] = segmenter
    return segmenter
