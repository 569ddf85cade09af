"""Private hash-table loops; use segcli.encode.KeyIndex instead."""

from typing_extensions import Buffer

def build(keys: Buffer, first: int, table_keys: Buffer, table_values: Buffer, /) -> None:
    """Fill an empty table (every slot -1) with ``keys[i] -> first + i``.

    keys: distinct non-negative int64.  table_keys, table_values: writable
    int64 arrays of one power-of-two length above ``len(keys)``; slots are
    found by Fibonacci hashing and linear probing.  Raises ValueError on
    wrong sizes, a negative or repeated key, or a table that is not empty.
    The GIL is released while filling.
    """

def find(table_keys: Buffer, table_values: Buffer, keys: Buffer, missing: int, out: Buffer, /) -> None:
    """Write into ``out[i]`` the value stored for ``keys[i]``, or ``missing``.

    All int64; table arrays of one power-of-two length, keys and out of one
    length.  Raises ValueError on wrong sizes.  The GIL is released while probing.
    """
