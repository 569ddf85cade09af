"""The model's hash tables cached on disk (segcli.tablecache): a hit must
answer exactly as built tables do, and anything that is not exactly what
store() wrote for that key must be a miss (rebuilt and replaced)."""

import json
import os
import random
import subprocess
import zlib

import numpy as np
import pytest
from conftest import python_c

from segcli import model, tablecache
from segcli.segmenter import Segmenter
from segcli.encode import KeyIndex, Vocab
from segcli.errors import CacheError

TEXT = "扫描二维码，关注微信号。中共中央总书记、国家主席江泽民发表了新年讲话。2024年GDP增长5.2%"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("SEG_CACHE_DIR", str(d))
    return d


@pytest.fixture
def stores(monkeypatch):
    calls = []
    real = tablecache.store
    monkeypatch.setattr(tablecache, "store", lambda *a: (calls.append(a[0]), real(*a))[1])
    return calls


def features(vocab: Vocab) -> list[np.ndarray]:
    ids = vocab.char_ids(TEXT)
    last = np.zeros(len(ids), bool)
    last[-1] = True
    return vocab.features(ids, last)


def mapped(vocab: Vocab) -> bool:
    """Whether every table of the vocab comes from the cache (read-only, memory-mapped)."""
    return all(not a.flags.writeable for a in vocab.tables().values())


BUILT = None


def built_features():
    global BUILT
    if BUILT is None:
        BUILT = features(model.load().vocab)
    return BUILT


def equal(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def the_file(d) -> str:
    files = [f for f in os.listdir(d) if f.endswith(tablecache.SUFFIX)]
    assert len(files) == 1, files
    return os.path.join(d, files[0])


def forged(data: bytes) -> bytes:
    """The file with its checksum recomputed (segcli.cachefile: a CRC-32 at
    bytes 20-24 of everything else), as a deliberate change would have it."""
    return data[:20] + zlib.crc32(data[24:], zlib.crc32(data[:20])).to_bytes(4, "little") + data[24:]


def first_array(data: bytes) -> int:
    """The offset of a table file's first array."""
    n = int.from_bytes(data[16:20], "little")
    return json.loads(data[24 : 24 + n])["arrays"][0][3]


CUT = "扫描二维码，关注微信号。"


def test_the_shipped_model_is_cached_and_read_back_alike(cache, stores):
    first = model.load()
    assert len(stores) == 1 and not mapped(first.vocab)
    assert os.stat(the_file(cache)).st_mode & 0o777 == 0o600
    second = model.load()
    assert len(stores) == 1 and mapped(second.vocab)  # a hit stores nothing
    assert equal(features(second.vocab), features(first.vocab))
    assert equal(features(second.vocab), built_features())


def test_small_models_are_never_cached(cache, stores, monkeypatch):
    monkeypatch.setattr(tablecache, "MIN_KEYS", 10**9)
    model.load()
    assert stores == [] and not cache.exists()


@pytest.mark.parametrize("damage", [
    "garbage", "truncated", "trailing bytes", "other magic", "empty", "mode 0620",
])
def test_a_damaged_or_loose_file_is_a_miss_then_replaced(cache, stores, damage):
    model.load()
    path = the_file(cache)
    data = open(path, "rb").read()
    if damage == "garbage":
        data = b"x" * 100
    elif damage == "truncated":
        data = data[:-8]
    elif damage == "trailing bytes":
        data += b"\0" * 64
    elif damage == "other magic":
        data = b"seg-tables--v000" + data[16:]
    elif damage == "empty":
        data = b""
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o620 if damage == "mode 0620" else 0o600)
    again = model.load()
    assert not mapped(again.vocab) and len(stores) == 2  # built and stored again
    assert equal(features(again.vocab), built_features())
    assert mapped(model.load().vocab)


@pytest.mark.parametrize("what", ["a directory", "a deep header", "a huge shape", "a symlink"])
def test_what_is_no_file_of_ours_is_a_miss(cache, stores, what):
    model.load()
    path = the_file(cache)
    os.unlink(path)
    if what == "a directory":
        os.mkdir(path, 0o700)
    elif what == "a symlink":
        target = cache / "elsewhere"
        target.write_bytes(b"")
        os.symlink(target, path)
    else:
        header = b"[" * 60000 if what == "a deep header" else (
            b'{"key": %s, "arrays": [["x", "<i8", [%d], 64]]}' % (json.dumps(stores[0]).encode(), 2**70))
        with open(path, "wb") as f:
            f.write(forged(tablecache.MAGIC + len(header).to_bytes(4, "little") + bytes(4) + header))
        os.chmod(path, 0o600)
    again = model.load()  # no error: built as without a cache
    assert not mapped(again.vocab)
    assert equal(features(again.vocab), built_features())


@pytest.mark.parametrize("damage", ["not a power of two", "float", "no filter", "filter of another size"])
def test_malformed_tables_are_built(cache, damage):
    """Stored tables the C lookups would refuse are not used, whatever the file says."""
    loaded = model.load()
    tables = dict(loaded.vocab.tables())
    name = "grams3.table"
    if damage == "not a power of two":
        tables[name] = tables[name][:-16]
    elif damage == "float":
        tables[name] = tables[name].astype(np.float64).view(np.uint64)  # right size, wrong kind
    elif damage == "no filter":
        del tables["grams3.filter"]
    else:
        tables["grams3.filter"] = tables["grams3.filter"][:-1]
    key = tablecache.key_of([KeyIndex.LAYOUT, "damaged"])
    assert tablecache.store(key, tables)
    restored = tablecache.load(key)
    assert restored is not None
    vocab = Vocab(loaded.vocab.chars, loaded.vocab.ngram_keys, loaded.vocab.word_keys, loaded.vocab.lookup,
                  loaded.vocab.lexicon_keys, tables=restored)
    assert vocab.tables()[name] is not restored.get(name)  # built anew
    assert vocab.tables()["grams2.table"] is restored["grams2.table"]  # the rest still mapped
    assert equal(features(vocab), built_features())


def test_round_trip_and_key_mismatch(cache):
    arrays = {"a": np.arange(10, dtype=np.int64), "b": np.zeros(0, np.uint64),
              "c": np.arange(12, dtype=np.uint64).reshape(6, 2)}
    key = tablecache.key_of(["x"])
    assert tablecache.store(key, arrays)
    got = tablecache.load(key)
    assert sorted(got) == sorted(arrays)
    for name, a in arrays.items():
        assert got[name].dtype == a.dtype and got[name].shape == a.shape and np.array_equal(got[name], a)
        assert not got[name].flags.writeable
    assert tablecache.load(tablecache.key_of(["y"])) is None
    with pytest.raises(ValueError, match="int64"):
        tablecache.store(key, {"f": np.zeros(3, np.float32)})


def test_at_most_a_few_files_are_kept(cache, monkeypatch):
    monkeypatch.setattr(tablecache, "CACHE_MAX_FILES", 2)
    for k in range(4):
        assert tablecache.store(tablecache.key_of([k]), {"a": np.arange(k + 1, dtype=np.int64)})
    assert len(os.listdir(cache)) == 2
    assert tablecache.load(tablecache.key_of([3])) is not None


def test_an_unsafe_named_cache_dir_is_an_error(tmp_path, monkeypatch):
    d = tmp_path / "shared"
    d.mkdir()
    os.chmod(d, 0o777)
    monkeypatch.setenv("SEG_CACHE_DIR", str(d))
    with pytest.raises(CacheError, match="writable"):
        model.load()


def test_an_unusable_cache_dir_only_means_building(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("SEG_CACHE_DIR", str(blocker / "sub"))
    assert equal(features(model.load().vocab), built_features())


def test_no_home_directory_means_no_cache_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("SEG_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", "")  # expanduser("~") is then "": the default would be relative
    monkeypatch.chdir(tmp_path)
    assert equal(features(model.load().vocab), built_features())
    assert os.listdir(tmp_path) == []


def test_a_file_zeroed_from_its_first_array_on_is_a_miss(cache, stores, monkeypatch):
    """What a crash leaves: size, header, mode and owner intact, the arrays zero."""
    with monkeypatch.context() as m:
        m.setattr(tablecache, "MIN_KEYS", 10**9)
        want = Segmenter().cut(CUT)
    assert want == ["扫描", "二维码", "，", "关注", "微信号", "。"]
    model.load()
    path = the_file(cache)
    with open(path, "r+b") as f:
        start = first_array(f.read())
        size = f.seek(0, os.SEEK_END)
        f.seek(start)
        f.write(bytes(size - start))
    assert os.path.getsize(path) == size
    assert Segmenter().cut(CUT) == want
    assert len(stores) == 2  # a miss: built and stored again
    assert mapped(model.load().vocab) and Segmenter().cut(CUT) == want


def test_any_single_byte_changed_is_a_miss(cache):
    """The checksum covers every byte: the magic, the header and all arrays."""
    model.load()
    path = the_file(cache)
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[16:20], "little")
    key = json.loads(data[24 : 24 + n])["key"]
    assert tablecache.load(key) is not None
    rng = random.Random(5)
    spots = [rng.randrange(len(data)) for _ in range(50)] + [0, 16, 20, 24, len(data) - 1]
    with open(path, "r+b") as f:
        for at in spots:
            f.seek(at)
            f.write(bytes([data[at] ^ rng.randrange(1, 256)]))
            f.flush()
            assert tablecache.load(key) is None, at
            f.seek(at)
            f.write(data[at : at + 1])
            f.flush()
    assert tablecache.load(key) is not None


CHILD = """
import os, sys
os.environ["SEG_CACHE_DIR"] = sys.argv[1]
from segcli.segmenter import Segmenter
print(" ".join(Segmenter().cut(sys.argv[2])))
"""


def test_a_change_with_its_checksum_recomputed_never_crashes(tmp_path, cache, seg_env):
    """A deliberate change can give other ids, never a crash (each run in its own process)."""
    model.load()
    path = the_file(cache)
    with open(path, "rb") as f:
        data = f.read()
    start = first_array(data)
    rng = random.Random(11)
    for k in range(12):
        mutated = bytearray(data)
        at = rng.randrange(24, len(data)) if k % 4 == 0 else rng.randrange(start, len(data))
        mutated[at] ^= rng.randrange(1, 256)
        d = tmp_path / f"forged{k}"
        d.mkdir(mode=0o700)
        target = d / os.path.basename(path)
        target.write_bytes(forged(bytes(mutated)))
        os.chmod(target, 0o600)
        run = subprocess.run(python_c(CHILD, str(d), TEXT), env=seg_env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, (at, run.returncode, run.stderr[-2000:])
