"""Partition keys: self-describing id ranges that only ever get added."""

import pytest

from vsc_assets.keys import IdRange, keys_to_add, range_key


def test_round_trip_and_bad_keys():
    ids = IdRange.parse(range_key(500, 999))
    assert ids == IdRange(500, 999) and ids.key == "000500-000999"
    assert 500 in ids and 999 in ids and 1000 not in ids and list(ids)[:2] == [500, 501]
    assert ids.shifted(-500) == IdRange(0, 499)
    for bad in ("0-1", "000010-000001", "abc", "000000-000001x"):
        with pytest.raises(ValueError):
            IdRange.parse(bad)


def test_contiguous_ids_chunk_from_zero():
    assert keys_to_add(range(1200), [], 500) == ["000000-000499", "000500-000999", "001000-001499"]
    assert keys_to_add(range(1200), ["000000-000499", "000500-000999", "001000-001499"], 500) == []
    assert keys_to_add(range(1600), ["000000-000499", "000500-000999", "001000-001499"], 500) == ["001500-001999"]


def test_sparse_video_ids_are_aligned_chunks():
    ids = [100000, 100003, 100250, 140301]
    assert keys_to_add(ids, [], 200) == ["100000-100199", "100200-100399", "140200-140399"]


def test_a_new_chunk_size_never_overlaps_existing_keys():
    existing = ["000000-000049", "000050-000099"]
    assert keys_to_add(range(700), existing, 500) == ["000100-000499", "000500-000999"]


def _keys_by_brute_force(ids, existing, per):
    """The rule stated plainly: for each uncovered id, its aligned chunk clipped by every key so far."""
    ranges = [(r.first, r.last) for r in map(IdRange.parse, existing)]
    added = []
    for n in sorted(set(ids)):
        if any(a <= n <= b for a, b in ranges + added):
            continue
        first, last = (n // per) * per, (n // per) * per + per - 1
        for a, b in ranges + added:
            if b < n:
                first = max(first, b + 1)
            elif a > n:
                last = min(last, a - 1)
        added.append((first, last))
    return [range_key(a, b) for a, b in added]


def test_binary_search_registration_matches_the_plain_rule():
    import numpy as np

    rng = np.random.default_rng(7)
    for _ in range(200):
        ids = rng.choice(3000, size=int(rng.integers(1, 300)), replace=False).tolist()
        existing = keys_to_add(rng.choice(3000, size=int(rng.integers(0, 40)), replace=False).tolist(), [], int(rng.integers(1, 400)))
        per = int(rng.integers(1, 600))
        assert keys_to_add(ids, existing, per) == _keys_by_brute_force(ids, existing, per)
