"""The pair rule, ground-truth validation and the shuffle."""


import numpy as np
import pytest

from vsc_assets.pairs.ground_truth import GtRow, parse_ground_truth
from vsc_assets.pairs.rule import pair_times, shuffled_numbers


def row(qs, qe, rs, re_):
    return GtRow(0, "Q200000", "R100000", qs, qe, rs, re_)


def test_pairs_start_at_u_equals_one_and_stop_inside_both_segments():
    assert pair_times(row(10.0, 14.0, 3.0, 7.0)) == [(1, 11.0, 4.0), (2, 12.0, 5.0), (3, 13.0, 6.0)]
    assert pair_times(row(10.0, 11.0, 3.0, 4.0)) == []  # u = 1 would sit on the end


def test_fractional_rate():
    pairs = pair_times(row(2.5, 8.0, 1.0, 4.3))  # rate 0.6
    assert [u for u, _, _ in pairs] == [1, 2, 3, 4, 5]
    for u, qt, rt in pairs:
        assert qt == pytest.approx(2.5 + u) and rt == pytest.approx(1.0 + 0.6 * u)
    fast = pair_times(row(0.0, 10.0, 0.0, 25.0))  # rate 2.5: the reference runs out first
    assert fast[-1][0] == 9 and fast[-1][2] == pytest.approx(22.5)
    slow = pair_times(row(0.0, 10.0, 5.0, 6.0))  # rate 0.1
    assert len(slow) == 9


def test_ground_truth_rejects_rows_with_reasons(tmp_path):
    csv = tmp_path / "gt.csv"
    csv.write_text(
        "query_id,ref_id,query_start,query_end,ref_start,ref_end\n"
        "Q200001,R100002,1.5,9.25,0,7.75\n"
        "Q200001,R100002,5,5,0,3\n"
        "Q200001,R100002,1,4,6,2\n"
        "Q200001,R100002,abc,4,0,3\n"
        "../../x,R100002,1,4,0,3\n"
        "Q200001,R100/2,1,4,0,3\n"
        "R100001,Q200002,1,4,0,3\n"
        "Q200001,R100002,1,nan,0,3\n"
    )
    rows, rejected = parse_ground_truth(csv)
    assert [r.row for r in rows] == [0] and rows[0].rate == pytest.approx(1.0)
    reasons = {r["row"]: r["reason"] for r in rejected}
    assert "query_end 5.0 <= query_start 5.0" in reasons[1]
    assert "ref_end 2.0 <= ref_start 6.0" in reasons[2]
    assert "'abc' is not a number" in reasons[3]
    assert "'../../x' is not a query video id" in reasons[4]
    assert "'R100/2' is not a reference video id" in reasons[5]
    assert "not a query video id" in reasons[6]
    assert "not a finite number" in reasons[7]


def test_ground_truth_without_its_columns_is_a_clear_error(tmp_path):
    csv = tmp_path / "gt.csv"
    csv.write_text("query,ref\nQ1,R1\n")
    with pytest.raises(ValueError, match="missing column"):
        parse_ground_truth(csv)


def test_shuffle_is_a_seeded_permutation():
    a = shuffled_numbers(1000, 7, "positive_pairs")
    assert sorted(a.tolist()) == list(range(1000))
    assert np.array_equal(a, shuffled_numbers(1000, 7, "positive_pairs"))
    assert not np.array_equal(a, shuffled_numbers(1000, 8, "positive_pairs"))
    assert not np.array_equal(a, np.arange(1000))
