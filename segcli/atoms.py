"""Atoms: spans of a line that are never split inside.

Latin words (C++, C#, Node.js, .NET, snake_case too), numbers, URLs (with
markdown's escapes), e-mail addresses, file paths, --options, dates, phone
numbers, clock times and emoji sequences (flags, keycaps) are found by one
compiled regular expression over the lookup form of the text (full-width
forms already folded to ASCII, see encode.py); a URL's Han parts and each
character with its marks (a\u0301, 好\ufe0f) are added to them. They are
constrained on the tag scores the way a forbidden
dictionary word is: inside an atom no position but the first may begin a
word and no position but the last may end one. Whether an atom joins a
neighbouring character is boundaries.py's rule (a Latin word and Han only
as a known word: A股, 卡拉OK), else the model's and the dictionary's
decision (2024年). A forced dictionary word wins over any atom it overlaps.

Not atoms, because the annotated corpora cut them: @mentions, #hashtags#,
runs of punctuation but ==== (no corpus has one: dividers and code's ==
are one token).
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from . import _core
from .decode import HARD
from .encode import codepoints, from_codepoints

# Parentheses only in pairs, so a URL in brackets, (https://host/x), ends
# before its ")"; markdown escapes (\#, \_) are part of it.
_URL_CHARS = r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]|\\[#_*()\[\]~&!.\-]|\([A-Za-z0-9\-._~:/?#@!$&'*+,;=%]*\))"
_URL_END = r"(?:[A-Za-z0-9/_\-=#%&~+]|\([A-Za-z0-9\-._~:/?#@!$&'*+,;=%]*\))"  # not . , ; : ) and the like
_COMPONENT = r"[A-Za-z0-9]+(?:\.[0-9]+[A-Za-z0-9]*)*"  # iPhone15, 3.5G
# A file name in a path: .bashrc, access.log, Python311, .. (never ends in a dot).
_PATH_PART = r"(?:\.\.?(?=[/\\])|\.?[A-Za-z0-9_\-+]+(?:\.[A-Za-z0-9_\-+]+)*)"
#: The emoji below U+1F000 drawn as pictures by default (Unicode's
#: Emoji_Presentation: ⭐ ✅ ⌚ ❌ ⬛, the ⬛ of 🐈‍⬛); boundaries.py classes them as emoji.
EMOJI_PRESENTATION = ((0x231A, 0x231B), (0x23E9, 0x23EC), (0x23F0, 0x23F0), (0x23F3, 0x23F3), (0x25FD, 0x25FE),
                      (0x2614, 0x2615), (0x2648, 0x2653), (0x267F, 0x267F), (0x2693, 0x2693), (0x26A1, 0x26A1),
                      (0x26AA, 0x26AB), (0x26BD, 0x26BE), (0x26C4, 0x26C5), (0x26CE, 0x26CE), (0x26D4, 0x26D4),
                      (0x26EA, 0x26EA), (0x26F2, 0x26F3), (0x26F5, 0x26F5), (0x26FA, 0x26FA), (0x26FD, 0x26FD),
                      (0x2705, 0x2705), (0x270A, 0x270B), (0x2728, 0x2728), (0x274C, 0x274C), (0x274E, 0x274E),
                      (0x2753, 0x2755), (0x2757, 0x2757), (0x2795, 0x2797), (0x27B0, 0x27B0), (0x27BF, 0x27BF),
                      (0x2B1B, 0x2B1C), (0x2B50, 0x2B50), (0x2B55, 0x2B55))
_BELOW_2600 = "".join(f"{chr(first)}-{chr(last)}" for first, last in EMOJI_PRESENTATION if last < 0x2600)
_ABOVE_27BF = "".join(f"{chr(first)}-{chr(last)}" for first, last in EMOJI_PRESENTATION if first > 0x27BF)
_EMOJI = f"\U0001F1E6-\U0001F1FF\U0001F300-\U0001FAFF\u2600-\u27BF{_BELOW_2600}{_ABOVE_27BF}"

#: (name, pattern, examples) in the order they are tried at each position.
PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("url", rf"(?:https?://|ftp://|www\.){_URL_CHARS}*{_URL_END}", "https://www.cc98.org/topic/123"),
    ("email", r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+", "name@example.com"),
    ("keycap", "[0-9#*]\uFE0F?\u20E3", "1\ufe0f\u20e3"),
    # A divider (====), a heading's underline or code's ==: no corpus has a
    # run of = to cut, and ---- and ... are one token where they have them.
    # Not ##: adjacent hashtags (#话题##话题#) are two marks, and the
    # expression cannot tell them from a markdown heading.
    ("equals run", "={2,}", "====, =="),
    # Home-, dot- and drive-relative paths and parts with backslashes; an
    # absolute one needs two parts or a closing slash (/about alone is a link's path).
    ("path", rf"(?:~|\.\.?)(?:/{_PATH_PART})+/?|(?<![A-Za-z0-9._~/\-])(?:(?:/{_PATH_PART}){{2,}}/?|/(?=[A-Za-z0-9_.]){_PATH_PART}/)"
             rf"|(?<![A-Za-z0-9])[A-Za-z]:[\\/](?:{_PATH_PART}[\\/])*{_PATH_PART}?"
             rf"|(?<![A-Za-z0-9._\\])(?:{_PATH_PART}\\)+{_PATH_PART}\\?",  # after a space: Files\x\y.exe
     "~/.bashrc, ./run.sh, /usr/local/bin/, /data/, C:\\Users\\x, Files\\x.exe"),
    ("option", r"(?<![A-Za-z0-9\-])--[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*", "--size, --dry-run"),
    # Three or more groups: a phone number or a date; two (1993-2013) are a range.
    ("digit groups", r"[0-9]+(?:-[0-9]+){2,}|[0-9]+(?:/[0-9]+){2,}", "138-0013-8000, 2024/1/5"),
    ("clock time", r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?![0-9])", "19:30:05"),
    # Letters with digits, inner hyphens, apostrophes, underscores or dots
    # before a letter: at least one letter; a name may begin with a dot
    # (.NET) and end in ++ or # (C++, C#).
    ("latin word", rf"(?:(?<![A-Za-z0-9.])\.(?=[A-Za-z]))?(?=[0-9.]*[A-Za-z]){_COMPONENT}"
                   rf"(?:(?:['’\-_]|\.(?=[A-Za-z])){_COMPONENT})*(?:(?<=[A-Za-z])(?:\+\+(?![A-Za-z_+#])|#(?![A-Za-z0-9_+#])))?",
     "GPT-4o, don't, 5G, Node.js, .NET, snake_case, C++, C#"),
    ("number", r"(?<![0-9A-Za-z.])[+\-]?(?:[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)(?:\.[0-9]+)*%?",
     "1,299.00, -3.5%"),
    # A flag is two regional indicators; a sequence, an emoji with its
    # modifiers and variation selectors and more emoji after joiners.
    ("emoji sequence",
     f"[\U0001F1E6-\U0001F1FF]{{2}}|[{_EMOJI}]"
     f"(?:[\uFE0E\uFE0F\U0001F3FB-\U0001F3FF\u20E3]|\u200D[{_EMOJI}])*",
     "👨\u200d👩\u200d👧, 🇨🇳, 👍🏻"),
)

# The lookahead on an atom's possible first characters lets most positions
# of Chinese text fail at one set test instead of one per pattern (8x faster).
_FIRST = f"[0-9A-Za-z._%+\\-#*~/={_EMOJI}]"
_ATOM = re.compile(f"(?={_FIRST})(?:" + "|".join(f"(?:{pattern})" for _, pattern, _ in PATTERNS) + ")")

# Every character any pattern can match: ASCII but space and control, ’, the
# emoji ranges, variation selectors, the keycap mark and the zero-width joiner.
_ATOM_CHAR_RANGES = ((0x21, 0x7E), (0x2019, 0x2019), (0x200D, 0x200D), (0x20E3, 0x20E3), (0x2600, 0x27BF),
                     (0xFE0E, 0xFE0F), (0x1F1E6, 0x1FAFF), *EMOJI_PRESENTATION)
_ATOM_CHAR = np.zeros(max(last for _, last in _ATOM_CHAR_RANGES) + 1, dtype=np.uint8)  # 0 past its end
for _first, _last in _ATOM_CHAR_RANGES:
    _ATOM_CHAR[_first : _last + 1] = 1
del _first, _last


def find(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the atoms of two or more characters in `text` (its lookup form)."""
    return find_codepoints(codepoints(text))


def find_codepoints(cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """find() of the text of these code points (its lookup form)."""
    cps = np.ascontiguousarray(cps, dtype=np.uint32)
    return _with_marks(cps, *_with_han_url_parts(cps, *expression_atoms(cps)))


def expression_atoms(cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The atoms of two or more characters the expression (PATTERNS) finds in
    the text of these code points (uint32, C-contiguous)."""
    # An atom lies inside a run of atom characters, and what the patterns look
    # at around a match (a digit before a number, a letter after) is never
    # outside it. So the expression runs once over those runs of two or more,
    # a newline apart, instead of over every Han character (7x faster).
    run_starts = np.empty(len(cps) // 2 + 1, dtype=np.int64)
    run_ends = np.empty(len(cps) // 2 + 1, dtype=np.int64)
    joined_cps = np.empty(len(cps) + len(cps) // 2 + 1, dtype=np.uint32)
    count, length = _core.atom_runs(cps, _ATOM_CHAR, run_starts, run_ends, joined_cps)
    empty = np.empty(0, dtype=np.int64)
    if not count:
        return empty, empty
    bounds = [m.span() for m in _ATOM.finditer(from_codepoints(joined_cps[:length])) if m.end() - m.start() > 1]
    if not bounds:
        return empty, empty
    run_starts = run_starts[:count]
    # Run k starts at joined_starts[k] in the joined text (each run and its
    # newline): a match maps back by its run's shift.
    joined_sizes = run_ends[:count] - run_starts + 1
    joined_starts = np.cumsum(joined_sizes) - joined_sizes
    spans = np.array(bounds, dtype=np.int64)
    shift = (run_starts - joined_starts)[np.searchsorted(joined_starts, spans[:, 0], side="right") - 1]
    return spans[:, 0] + shift, spans[:, 1] + shift


def _with_marks(cps: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The atoms, and each character with the marks after it (a\u0301,
    好\ufe0f, 葛 and its variation selector, 12️⃣'s ️⃣): a mark is never a word
    of its own. Where the two overlap, their union."""
    from . import boundaries  # which imports this module

    table = boundaries._CLASS
    # Past the table (HAN here, its last class; NONE below) the marks are
    # tags (England's 🏴) and variation selectors 17-256.
    classes = table[np.minimum(cps, len(table) - 1)]
    if (classes == boundaries.UNKNOWN).any():
        classes = boundaries._classes(cps)
    is_mark = classes >= boundaries.MARK
    if cps.max(initial=0) >= 0xE0000:
        beyond = cps - np.uint32(0xE0000)
        is_mark |= (beyond == 1) | ((beyond >= 0x20) & (beyond < 0x80)) | ((beyond >= 0x100) & (beyond < 0x1F0))
    if not is_mark.any():
        return starts, ends
    change = np.diff(is_mark.astype(np.int8), prepend=0, append=0)
    mark_starts, mark_ends = np.flatnonzero(change == 1), np.flatnonzero(change == -1)
    # A mark at the start, or after whitespace or a control character, has no base.
    bases = mark_starts - 1
    based = bases >= 0
    based[based] = (classes[bases[based]] != boundaries.NONE) & (cps[bases[based]] < len(table))
    if not based.any():
        return starts, ends
    all_starts = np.concatenate((starts, bases[based]))
    all_ends = np.concatenate((ends, mark_ends[based]))
    order = np.argsort(all_starts, kind="stable")
    all_starts, reach = all_starts[order], np.maximum.accumulate(all_ends[order])
    first = np.ones(len(all_starts), dtype=bool)
    first[1:] = all_starts[1:] >= reach[:-1]
    last = np.append(np.flatnonzero(first)[1:] - 1, len(all_starts) - 1)
    return all_starts[first], reach[last]


# A URL's Han part between two of its delimiters (?q=分词&hl=zh, /路径/x):
# the expression sees ASCII runs only, so such a URL is joined here. A Han
# run at its end stays out (https://github.com/foo查看 ends at foo, and
# https://zh.wikipedia.org/wiki/分词查看 at wiki/: prose may follow a URL
# without a space), except where the URL's end is plain: a query value
# before the end, whitespace or punctuation (?q=中文。), and a URL in
# brackets up to the closing one ([维基](https://…/wiki/快速排序)).
_URL_START = re.compile(r"(?:https?://|ftp://|www\.)")
_URL_TAIL = re.compile(f"{_URL_CHARS}*{_URL_END}")
_DELIMITERS = frozenset(map(ord, "/?&=#"))
_DELIMITER_CPS = np.array(sorted(_DELIMITERS), dtype=np.uint32)


def _is_han(cps: np.ndarray) -> np.ndarray:
    return (((cps >= 0x3400) & (cps <= 0x9FFF)) | ((cps >= 0xF900) & (cps <= 0xFAFF))
            | ((cps >= 0x20000) & (cps <= 0x3134F)))


_OPENERS = {ord("("): ord(")"), ord("（"): ord("）")}


def _plain_end(cps: np.ndarray, start: int, end: int, han_end: int) -> bool:
    """Whether the Han run cps[end:han_end] after a URL's delimiter ends the
    URL plainly (see above): after = before the end of the text, whitespace
    or punctuation, or before the bracket closing one just before the URL."""
    after = chr(cps[han_end]) if han_end < len(cps) else ""
    if cps[end - 1] == ord("=") and (not after or after.isspace() or unicodedata.category(after)[0] == "P"):
        return True
    return start > 0 and _OPENERS.get(int(cps[start - 1])) == (ord(after) if after else None)


def _with_han_url_parts(cps: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(cps)
    after = np.minimum(ends, n - 1)
    candidates = np.flatnonzero((ends < n) & np.isin(cps[ends - 1], _DELIMITER_CPS) & _is_han(cps[after]))
    if not len(candidates):
        return starts, ends
    starts, ends = starts.copy(), ends.copy()
    keep = np.ones(len(starts), dtype=bool)
    for k in candidates.tolist():
        start, end = int(starts[k]), int(ends[k])
        if not keep[k] or not _URL_START.match(from_codepoints(cps[start : start + 8])):
            continue
        while end < n and int(cps[end - 1]) in _DELIMITERS and _is_han(cps[end]):
            han_end = end
            while han_end < n and _is_han(cps[han_end]):
                han_end += 1
            if han_end == n or int(cps[han_end]) not in _DELIMITERS:
                if _plain_end(cps, start, end, han_end):
                    end = han_end
                break
            tail = _URL_TAIL.match(from_codepoints(cps[han_end : han_end + 4096]))
            if not tail:
                break
            end = han_end + tail.end()
        # The atoms of the parts it takes in go; one that reaches past its end takes it further.
        taken = np.flatnonzero(keep & (starts >= ends[k]) & (starts < end))
        if len(taken):
            end = max(end, int(ends[taken].max()))
            keep[taken] = False
        ends[k] = end
    return starts[keep], ends[keep]


def constrain(scores: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
    """Rules out, in place, every cut inside the atoms [starts[k], ends[k])
    (in order, apart) of float32 (N, 4) scores."""
    if not len(starts):
        return
    if scores.dtype != np.float32 or scores.ndim != 2 or scores.shape[1] != 4 or not scores.flags.c_contiguous:
        raise ValueError(f"scores: expected C-contiguous float32 (N, 4), got {scores.dtype} {scores.shape}")
    _core.constrain(scores, np.ascontiguousarray(starts, dtype=np.int64), np.ascontiguousarray(ends, dtype=np.int64),
                    HARD)


def without_overlaps(starts: np.ndarray, ends: np.ndarray, taken_starts: np.ndarray,
                     taken_ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The atoms that overlap none of the spans [taken_starts[k], taken_ends[k])
    (forced dictionary words, which win). Both lists are sorted and the taken
    spans do not overlap each other."""
    if not len(starts) or not len(taken_starts):
        return starts, ends
    # The first taken span ending after each atom's start overlaps it if it
    # starts before the atom's end.
    k = np.searchsorted(taken_ends, starts, side="right")
    overlaps = np.zeros(len(starts), dtype=bool)
    inside = k < len(taken_starts)
    overlaps[inside] = taken_starts[k[inside]] < ends[inside]
    return starts[~overlaps], ends[~overlaps]


def describe() -> str:
    """One line per pattern with an example, for --help and the README."""
    return "\n".join(f"  {name}: {examples}" for name, _, examples in PATTERNS)
