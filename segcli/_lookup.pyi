"""Private hash-table loops; use segcli.encode.KeyIndex instead."""

from typing_extensions import Buffer

def build(keys: Buffer, values: Buffer, table_keys: Buffer, table_values: Buffer, /) -> None:
    """Fill an empty table (every slot -1) with ``keys[i] -> values[i]``; a
    key given more than once gets the bitwise OR of its values.

    keys: non-negative int64; values: int64, as many.  table_keys, table_values: writable
    int64 arrays of one power-of-two length above ``len(keys)``; slots are
    found by Fibonacci hashing and linear probing.  Raises ValueError on
    wrong sizes, a negative key, or a table that is not empty.
    The GIL is released while filling.
    """

def find(table_keys: Buffer, table_values: Buffer, keys: Buffer, missing: int, out: Buffer, /) -> None:
    """Write into ``out[i]`` the value stored for ``keys[i]``, or ``missing``.

    All int64; table arrays of one power-of-two length, keys and out of one
    length.  Raises ValueError on wrong sizes.  The GIL is released while probing.
    """
