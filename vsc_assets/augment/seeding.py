"""One seeded generator per output file.

The seed is a stable hash of (set name, base seed, source id, variant), so a
file never depends on which partition or worker produced it, or on the order
of work. Python's ``hash()`` is salted per process and must not be used.
"""

from __future__ import annotations

import hashlib

import numpy as np


def file_seed(set_name: str, base_seed: int, source_id: str, variant: int) -> int:
    key = "\x1f".join((set_name, str(int(base_seed)), source_id, str(int(variant))))
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1  # fits a signed int64


def file_rng(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))
