"""Content digests of the files a partition writes: BLAKE2b, 128 bits, as hex.

Computed from the bytes in memory as they are written, so a manifest row says
what was written, not what a later read found. Anyone can check a copy:
``b2sum -l 128 FILE`` prints the same hex.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

DIGEST_BYTES = 16
ALGORITHM = f"blake2b-{DIGEST_BYTES * 8}"
SUFFIX = "_blake2b"  # a digest column is its file column's name with this suffix


def digest_of(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=DIGEST_BYTES).hexdigest()


def file_digest(path: Path) -> str:
    """The digest of a file on disk, read in chunks (FileNotFoundError if it is gone)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, lambda: hashlib.blake2b(digest_size=DIGEST_BYTES)).hexdigest()


def digest_column(name_column: str) -> str:
    """The manifest column holding the digest of the file ``name_column`` names."""
    return name_column + SUFFIX


def listed_files(rows: list[dict], name_columns: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """(name, digest) of every file a manifest's rows say was written: rows without an error, each column that names a file."""
    return [(r[c], r.get(digest_column(c))) for r in rows if not r.get("error") for c in name_columns if r.get(c)]


MISSING, CHANGED, NO_DIGEST = "missing", "changed", "no digest in its manifest"


def file_problem(path: Path, digest: str | None) -> str | None:
    """What is wrong with a listed file: MISSING, CHANGED (edited, truncated, a bad copy), or NO_DIGEST
    (listed before digests were kept); None when its bytes are the ones written."""
    try:
        found = file_digest(path)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return MISSING
    if digest is None:
        return NO_DIGEST
    return None if found == digest else CHANGED
