"""Pure-numpy/Python twin of segcli._core.render_text, written from its
contract rather than from the C loop: words are the runs that begin at a
non-space position tagged s or b, encoded by Python's own UTF-8 codec."""

import numpy as np

S, B = 0, 1


def render_text(cps, tags, space, line_starts, line_ends, delimiter: bytes) -> list[bytes] | None:
    """Each line's body, or None where some code point cannot be encoded."""
    cps, tags, space = np.asarray(cps, np.uint32), np.asarray(tags, np.uint8), np.asarray(space, bool)
    bodies = []
    for a, b in zip(np.asarray(line_starts).tolist(), np.asarray(line_ends).tolist()):
        kept = np.flatnonzero(~space[a:b]) + a
        begins = kept[tags[kept] <= B]
        words = np.split(kept, np.searchsorted(kept, begins[1:])) if len(kept) else []
        try:
            bodies.append(delimiter.join(
                "".join(map(chr, cps[w].tolist())).encode("utf-8", "surrogateescape") for w in words))
        except UnicodeEncodeError:
            return None
    return bodies
