"""segcli's private C loops; use segcli.encode.KeyIndex, segcli.decode and
segcli.writer instead."""

from typing import Final

from typing_extensions import Buffer

# The tag ids (s, b, m, e); segcli.decode owns them, these mirror the C enum.
S: Final = 0
B: Final = 1
M: Final = 2
E: Final = 3

def viterbi(
    scores: Buffer,
    starts: Buffer,
    ends: Buffer,
    transitions: Buffer,
    out: Buffer,
    /,
) -> None:
    """Decode each segment ``[starts[k], ends[k])`` into ``out``.

    scores: C-contiguous float32, N rows x 4 tags (s, b, m, e), log space.
    starts, ends: int64, K items each; 0 <= start <= end <= N is checked.
    transitions: float32 4 x 4; [i][j] scores i -> j on top of the hard
        constraints (illegal transitions are never taken).
    out: writable uint8 of N items; only rows inside a segment are written.

    Ties go to the lowest tag index (s before e at the end).  Any input,
    -inf and NaN included, yields a legal sequence.  Raises ValueError on
    wrong item sizes, lengths or bounds, MemoryError if the workspace
    cannot be allocated.  The GIL is released while decoding.
    """

def build(keys: Buffer, values: Buffer, table: Buffer, filter: Buffer, /) -> None:
    """Fill an empty table (all zeros) with ``keys[i] -> values[i]``; a key
    given more than once gets the bitwise OR of its values.

    keys: positive int64 (key 0 marks an empty slot); values: int64, as many.
    table: writable int64 of 2 * slots items, each slot's key and value side
    by side, a power of two of slots above ``len(keys)``; slots are found by
    Fibonacci hashing and linear probing.  filter: a writable zeroed uint64
    bitmap of a power-of-two number of bits (>= 64) that gets a bit set per
    key (by a hash of its own), or an empty buffer for none.  Raises
    ValueError on wrong sizes, a key <= 0, or a table that is not empty.
    The GIL is released while filling.
    """

def find(table: Buffer, filter: Buffer, keys: Buffer, missing: int, out: Buffer, /) -> None:
    """Write into ``out[i]`` the value stored for ``keys[i]``, or ``missing``.

    table and filter as build filled them (an empty filter: none; a key
    whose filter bit is clear is missing without a probe); keys and out
    int64 of one length.  Raises ValueError on wrong sizes or a table
    without an empty slot (only one rewritten meanwhile).  The GIL is
    released while probing.
    """

def grams(
    char_ids: Buffer,
    last: Buffer,
    size: int,
    lengths: Buffer,
    tables: tuple[Buffer, ...],
    filters: tuple[Buffer, ...],
    gated: bytes,
    gate: int,
    values: Buffer,
    /,
) -> None:
    """The values of the n-grams starting at each position, n = ``lengths[r]``.

    Row r of ``values`` gets, for each position i, the value stored (as
    ``find`` finds it) for the key of the n ids from i, base ``size``, PAD
    (0) past the end of i's sequence (``last`` marks each sequence's final
    position) or of the array; 0 where the key is missing.  A row with
    ``gated[r]`` set is looked up only where the row before it, which must
    be of length ``lengths[r] - 1``, has a bit of ``gate``; it is 0
    elsewhere.  Keys wrap modulo 2**64 (the caller keeps ``size ** n``
    below 2**63).

    char_ids: int64 (n); last: uint8 (n); lengths: int64, increasing, each
    >= 2; tables, filters: one per length, as ``build`` filled them;
    gated: one byte per length; values: writable int64 (len(lengths), n).
    Raises ValueError on wrong sizes, lengths or gates, or a table without
    an empty slot (as find).  The GIL is released while making and looking
    up the keys.
    """

def classify(
    cps: Buffer,
    spaces: Buffer,
    fold: Buffer,
    ids: Buffer,
    space: Buffer,
    folded: Buffer,
    kept: Buffer,
    kept_ids: Buffer,
    /,
) -> int:
    """One pass over a batch's code points: ``space[i] = spaces[cps[i]]``
    (0 past the table); ``folded[i] = fold[cps[i]]`` (``cps[i]`` itself past
    the table); and for each position that is not space, in order, its index
    into ``kept`` and ``ids[min(cps[i], len(ids) - 1)]`` into ``kept_ids``.
    Returns how many were kept.

    cps, fold, folded: uint32; spaces, space: uint8; ids, kept, kept_ids:
    int64; space, folded, kept and kept_ids as long as cps.  Raises
    ValueError on wrong sizes or empty ids.  The GIL is released while
    classifying.
    """

def word_matches(flags: Buffer, rows: Buffer, bits: Buffer, lengths: Buffer, out: Buffer, /) -> None:
    """Fill the word-match feature matrix ``out``: for column pair c,
    ``out[i, 2c] = 1`` where ``flags[rows[c], i] & bits[c]`` (a word of
    ``lengths[c]`` characters begins at i) and ``out[i + lengths[c] - 1,
    2c + 1] = 1`` (it ends there); every other item 0.

    flags: int64 (L, n); rows, bits, lengths: int64, C items each (lengths
    >= 1, rows < L); out: writable float32 (n, 2C).  A word that would end
    past n is left out.  Raises ValueError on wrong sizes or rows.  The GIL
    is released while filling.
    """

def atom_runs(cps: Buffer, table: Buffer, starts: Buffer, ends: Buffer, joined: Buffer, /) -> tuple[int, int]:
    """The runs of two or more consecutive code points whose ``table`` byte
    is non-zero (0 past the table): their bounds into ``starts`` and
    ``ends``, their code points into ``joined``, each run followed by a
    newline.  Returns (runs, code points written to joined).

    cps, joined: uint32; table: uint8; starts, ends: int64 of at least
    ``len(cps) // 2 + 1`` items; joined of at least ``len(cps) + len(cps) //
    2 + 1``.  Raises ValueError on wrong sizes.  The GIL is released while
    scanning.
    """

def constrain(scores: Buffer, starts: Buffer, ends: Buffer, penalty: float, /) -> None:
    """Rule out every cut inside the spans ``[starts[k], ends[k])`` of the
    float32 (N, 4) tag scores, in place: ``penalty`` comes off s at each of
    a span's positions, off b at all but its first, off e at all but its
    last.  starts, ends: int64, as many; the spans in order, apart and
    within the scores, else ValueError.  The GIL is released while writing.
    """

def boundary_cuts(folded: Buffer, cps: Buffer, table: Buffer, rules: int, atom_starts: Buffer, atom_ends: Buffer,
                  span_starts: Buffer, span_reach: Buffer, cuts: Buffer, deferred: Buffer, /) -> tuple[int, int, int]:
    """The pairs (i, i + 1) of neighbours that segcli.boundaries' rules (bits)
    keep apart, outside the atoms (in order, apart) and the spans from
    ``span_starts[k]`` (sorted) to ``span_reach[k]`` (the furthest end of
    spans 0..k): each i into ``cuts``, or into ``deferred`` where the rule
    is decided in Python. Returns (cuts, deferred, 1 if a code point's class
    in ``table`` was unknown and the loop stopped there, else 0). folded,
    cps: uint32, as many; table: uint8; the rest int64, cuts and deferred of
    len(folded) items. The GIL is released.
    """

def require_cuts(scores: Buffer, cuts: Buffer, penalty: float, /) -> None:
    """For each i of ``cuts`` (int64, in [0, N - 1)), ``penalty`` comes off b
    and m at row i and off m and e at row i + 1 of the float32 (N, 4) tag
    scores, in place, else ValueError. The GIL is released while writing.
    """

def known_spans(ids: Buffer, width: int, pair: int, size: int, keys: Buffer, segments: Buffer, covered: Buffer,
                /) -> None:
    """For each row of ``ids`` (int64, ``width`` a row; 1 is unknown): does
    a run of columns [a, b) with a <= pair < pair + 1 < b spell, in base
    ``size``, a key in ``keys[start:end]`` of a row (length, start, end) of
    ``segments`` (int64, sorted slices) whose length is b - a. Into
    ``covered`` (uint8, a byte a row).
    """

def pack_rows(values: Buffer, item_bytes: int, stream_at: Buffer, margin: int, core: int, rows: Buffer, /) -> None:
    """Lay ``values`` (one item of ``item_bytes`` a position, contiguous) into
    the overlapping ``rows``: item j sits at stream position
    ``stream_at[j]`` (int64); row r holds the stream's ``[r * core - margin,
    r * core + core + margin)``; every other byte is zero.  rows: writable,
    whole rows of ``core + 2 * margin`` items.  Raises ValueError on wrong
    sizes or a position outside the rows.  The GIL is released while copying.
    """

def unpack_rows(rows: Buffer, item_bytes: int, stream_at: Buffer, margin: int, core: int, values: Buffer, /) -> None:
    """The reverse of pack_rows, each position read from its own row:
    ``values[j] = rows[p // core, margin + p % core]`` for ``p =
    stream_at[j]``.  Raises ValueError on wrong sizes or a position outside
    the rows.  The GIL is released while copying.
    """

def word_features(cps: Buffer, space: Buffer, starts: Buffer, ends: Buffer, line_starts: Buffer,
                  line_ends: Buffer, buckets: int, features: Buffer, /) -> None:
    """The word head's features of each word ``cps[starts[k]:ends[k]]``
    (``cps`` uint32, ``space`` one byte a code point, nonzero for
    whitespace; the others int64, one a word) into ``features`` (writable
    int32, 12 a word, -1 for a feature the word has not): buckets below
    ``buckets`` (a power of two, at most 2**30) of hashed code point runs,
    the word's context read inside ``[line_starts[k], line_ends[k])`` with
    the whitespace left out.  Raises ValueError on wrong sizes, a word of no
    character or outside its line.  The GIL is released while hashing.
    """

def word_head(features: Buffer, table: Buffer, width: int, scales: Buffer, biases: Buffer, weights: Buffer,
              out_biases: Buffer, ids: Buffer, /) -> None:
    """Each word's tag id into ``ids`` (writable int64): the first largest
    of ``out_biases + hidden @ weights`` (a NaN counting as -inf)
    with ``hidden = scales * (rows of the int8 ``table`` named by the word's
    features, -1 skipped, summed) + biases``, units above 0 only; float32,
    each product rounded before its sum, in order of the unit (float32
    ``scales``, ``biases`` (width,), ``weights`` (width, tags),
    ``out_biases`` (tags,); tags in whole blocks of 8, up to 64, take the
    fast path).  Raises ValueError on wrong sizes or a bucket outside the
    table.  The GIL is released while tagging.
    """

def render_text(
    cps: Buffer,
    tags: Buffer,
    space: Buffer,
    line_starts: Buffer,
    line_ends: Buffer,
    delimiter: Buffer,
    out: Buffer,
    body_ends: Buffer,
    word_labels: Buffer,
    labels: Buffer,
    label_ends: Buffer,
    /,
) -> int:
    """Each line's words as UTF-8, joined by ``delimiter``, back to back in ``out``.

    cps: uint32 code points of the batch; tags: uint8 tag ids, one per code
    point; space: one byte per code point, non-zero for whitespace (left out
    of every word).  A word begins at every non-space position tagged s or b
    or first after a space, and ends before the next begin or space (for the
    decoder's tags, which are legal between spaces, simply: s or b begins).
    line_starts, line_ends: int64 bounds of each line in cps; body_ends:
    writable int64, as many, receives where each line's body ends in out;
    lines must come in order and not overlap.
    word_labels: int64, one a word of the batch in order, or empty for none:
    the j-th word is followed by label ``word_labels[j]``, the bytes
    ``labels[label_ends[i - 1]:label_ends[i]]`` (label_ends: int64 ascending
    ends in labels, one a label).
    out: writable bytes, at least len(cps) * (4 + len(delimiter) + the
    longest label).
    Code points U+DC80..U+DCFF are written as the byte they stand for
    (surrogateescape).  Returns the bytes written, or -1 where a code point
    cannot be encoded (another surrogate).  Raises ValueError on wrong sizes
    or bounds, or labels that are not one a word.  The GIL is released while writing.
    """

def words(lines: tuple[str, ...], tags: Buffer, space: Buffer, line_starts: Buffer, line_ends: Buffer, /) -> list[list[str]]:
    """Each line's words as slices of the line itself, cut as render_text
    cuts them; ``lines[k]`` spans ``[line_starts[k], line_ends[k])`` of tags
    and space (uint8, one byte per character of the batch).  Raises
    ValueError on wrong sizes or bounds or a line of another length.  Holds
    the GIL: it makes the strings.
    """

def trie_walk(cps: Buffer, nodes: Buffer, letter: Buffer, root: Buffer, longest: int, ends: Buffer, ids: Buffer, /) -> int:
    """Every occurrence in ``cps`` (uint32) of a word of the automaton
    (segcli.trie's arrays: ``nodes`` int32 records of (first child, fail
    link, suffix link, word id or -1), one per node and one more; ``letter``
    uint32, one per node; ``root``: uint32, the root's child by each letter
    below 0x10000, or empty), as pyahocorasick's iter finds them: by end
    position, and at one position the longest word first, then those along
    its fail links.  End positions and word ids go into ``ends`` and ``ids``
    (writable int64, as many) while there is room; returns how many there
    are, which may be more than ``len(ends)``: then call again with room for
    all.  longest: the longest word's length.  Raises ValueError on wrong
    sizes, or arrays that are not an automaton where the walk meets it (it
    never reads outside them).  The GIL is released while walking.
    """

def single_matches(cps: Buffer, table: Buffer, chars: Buffer, ids: Buffer, ends: Buffer, found: Buffer, /) -> int:
    """The positions of ``cps`` (uint32) whose code point is a one-character
    word into ``ends``, its id into ``found``, in order; returns how many.  A
    code point below ``len(table)`` is one where ``table`` (int32) holds its
    id (-1: none there), any other where it is ``chars[k]`` (sorted int64),
    of id ``ids[k]`` (int64, as many).  ends, found: writable int64, at least
    ``len(cps)`` each, else ValueError.  The GIL is released while searching.
    """

def trie_check(nodes: Buffer, letter: Buffer, longest: int, lengths: Buffer, ids: Buffer, /) -> int:
    """Check that the arrays (as trie_walk takes them) are an automaton's:
    one tree numbered level by level, each node's letters ascending, no
    deeper than ``longest``; fail links to shallower nodes, suffix links as
    they make them; and with ``lengths`` (int64, each id's word length; empty:
    no check of ids), exactly the words ``ids`` (int64, distinct, below
    ``len(lengths)``) at nodes of their length.  Returns the number of words;
    raises ValueError saying why if they are not.  The GIL is released while
    checking.
    """
