"""Encode stage: ids, n-gram keys and the hash index behind them."""

import numpy as np
import pytest
import reference_lookup
from hypothesis import given, settings
from hypothesis import strategies as st

from segcli import _core
from segcli.encode import PAD, UNK, KeyIndex, Vocab, _ngram_keys

keys_strategy = st.lists(st.integers(1, 2**62), max_size=300, unique=True)
NO_FILTER = np.zeros(0, np.uint64)


@settings(max_examples=200, deadline=None)
@given(keys_strategy, st.lists(st.integers(0, 2**62), max_size=200), st.data(), st.integers(0, 5), st.booleans())
def test_key_index_agrees_with_its_numpy_twin_and_binary_search(keys, others, data, first, filtered):
    known = np.array(sorted(keys), dtype=np.int64)
    present = data.draw(st.lists(st.sampled_from(keys), max_size=200)) if keys else []
    queries = np.array(present + others, dtype=np.int64)
    index = KeyIndex(known, first, filtered=filtered)
    got = index.get(queries, -7)
    expected = np.where(np.isin(queries, known), np.searchsorted(known, queries) + first, -7)
    assert got.tolist() == expected.tolist()
    bits = len(index.table).bit_length() - 1
    twin = reference_lookup.build(known, np.arange(len(known)) + first, bits)
    assert reference_lookup.find(twin, queries, -7).tolist() == got.tolist()
    # Tables built either way answer alike (placement may differ, answers may not).
    out = np.empty(len(queries), np.int64)
    _core.find(twin, NO_FILTER, queries, -7, out)
    assert out.tolist() == got.tolist()


@pytest.mark.parametrize("keys, table_size, error", [
    ([-1], 8, "positive"),
    ([0], 8, "positive"),
    (list(range(8)), 8, "more slots"),
    ([1], 6, "power of two"),
])
def test_lookup_build_refuses_bad_tables(keys, table_size, error):
    table = np.zeros((table_size, 2), np.int64)
    with pytest.raises(ValueError, match=error):
        _core.build(np.array(keys, np.int64), np.zeros(len(keys), np.int64), table, NO_FILTER)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 50), st.integers(0, 7)), max_size=60))
def test_lookup_build_ors_the_values_of_a_repeated_key(pairs):
    keys = np.array([k for k, _ in pairs], np.int64)
    values = np.array([v for _, v in pairs], np.int64)
    size = 1 << max(4, int(4 * len(keys)).bit_length())
    table = np.zeros((size, 2), np.int64)
    _core.build(keys, values, table, NO_FILTER)
    queries = np.arange(-1, 52, dtype=np.int64)
    out = np.empty(len(queries), np.int64)
    _core.find(table, NO_FILTER, queries, -9, out)
    expected = [-9 if q not in set(keys.tolist()) else int(np.bitwise_or.reduce(values[keys == q]))
                for q in queries.tolist()]
    assert out.tolist() == expected
    twin = reference_lookup.build(keys, values, size.bit_length() - 1)
    assert reference_lookup.find(twin, queries, -9).tolist() == expected


def test_lookup_find_checks_sizes():
    with pytest.raises(ValueError, match="differ in length"):
        _core.find(np.zeros((8, 2), np.int64), NO_FILTER, np.zeros(3, np.int64), 0, np.zeros(2, np.int64))
    with pytest.raises(ValueError, match="8-byte"):
        _core.find(np.zeros((8, 2), np.int32), NO_FILTER, np.zeros(3, np.int64), 0, np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="twice a power of two"):
        _core.find(np.zeros((6, 2), np.int64), NO_FILTER, np.zeros(3, np.int64), 0, np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="filter: bit count"):
        _core.find(np.zeros((8, 2), np.int64), np.zeros(3, np.uint64), np.zeros(3, np.int64), 0, np.zeros(3, np.int64))


def test_ngram_keys_never_cross_a_sequence_end():
    ids = np.array([5, 6, 7, 8, 9, 10])
    last = np.array([0, 0, 1, 0, 0, 1], dtype=bool)
    keys = _ngram_keys(ids, last, 100, {2, 3})
    assert keys[2].tolist() == [506, 607, 700, 809, 910, 1000]
    assert keys[3].tolist() == [50607, 60700, 70000, 80910, 91000, 100000]


def test_vocab_ids_fold_full_width_and_mark_unknowns():
    vocab = Vocab("1ab中", {2: np.array([], dtype=np.int64)}, {})
    ids = vocab.char_ids("１a中?")
    assert ids[0] != UNK and ids[0] == vocab.char_ids("1")[0]
    assert ids[3] == UNK and PAD not in ids


def test_word_features_mark_begins_and_ends():
    vocab = Vocab("中国人民", {2: np.array([], dtype=np.int64)}, {})
    vocab = Vocab("中国人民", {}, vocab.word_keys_of({"中国", "人民", "国人民"}, 3))
    ids = vocab.char_ids("中国人民")
    (matches,) = vocab.features(ids, np.array([0, 0, 0, 1], dtype=bool))
    # columns: length 2 begins, length 2 ends, length 3 begins, length 3 ends
    assert matches.tolist() == [[1, 0, 0, 0], [0, 1, 1, 0], [1, 0, 0, 0], [0, 1, 0, 1]]


def test_word_features_of_sequences_shorter_than_a_word():
    vocab = Vocab("中国人民", {}, {})
    vocab = Vocab("中国人民", {}, vocab.word_keys_of({"中国人民"}, 4))
    for text in ("中", "中国", "中国人"):
        (matches,) = vocab.features(vocab.char_ids(text), np.eye(len(text), dtype=bool)[-1])
        assert not matches.any()


def test_code_points_past_the_tables_are_unknown_and_their_own_lookup_form():
    vocab = Vocab("中文", {}, {}, lookup={ord("國"): ord("国")})
    text = "中國ａ\U0010FFFF\U0002A6A5\udc80文"
    assert vocab.lookup_form(text) == "中国a\U0010FFFF\U0002A6A5\udc80文"
    assert vocab.char_ids(text).tolist() == [2, UNK, UNK, UNK, UNK, UNK, 3]
    assert vocab._limit < 0x20000  # the point: tables sized by what folds or has an id


def _word_matches_reference(flags_by_length: dict, columns, n: int) -> np.ndarray:
    """The numpy twin of _core.word_matches (as Vocab.features built the matrix before)."""
    matches = np.zeros((n, 2 * len(columns)), dtype=np.float32)
    for column, (bit, length) in enumerate(columns):
        begins = (flags_by_length[length] & bit) != 0
        matches[:, 2 * column] = begins
        matches[length - 1 :, 2 * column + 1] = begins[: max(0, n - length + 1)]
    return matches


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 30), st.lists(st.tuples(st.sampled_from([1, 2, 4]), st.integers(1, 6)), max_size=6),
       st.data())
def test_word_matches_agree_with_their_numpy_twin(n, columns, data):
    lengths = sorted({length for _, length in columns})
    flags = np.array([data.draw(st.lists(st.integers(0, 7), min_size=n, max_size=n)) for _ in lengths],
                     dtype=np.int64).reshape(len(lengths), n)
    out = np.full((n, 2 * len(columns)), 7, dtype=np.float32)  # every item must be written
    _core.word_matches(flags, np.array([lengths.index(length) for _, length in columns], np.int64),
                       np.array([bit for bit, _ in columns], np.int64),
                       np.array([length for _, length in columns], np.int64), out)
    expected = _word_matches_reference(dict(zip(lengths, flags)), columns, n)
    assert out.tolist() == expected.tolist()


@pytest.mark.parametrize("rows, lengths, error", [([1], [2], "not a row"), ([-1], [2], "not a row"),
                                                   ([0], [0], "at least 1"), ([0], [2**63 - 1], None)])
def test_word_matches_checks_rows_and_lengths(rows, lengths, error):
    args = (np.ones((1, 3), np.int64), np.array(rows, np.int64), np.array([1], np.int64),
            np.array(lengths, np.int64), np.zeros((3, 2), np.float32))
    if error is None:  # a word too long to end inside: left out, whatever its length
        _core.word_matches(*args)
        assert args[-1].tolist() == [[1, 0]] * 3
        return
    with pytest.raises(ValueError, match=error):
        _core.word_matches(*args)


def _features_reference(ngrams: list[str], words: set[str], lexicon: set[str], texts: list[str],
                        max_len: int) -> list[np.ndarray]:
    """Vocab.features by brute force: each n-gram of each text looked up in
    plain sets (PAD past a text's end), every length at every position."""
    ngram_id = {g: i + 2 for i, g in enumerate(sorted(ngrams))}
    columns = [(1, n) for n in range(2, max_len + 1)] + [(2, n) for n in range(2, max_len + 1)]
    ids, flags = [], {n: [] for n in range(2, max_len + 1)}
    for text in texts:
        for i in range(len(text)):
            gram = text[i : i + 2]
            ids.append(ngram_id.get(gram, UNK))  # past the end: never an n-gram of the vocabulary
            for n in flags:
                g = text[i : i + n]
                flags[n].append((len(g) == n and g in words) * 1 | (len(g) == n and g in lexicon) * 2)
    total = sum(len(t) for t in texts)
    return [np.array(ids, np.int64),
            _word_matches_reference({n: np.array(f, np.int64) for n, f in flags.items()}, columns, total)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text("abcd", min_size=2, max_size=4), max_size=12),
       st.lists(st.text("abcd", min_size=2, max_size=4), max_size=12),
       st.lists(st.text("abcd", min_size=2, max_size=2), max_size=10),
       st.lists(st.text("abcdx", min_size=1, max_size=12), min_size=1, max_size=5))
def test_features_agree_with_brute_force_lookups(words, lexicon, ngrams, texts):
    """One lookup a length and order, or a gated chain of them through the
    prefix flags: the answers are every n-gram's, looked up on its own."""
    chars = "abcd"  # x is unknown: no word or n-gram holds it
    partial = Vocab(chars, {}, {})
    ngram_keys = {2: np.unique(np.array([partial.char_ids(g)[0] * partial.size + partial.char_ids(g)[1]
                                         for g in ngrams], dtype=np.int64))}
    vocab = Vocab(chars, ngram_keys, partial.word_keys_of(words, 4), lexicon_keys=partial.word_keys_of(lexicon, 4))
    ids = vocab.char_ids("".join(texts))
    last = np.zeros(len(ids), bool)
    last[np.cumsum([len(t) for t in texts]) - 1] = True
    got = vocab.features(ids, last)
    expected = _features_reference(sorted(set(ngrams)), set(words), set(lexicon), texts, 4)
    assert [g.tolist() for g in got] == [e.tolist() for e in expected]
    # and with a fold's own word list, as training asks
    fold = vocab.features(ids, last, partial.word_keys_of(words[::2], 4))
    assert [g.tolist() for g in fold] == [e.tolist() for e in _features_reference(
        sorted(set(ngrams)), set(words[::2]), set(lexicon), texts, 4)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 0x80), st.sampled_from([0x3000, 0xFF21, 0x570B, 0x56FD, 0x4E2D, 0x110000,
                                                                  0xFFFFFFFF]), st.integers(0, 0x10FFFF)),
                max_size=60),
       st.lists(st.booleans(), max_size=0x90))
def test_classify_agrees_with_its_numpy_twin(cps, spaces):
    """_core.classify against the numpy it replaced: a table lookup for
    whitespace, lookup_codepoints, flatnonzero and char_ids_of."""
    vocab = Vocab("中国a1", {}, {}, lookup={0x570B: 0x56FD})
    cps = np.array(cps, dtype=np.uint32)
    table = np.array(spaces, dtype=bool)
    space, folded, kept, ids = vocab.classify(cps, table)
    twin_space = np.array([c < len(table) and table[c] for c in cps.tolist()], dtype=bool)
    twin_kept = np.flatnonzero(~twin_space)
    assert space.tolist() == twin_space.tolist()
    assert folded.tolist() == vocab.lookup_codepoints(cps).tolist()
    assert kept.tolist() == twin_kept.tolist()
    assert ids.tolist() == vocab.char_ids_of(cps[twin_kept]).tolist()


@settings(max_examples=300, deadline=None)
@given(st.integers(2, 9), st.lists(st.integers(0, 8), max_size=40), st.lists(st.booleans(), max_size=40),
       st.lists(st.integers(2, 5), min_size=1, max_size=4, unique=True), st.data())
def test_grams_agree_with_their_numpy_twin(size, ids, ends, lengths, data):
    """_core.grams (keys made and looked up in one pass per length, a gated
    length only behind a prefix bit) against _ngram_keys and plain lookups."""
    ids = np.array([i % size for i in ids], dtype=np.int64)
    last = np.array([*ends, *[False] * len(ids)][: len(ids)], dtype=bool)
    lengths = sorted(lengths)
    gate = 1 << 40
    keys = _ngram_keys(ids, last, size, set(lengths))
    tables, filters, gated = [], [], []
    for row, n in enumerate(lengths):
        # Keys of n-grams in the text (hits) and others (misses), some with the gate bit.
        present = data.draw(st.lists(st.sampled_from(keys[n].tolist()), max_size=8)) if len(ids) else []
        stored = sorted({k for k in present + data.draw(st.lists(st.integers(1, size**n), max_size=4)) if k > 0})
        values = [data.draw(st.sampled_from([3, gate, gate | 5])) for _ in stored]
        index = KeyIndex(np.array(stored, np.int64), values=np.array(values, np.int64), filtered=data.draw(st.booleans()))
        tables.append(index.table)
        filters.append(index.filter)
        gated.append(row > 0 and lengths[row - 1] == n - 1 and data.draw(st.booleans()))
    got = np.empty((len(lengths), len(ids)), np.int64)
    _core.grams(ids, last.view(np.uint8), size, np.array(lengths, np.int64), tuple(tables), tuple(filters),
                bytes(gated), gate, got)
    expected = reference_lookup.grams(ids, last, size, lengths, tables, gated, gate)
    assert got.tolist() == expected.tolist()


def test_grams_checks_lengths_gates_and_sizes():
    index = KeyIndex(np.array([5], np.int64))
    ids, last = np.zeros(4, np.int64), np.zeros(4, np.uint8)

    def call(lengths, gated, values_shape=None, size=3):
        values = np.empty(values_shape or (len(lengths), 4), np.int64)
        _core.grams(ids, last, size, np.array(lengths, np.int64), (index.table,) * len(lengths),
                    (index.filter,) * len(lengths), bytes(gated), 1, values)

    call([2, 3], [0, 1])
    for lengths, gated, shape, size, error in [([3, 2], [0, 0], None, 3, "increasing"),
                                               ([1], [0], None, 3, "at least 2"),
                                               ([2, 4], [0, 1], None, 3, "one shorter"),
                                               ([2], [1], None, 3, "one shorter"),
                                               ([2], [0], (1, 3), 3, "values"),
                                               ([2], [0, 0], None, 3, "gated"),
                                               ([2], [0], None, 0, "positive")]:
        with pytest.raises(ValueError, match=error):
            call(lengths, gated, shape, size)


def test_a_table_without_an_empty_slot_is_an_error_not_an_endless_probe():
    # Only a table rewritten by another thread meanwhile could be full; find
    # and grams share the probe that stops and says so.
    full = np.stack([np.arange(1, 17, dtype=np.int64), np.zeros(16, np.int64)], axis=1)
    with pytest.raises(ValueError, match="no empty slot"):
        _core.find(full, NO_FILTER, np.array([99], np.int64), 0, np.empty(1, np.int64))
    with pytest.raises(ValueError, match="no empty slot"):
        _core.grams(np.array([5, 6], np.int64), np.array([0, 1], np.uint8), 10, np.array([2], np.int64), (full,),
                    (NO_FILTER,), bytes(1), 0, np.empty((1, 2), np.int64))


def test_classify_checks_its_buffers():
    args = [np.zeros(3, np.uint32), np.zeros(2, np.uint8), np.zeros(2, np.uint32), np.zeros(2, np.int64),
            np.zeros(3, np.uint8), np.zeros(3, np.uint32), np.zeros(3, np.int64), np.zeros(3, np.int64)]
    assert _core.classify(*args) == 3
    for i, bad in [(4, np.zeros(2, np.uint8)), (6, np.zeros(2, np.int64)), (3, np.zeros(0, np.int64)),
                   (0, np.zeros(3, np.int64))]:
        with pytest.raises(ValueError):
            _core.classify(*args[:i], bad, *args[i + 1:])


def test_a_filter_sets_one_bit_a_key_and_answers_alike():
    keys = np.arange(1, 2001, dtype=np.int64) * 7919
    filtered, plain = KeyIndex(keys, filtered=True), KeyIndex(keys)
    set_bits = int(np.unpackbits(filtered.filter.view(np.uint8)).sum())
    assert 0 < set_bits <= len(keys) and len(filtered.filter) * 64 == len(filtered.table) * 2
    queries = np.arange(0, 40000, dtype=np.int64) * 13
    assert filtered.get(queries, -1).tolist() == plain.get(queries, -1).tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=8), st.integers(0, 3), st.integers(0, 6),
       st.integers(1, 9), st.sampled_from([(np.int64, ()), (np.float32, (3,)), (np.uint8, (2,))]))
def test_pack_and_unpack_rows_agree_with_their_numpy_twins(lengths, gap, margin, core, kind):
    import reference_rows

    dtype, item_shape = kind
    n = sum(lengths)
    stream_at = np.arange(n, dtype=np.int64) + gap * np.repeat(np.arange(len(lengths)), lengths)
    size = int(stream_at[-1]) + 1 if n else 1
    rows = -(-size // core)
    values = (np.arange(n * max(1, int(np.prod(item_shape)))) + 1).astype(dtype).reshape(n, *item_shape)
    packed = np.full((rows, core + 2 * margin, *item_shape), 99, dtype=dtype)  # every byte must be written
    _core.pack_rows(values, values.itemsize * int(np.prod(item_shape, dtype=np.int64)), stream_at, margin, core,
                    packed)
    assert packed.tolist() == reference_rows.pack_rows(values, stream_at, margin, core, rows).tolist()
    back = np.zeros_like(values)
    _core.unpack_rows(packed, values.itemsize * int(np.prod(item_shape, dtype=np.int64)), stream_at, margin, core,
                      back)
    assert back.tolist() == values.tolist() == reference_rows.unpack_rows(packed, stream_at, margin, core).tolist()


def test_pack_rows_refuses_positions_outside_the_rows():
    with pytest.raises(ValueError, match="outside the rows"):
        _core.pack_rows(np.ones(2, np.int64), 8, np.array([0, 9], np.int64), 1, 4, np.zeros((2, 6), np.int64))
    with pytest.raises(ValueError, match="whole rows"):
        _core.pack_rows(np.ones(2, np.int64), 8, np.array([0, 1], np.int64), 1, 4, np.zeros((2, 5), np.int64))


def test_blank_rows_are_zeros_because_pad_is_zero():
    # pack_rows fills every blank with zero bytes: PAD must be 0 (and "no word match" is 0.0).
    assert PAD == 0


_ANY_INT64 = st.one_of(st.integers(-2, 40), st.integers(-2**63, 2**63 - 1))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.integers(0, 3), st.data())
def test_tables_of_any_content_are_read_within_their_bounds(bits, filter_log, data):
    """A table and filter mapped from a damaged cache file (segcli.tablecache)
    may hold anything: find and grams read only inside them (the slot is the
    hash masked to the table, the filter word the bit over 64), answer as the
    numpy twin does, and refuse only a table without an empty slot."""
    slots = 1 << bits
    table = np.array(data.draw(st.lists(_ANY_INT64, min_size=2 * slots, max_size=2 * slots)), np.int64)
    table = table.reshape(slots, 2)
    words = 1 << filter_log
    filter_ = np.array(data.draw(st.lists(st.integers(0, 2**64 - 1), min_size=words, max_size=words)), np.uint64)
    keys = np.array(data.draw(st.lists(_ANY_INT64, max_size=50)), np.int64)
    out, filtered = np.empty(len(keys), np.int64), np.empty(len(keys), np.int64)
    if (table[:, 0] != 0).all():
        if np.isin(keys, table[:, 0]).all():
            _core.find(table, NO_FILTER, keys, -7, out)  # every probe ends at its key
        else:
            with pytest.raises(ValueError, match="no empty slot"):
                _core.find(table, NO_FILTER, keys, -7, out)
        return
    _core.find(table, NO_FILTER, keys, -7, out)
    assert out.tolist() == reference_lookup.find(table, keys, -7).tolist()
    _core.find(table, filter_, keys, -7, filtered)  # a filter can only turn answers into misses
    assert all(f in (o, -7) for f, o in zip(filtered.tolist(), out.tolist()))
    ids = np.array(data.draw(st.lists(st.integers(0, 5), max_size=30)), np.int64)
    last = np.zeros(len(ids), np.bool_)
    gated, gate = data.draw(st.booleans()), data.draw(_ANY_INT64)
    values = np.empty((2, len(ids)), np.int64)
    _core.grams(ids, last.view(np.uint8), 3, np.array([2, 3], np.int64), (table, table), (NO_FILTER, NO_FILTER),
                bytes([0, gated]), gate, values)
    assert values.tolist() == reference_lookup.grams(ids, last, 3, [2, 3], [table, table], [False, gated],
                                                     gate).tolist()
