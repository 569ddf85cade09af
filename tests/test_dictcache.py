"""The compiled-dictionary cache (segcli.dictcache): it must never run code
from a file, read only what the user alone could have written, and fall back
to building on anything else."""

import json
import math
import os
import pickle
import stat
import zlib

import ahocorasick
import numpy as np
import pytest

from segcli import dictcache, dictionary
from segcli.dictionary import UserDictionary
from segcli.errors import CacheError, SegError

FORCE = math.inf
ENTRIES = {"微信号": 10, "信号": 0.5, "号": FORCE, "关注": 3}
TEXT = "关注微信号，信号灯和号码"
ROOT = os.geteuid() == 0


def applied(d, text=TEXT):
    scores = np.zeros((len(text), 4), np.float32)
    d.apply(text, scores)
    return scores


WANT = applied(UserDictionary(ENTRIES, use_cache=False))


@pytest.fixture(autouse=True)
def small_dictionaries_are_cached(monkeypatch):
    monkeypatch.setattr(dictionary, "CACHE_MIN_ENTRIES", 1)


@pytest.fixture
def named(tmp_path, monkeypatch):
    """$SEG_CACHE_DIR names the cache directory (it does not exist yet)."""
    d = tmp_path / "named"
    monkeypatch.setenv("SEG_CACHE_DIR", str(d))
    return d


@pytest.fixture
def default(tmp_path, monkeypatch):
    """The default location: $XDG_CACHE_HOME/seg."""
    monkeypatch.delenv("SEG_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "seg"


@pytest.fixture
def builds(monkeypatch):
    """Counts the automata built (rather than read from the cache)."""
    calls = []
    real = dictionary._build_automaton
    monkeypatch.setattr(dictionary, "_build_automaton", lambda *a: (calls.append(1), real(*a))[1])
    return calls


def no_builds(monkeypatch):
    def fail(*args):
        raise AssertionError("built instead of read from the cache")
    monkeypatch.setattr(dictionary, "_build_automaton", fail)


def the_file(d):
    files = [f for f in os.listdir(d) if f.endswith(dictcache.SUFFIX)]
    assert len(files) == 1, files
    return d / files[0]


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def cache_name(tmp_path, monkeypatch):
    """The file name the dictionary ENTRIES is cached under, found by
    building it once in a scratch directory."""
    scratch = tmp_path / "scratch"
    with monkeypatch.context() as m:
        m.setenv("SEG_CACHE_DIR", str(scratch))
        UserDictionary(ENTRIES)
    return the_file(scratch).name


# --- the normal path ------------------------------------------------------------


def test_first_build_writes_private_file_second_load_reads_it(named, builds, monkeypatch):
    np.testing.assert_array_equal(applied(UserDictionary(ENTRIES)), WANT)
    assert builds == [1]
    assert mode(named) == 0o700
    path = the_file(named)
    assert mode(path) == 0o600
    assert path.read_bytes().startswith(dictcache.MAGIC)
    assert not [f for f in os.listdir(named) if f.startswith(".tmp-")]
    no_builds(monkeypatch)
    np.testing.assert_array_equal(applied(UserDictionary(dict(ENTRIES))), WANT)


def test_default_location_is_created_private(default, builds):
    np.testing.assert_array_equal(applied(UserDictionary(ENTRIES)), WANT)
    assert mode(default) == 0o700 and mode(the_file(default)) == 0o600


def test_never_unpickles(named, monkeypatch):
    UserDictionary(ENTRIES)

    def refuse(*args, **kwargs):
        raise AssertionError("the cache must not unpickle")
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(ahocorasick, "load", refuse)
    no_builds(monkeypatch)
    np.testing.assert_array_equal(applied(UserDictionary(ENTRIES)), WANT)


def test_large_dictionary_round_trip(named, builds, monkeypatch):
    rng = np.random.default_rng(7)
    words = {"".join(map(chr, rng.integers(0x4E00, 0x4E40, rng.integers(1, 5)))): float(k)
             for k in rng.integers(0, 4, 20_000)}
    text = "".join(map(chr, rng.integers(0x4E00, 0x4E40, 5_000)))
    want = applied(UserDictionary(words, use_cache=False), text)
    np.testing.assert_array_equal(applied(UserDictionary(words), text), want)
    assert builds == [1, 1]  # without and with the cache
    no_builds(monkeypatch)
    np.testing.assert_array_equal(applied(UserDictionary(words), text), want)


# --- the attack: a crafted file at the exact path ----------------------------------


class Payload:
    """Unpickling this creates the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def crafted(kind, target, marker):
    """Writes an attack of ``kind`` to ``target``."""
    if kind == "pickle":
        target.write_bytes(pickle.dumps(Payload(marker)))
    elif kind == "old-format-pickle":  # what the pickle cache held, with a payload
        target.write_bytes(pickle.dumps((b"seg-userdict-v2", Payload(marker))))
    elif kind == "pyahocorasick-save":  # its own format, with pickled values
        evil = ahocorasick.Automaton(ahocorasick.STORE_ANY)
        evil.add_word("微信号", Payload(marker))
        evil.make_automaton()
        evil.save(str(target), pickle.dumps)
    elif kind in ("our-header-pickle-chunk", "our-header-store-any"):  # a valid header, a pickle
        chunk = pickle.dumps(Payload(marker))
        store = ahocorasick.STORE_ANY if kind.endswith("store-any") else ahocorasick.STORE_INTS
        header = json.dumps({"key": target.name[:-len(dictcache.SUFFIX)], "kind": ahocorasick.AHOCORASICK,
                             "store": store, "key_type": ahocorasick.KEY_STRING, "words": 3,
                             "longest": 3, "chunks": [len(chunk)], "crc32": zlib.crc32(chunk)}).encode()
        target.write_bytes(dictcache.MAGIC + len(header).to_bytes(4, "little") + header + chunk)
    else:
        raise ValueError(kind)


ATTACKS = ["pickle", "old-format-pickle", "pyahocorasick-save", "our-header-pickle-chunk",
           "our-header-store-any"]


@pytest.mark.parametrize("kind", ATTACKS)
def test_payloads_are_live(tmp_path, kind):
    """The payloads do run code when loaded the naive way (so the tests below mean something)."""
    marker = tmp_path / "pwned"
    target = tmp_path / ("0" * 64 + dictcache.SUFFIX)
    crafted(kind, target, marker)
    if kind == "pyahocorasick-save":
        ahocorasick.load(str(target), pickle.loads)
    elif kind.startswith("our-header"):
        data = target.read_bytes()
        start = len(dictcache.MAGIC) + 4 + int.from_bytes(data[len(dictcache.MAGIC):][:4], "little")
        pickle.loads(data[start:])
    else:
        pickle.loads(target.read_bytes())
    assert marker.exists()


@pytest.mark.parametrize("kind", ATTACKS)
@pytest.mark.parametrize("where", ["safe named dir", "safe default dir", "world-writable default dir",
                                   "group-writable default dir"])
def test_crafted_file_never_runs(tmp_path, monkeypatch, kind, where):
    name = cache_name(tmp_path, monkeypatch)
    marker = tmp_path / "pwned"
    if "named" in where:
        d = tmp_path / "named"
        monkeypatch.setenv("SEG_CACHE_DIR", str(d))
    else:
        d = tmp_path / "xdg" / "seg"
        monkeypatch.delenv("SEG_CACHE_DIR", raising=False)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    d.mkdir(parents=True, mode=0o700)
    crafted(kind, d / name, marker)
    os.chmod(d / name, 0o600)
    if "world" in where:
        os.chmod(d, 0o777)
    elif "group" in where:
        os.chmod(d, 0o770)
    np.testing.assert_array_equal(applied(UserDictionary(ENTRIES)), WANT)
    assert not marker.exists()
    if "safe" in where:  # replaced by a good file, which is then read
        assert (d / name).read_bytes().startswith(dictcache.MAGIC)
        no_builds(monkeypatch)
        np.testing.assert_array_equal(applied(UserDictionary(ENTRIES)), WANT)
    else:  # an unsafe directory is neither read nor written
        assert os.listdir(d) == [name]
    assert not marker.exists()


@pytest.mark.parametrize("kind", ATTACKS)
@pytest.mark.parametrize("dir_mode", [0o777, 0o770, 0o1777, 0o702])
def test_unsafe_named_dir_is_an_error(tmp_path, monkeypatch, kind, dir_mode):
    name = cache_name(tmp_path, monkeypatch)
    marker = tmp_path / "pwned"
    d = tmp_path / "shared"
    d.mkdir()
    crafted(kind, d / name, marker)
    os.chmod(d, dir_mode)
    monkeypatch.setenv("SEG_CACHE_DIR", str(d))
    with pytest.raises(CacheError) as info:
        UserDictionary(ENTRIES)
    message = str(info.value)
    assert str(d) in message and "\n" not in message and "writable" in message
    assert isinstance(info.value, SegError)
    assert not marker.exists()
    # Without the cache, the same dictionary is fine.
    np.testing.assert_array_equal(applied(UserDictionary(ENTRIES, use_cache=False)), WANT)


def test_named_path_that_is_a_file_is_an_error(tmp_path, monkeypatch):
    f = tmp_path / "file"
    f.write_text("x")
    monkeypatch.setenv("SEG_CACHE_DIR", str(f))
    with pytest.raises(CacheError, match="is not a directory"):
        UserDictionary(ENTRIES)


def test_small_dictionaries_never_touch_the_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(dictionary, "CACHE_MIN_ENTRIES", 100)
    d = tmp_path / "shared"
    d.mkdir()
    os.chmod(d, 0o777)
    monkeypatch.setenv("SEG_CACHE_DIR", str(d))
    np.testing.assert_array_equal(applied(UserDictionary(ENTRIES)), WANT)  # no CacheError
    assert os.listdir(d) == []


# --- files that are not exactly ours ------------------------------------------------


@pytest.mark.parametrize("location", ["named", "default"])
def test_loose_file_mode_is_ignored_and_replaced(request, location, builds):
    d = request.getfixturevalue(location)
    UserDictionary(ENTRIES)
    path = the_file(d)
    for loose in (0o666, 0o620, 0o602):
        os.chmod(path, loose)
        np.testing.assert_array_equal(applied(UserDictionary(ENTRIES)), WANT)
        assert mode(path) == 0o600  # rebuilt and replaced
    assert builds == [1, 1, 1, 1]


@pytest.mark.skipif(not ROOT, reason="needs root to give files away")
def test_foreign_owner_is_refused(default, builds, monkeypatch):
    UserDictionary(ENTRIES)
    path = the_file(default)
    os.chown(path, 65534, 65534)
    np.testing.assert_array_equal(applied(UserDictionary(ENTRIES)), WANT)
    assert os.stat(path).st_uid == 0 and len(builds) == 2  # ignored, replaced
    os.chown(default, 65534, 65534)  # a directory someone else owns: skipped
    np.testing.assert_array_equal(applied(UserDictionary(ENTRIES)), WANT)
    assert len(builds) == 3
    monkeypatch.setenv("SEG_CACHE_DIR", str(default))
    with pytest.raises(CacheError, match="owned by uid 65534"):
        UserDictionary(ENTRIES)


def test_symlink_is_not_followed(named, builds):
    UserDictionary(ENTRIES)
    path = the_file(named)
    elsewhere = named.parent / "elsewhere.aho"
    os.replace(path, elsewhere)
    os.symlink(elsewhere, path)
    np.testing.assert_array_equal(applied(UserDictionary(ENTRIES)), WANT)
    assert len(builds) == 2 and not os.path.islink(path)


def test_fifo_does_not_block(named, builds):
    UserDictionary(ENTRIES)
    path = the_file(named)
    os.unlink(path)
    os.mkfifo(path, 0o600)
    np.testing.assert_array_equal(applied(UserDictionary(ENTRIES)), WANT)
    assert len(builds) == 2 and stat.S_ISREG(os.lstat(path).st_mode)


@pytest.mark.parametrize("damage", ["empty", "garbage", "magic only", "truncated half",
                                    "truncated last byte", "extra byte", "flipped byte",
                                    "flipped header", "other key"])
def test_damaged_file_falls_back(named, builds, monkeypatch, damage):
    UserDictionary(ENTRIES)
    path = the_file(named)
    data = path.read_bytes()
    if damage == "empty":
        data = b""
    elif damage == "garbage":
        data = b"garbage" * 100
    elif damage == "magic only":
        data = dictcache.MAGIC
    elif damage == "truncated half":
        data = data[:len(data) // 2]
    elif damage == "truncated last byte":
        data = data[:-1]
    elif damage == "extra byte":
        data += b"\0"
    elif damage == "flipped byte":
        data = data[:-20] + bytes([data[-20] ^ 0x40]) + data[-19:]
    elif damage == "flipped header":
        data = data.replace(b'"words": 3', b'"words": 4')
    elif damage == "other key":  # a good file under another key's name
        data = data.replace(path.name[:8].encode(), b"00000000", 1)
    path.write_bytes(data)
    np.testing.assert_array_equal(applied(UserDictionary(ENTRIES)), WANT)
    assert len(builds) == 2
    no_builds(monkeypatch)  # the rebuilt file replaced the damaged one
    np.testing.assert_array_equal(applied(UserDictionary(ENTRIES)), WANT)


def test_wrong_word_count_is_a_miss(named):
    UserDictionary(ENTRIES)
    key = the_file(named).name[:-len(dictcache.SUFFIX)]
    assert dictcache.load(key, 3) is not None  # 微信号, 信号, 关注
    assert dictcache.load(key, 4) is None
    assert dictcache.load("f" * 64, 3) is None


def test_store_refuses_other_automata(named):
    a = ahocorasick.Automaton(ahocorasick.STORE_ANY)
    a.add_word("ab", object())
    a.make_automaton()
    with pytest.raises(ValueError):
        dictcache.store("0" * 64, a)
    b = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    b.add_word("ab", 1)  # a trie, not yet an automaton
    with pytest.raises(ValueError):
        dictcache.store("0" * 64, b)


def test_prune_keeps_recent_files_and_drops_legacy(named, monkeypatch):
    monkeypatch.setattr(dictcache, "CACHE_MAX_FILES", 2)
    named.mkdir(mode=0o700)
    legacy = "ab" * 32 + ".pkl"
    (named / legacy).write_bytes(b"an old pickle")
    (named / "notes.pkl").write_bytes(b"not ours")
    (named / "notes.aho").write_bytes(b"not ours")
    (named / ".tmp-abcdefgh.pkl").write_bytes(b"the pickle cache's temporary file")
    os.utime(named / ".tmp-abcdefgh.pkl", (1, 1))
    stale = named / ".tmp-0123456789abcdef.aho"
    stale.write_bytes(b"left by a crash")
    os.utime(stale, (1, 1))
    fresh = named / ".tmp-fedcba9876543210.aho"
    fresh.write_bytes(b"being written")
    for k in (2, 3, 4):
        UserDictionary({"微信号" * k: 2})
    names = sorted(os.listdir(named))
    assert len([n for n in names if len(n) == 64 + len(dictcache.SUFFIX)]) == 2
    assert legacy not in names and stale.name not in names and ".tmp-abcdefgh.pkl" not in names
    assert {fresh.name, "notes.pkl", "notes.aho"} <= set(names)


def test_key_covers_words_order_and_build():
    k = dictcache.cache_key(["微信号", "信号"])
    assert k == dictcache.cache_key(["微信号", "信号"])
    assert k != dictcache.cache_key(["信号", "微信号"])
    assert k != dictcache.cache_key(["微信号信号"])
    assert k != dictcache.cache_key(["微信", "号信号"])
    assert len(k) == 64


def test_path_of(named):
    assert dictcache.path_of("ab") == os.path.join(str(named), "ab" + dictcache.SUFFIX)


@pytest.mark.parametrize("key", ["../" + "0" * 61, "A" * 64, "0" * 63, 0])
def test_keys_are_checked(named, key):
    with pytest.raises(ValueError):
        dictcache.load(key, 1)


# --- progress ---------------------------------------------------------------------


def test_progress_is_told_about_a_cold_compile_only(named, monkeypatch):
    monkeypatch.setattr(dictionary, "PROGRESS_MIN_WORDS", 2)
    heard = []
    UserDictionary(ENTRIES, progress=heard.append)
    assert heard == ["compiling a dictionary of 4 words (cached for next time)…"]
    UserDictionary(ENTRIES, progress=heard.append)  # from the cache: silent
    assert len(heard) == 1
    UserDictionary(ENTRIES, progress=heard.append, use_cache=False)
    assert heard[-1] == "compiling a dictionary of 4 words…"
    monkeypatch.setattr(dictionary, "PROGRESS_MIN_WORDS", 4)  # 3 words go to the automaton
    UserDictionary({**ENTRIES, "信": 2}, progress=heard.append)  # a cold compile, too small
    assert len(heard) == 2


# --- dictionaries read from files, kept whole -----------------------------------------

FILE_LINES = "微信号,10\n信号,0.5,n\n号,force\n关注\n云计算 5\n李小福 2 nr\nEdu Trust认证 2000\n信号,2\n\u200b\n"


@pytest.fixture
def dict_file(tmp_path, monkeypatch, named):
    """A dictionary file that is kept whole however small."""
    monkeypatch.setattr(dictcache, "FILES_MIN_BYTES", 1)
    path = tmp_path / "words.txt"
    path.write_text(FILE_LINES, encoding="utf-8")
    return path


def _as_loaded(loaded):
    d = loaded.dictionary
    return (dict(d.entries), dict(d.tags), len(d), loaded.duplicates, [(str(w), w.file, w.line) for w in loaded.warnings])


def test_files_read_again_are_mapped_not_parsed(dict_file, monkeypatch):
    cold = dictcache.from_files([dict_file])
    assert [f for f in os.listdir(dict_file.parent / "named") if f.endswith(dictcache.FILES_SUFFIX)]
    monkeypatch.setattr(dictcache, "read_dicts", lambda *a, **k: pytest.fail("parsed instead of mapped"))
    monkeypatch.setattr(dictionary, "_build_automaton", lambda *a: pytest.fail("built instead of mapped"))
    warm = dictcache.from_files([str(dict_file)])
    assert "微信号" in warm.dictionary and "微信" not in warm.dictionary and len(warm.dictionary) == 6
    assert warm.dictionary._entries_made is None  # no Python object per word until asked
    assert _as_loaded(warm) == _as_loaded(cold)
    assert len(warm.warnings) == 2 and warm.duplicates == 1  # whitespace, invisible; 信号 twice
    assert warm.dictionary.tag_of("信号") == "n"
    scores = np.zeros((len(TEXT), 4), np.float32)
    cold_scores = scores.copy()
    warm.dictionary.apply(TEXT, scores)
    cold.dictionary.apply(TEXT, cold_scores)
    assert scores.tobytes() == cold_scores.tobytes()


def test_a_cached_load_still_warns_of_skipped_lines(dict_file, segmenter):
    from segcli import Segmenter
    from segcli.dictfile import DictWarning

    for _ in range(2):  # cold, then cached
        with pytest.warns(DictWarning) as caught:
            loaded = Segmenter(dicts=[dict_file])
        assert sorted(str(w.message) for w in caught) == [
            f"{dict_file}:7: word 'Edu Trust认证' contains whitespace: seg cuts at every space, so it can never be "
            "one word; skipped",
            f"{dict_file}:9: word '\\u200b' is only invisible characters: it can never match; skipped"]
        assert loaded.duplicate_words == 1


def test_the_files_key_covers_their_bytes_and_the_model(dict_file, segmenter):
    plain = dictcache.files_key([dict_file])
    assert dictcache.files_key([dict_file], segmenter.vocab) not in (plain, None)
    # What a frequency line means depends on the model: 云计算 is listed without one.
    assert dictcache.from_files([dict_file]).dictionary.entries["云计算"] is None
    with_model = dictcache.from_files([dict_file], segmenter.vocab).dictionary.entries["云计算"]
    assert with_model == dictcache.from_files([dict_file], segmenter.vocab).dictionary.entries["云计算"]
    assert dictcache.files_key([dict_file, dict_file]) != plain
    dict_file.write_text(FILE_LINES + "北京\n", encoding="utf-8")
    assert dictcache.files_key([dict_file]) != plain
    assert "北京" in dictcache.from_files([dict_file]).dictionary


def test_only_regular_files_of_enough_bytes_are_kept_whole(dict_file, monkeypatch, tmp_path):
    import io

    assert dictcache.files_key([io.StringIO(FILE_LINES)]) is None
    assert dictcache.files_key([tmp_path]) is None  # a directory
    assert dictcache.files_key([tmp_path / "missing.txt"]) is None
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert dictcache.files_key([fifo]) is None  # never opened: it would block
    nul = tmp_path / "nul.txt"
    nul.write_bytes(FILE_LINES.encode() + b"\0")
    assert dictcache.files_key([nul]) is None
    assert dictcache.files_key([dict_file]) is not None
    monkeypatch.setattr(dictcache, "FILES_MAX_BYTES", len(FILE_LINES.encode()) - 1)
    assert dictcache.files_key([dict_file]) is None
    monkeypatch.setattr(dictcache, "FILES_MIN_BYTES", len(FILE_LINES.encode()) + 1)
    monkeypatch.setattr(dictcache, "FILES_MAX_BYTES", 2**40)
    assert dictcache.files_key([dict_file]) is None


@pytest.mark.parametrize("column, change", [("lengths", lambda a: a + 1), ("mults", lambda a: -a - 1),
                                            ("tag_ids", lambda a: a + 5), ("text", lambda a: a[::-1].copy()),
                                            ("char_ids", lambda a: a + 1), ("nodes", lambda a: a[::-1].copy())])
def test_a_crafted_file_of_the_right_checksum_is_a_miss(dict_file, column, change):
    from segcli import cachefile

    want = _as_loaded(dictcache.from_files([dict_file]))
    (path,) = [dict_file.parent / "named" / f for f in os.listdir(dict_file.parent / "named")
               if f.endswith(dictcache.FILES_SUFFIX)]
    header, columns = cachefile.unpack(path.read_bytes(), dictcache.FILES_MAGIC)
    columns = {name: np.array(a) for name, a in columns.items()}
    columns[column] = change(columns[column])
    fields = {k: v for k, v in header.items() if k != "arrays"}
    os.chmod(path, 0o600)
    path.write_bytes(b"".join(bytes(p) for p in cachefile.pack(dictcache.FILES_MAGIC, fields, columns)))
    assert dictcache._load_files(fields["key"], [dict_file]) is None
    assert _as_loaded(dictcache.from_files([dict_file])) == want  # parsed again, and stored again


def test_progress_hears_that_files_kept_whole_are_cached(dict_file, monkeypatch):
    monkeypatch.setattr(dictionary, "PROGRESS_MIN_WORDS", 2)
    heard = []
    dictcache.from_files([dict_file], progress=heard.append)
    assert heard == ["compiling a dictionary of 6 words (cached for next time)…"]
    dictcache.from_files([dict_file], progress=heard.append)  # from the cache: silent
    assert len(heard) == 1


def test_a_file_changed_while_it_is_read_is_not_kept(dict_file, monkeypatch):
    real = dictcache.read_dicts

    def changing(*args, **kwargs):
        read = real(*args, **kwargs)
        dict_file.write_text(FILE_LINES + "北京\n", encoding="utf-8")  # after its key was taken
        return read

    monkeypatch.setattr(dictcache, "read_dicts", changing)
    dictcache.from_files([dict_file])
    cache = dict_file.parent / "named"
    assert not (cache.is_dir() and [f for f in os.listdir(cache) if f.endswith(dictcache.FILES_SUFFIX)])
