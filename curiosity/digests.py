"""Digests of array rows and of modules: frames as 16-byte dictionary keys, and a fingerprint that changes
whenever a module's output may."""

from __future__ import annotations

import hashlib

import numpy as np
from torch import nn


def row_digests(rows: np.ndarray) -> list[bytes]:
    """A 128-bit BLAKE2b digest of each row of ``rows`` (its bytes along the first axis).

    Equal rows (same dtype, same values) get equal digests; distinct rows collide with probability about
    ``2**-128``, so the digests can stand in for the rows as dictionary keys (frames of 24 kB become
    16-byte keys).
    """
    if np.ndim(rows) < 1:  # before ascontiguousarray, which turns a scalar into one row
        raise ValueError(f"rows must be an array with a leading batch axis, got a {np.ndim(rows)}-d array")
    rows = np.ascontiguousarray(rows)
    return [hashlib.blake2b(row.data, digest_size=16).digest() for row in rows]


def unique_rows(rows: np.ndarray) -> tuple[list[bytes], np.ndarray, np.ndarray]:
    """The distinct rows of ``rows``: ``(keys, first, inverse)``.

    ``keys`` are the digests (:func:`row_digests`) of the distinct rows in order of first occurrence,
    ``first[j]`` the index of the first row with ``keys[j]``, and ``inverse[i]`` the position in ``keys`` of
    row ``i`` (so ``rows[first][inverse]`` equals ``rows``).
    """
    digests = row_digests(rows)
    index: dict[bytes, int] = {}
    inverse = np.fromiter((index.setdefault(k, len(index)) for k in digests), np.int64, len(digests))
    first = np.zeros(len(index), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(digests))[::-1]  # the first occurrence of each distinct row
    return list(index), first, inverse


def module_fingerprint(module: nn.Module) -> bytes:
    """A digest of a module's parameters, buffers and training flag: it changes whenever its output may."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(bytes([module.training]))
    for tensor in (*module.parameters(), *module.buffers()):
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.digest()
