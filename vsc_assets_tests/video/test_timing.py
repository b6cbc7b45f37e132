"""The on-screen rule as arithmetic."""

from fractions import Fraction

import pytest

from vsc_assets.video.timing import middle_second, on_screen_index, one_second_times


def test_one_second_times_follow_k_le_duration_minus_one():
    assert one_second_times(0.99) == []
    assert one_second_times(1) == [0]
    assert one_second_times(Fraction(5999, 1000)) == [0, 1, 2, 3, 4]
    assert one_second_times(6) == [0, 1, 2, 3, 4, 5]
    assert one_second_times(6.2) == [0, 1, 2, 3, 4, 5]


def test_on_screen_is_the_last_frame_shown_at_or_before_t():
    ntsc = [Fraction(n * 1001, 30000) for n in range(100)]
    assert on_screen_index(ntsc, 0) == 0
    assert on_screen_index(ntsc, 1) == 29  # frame 30 is shown at 1.001 s
    assert on_screen_index(ntsc, 2) == 59
    assert on_screen_index(ntsc, 3) == 89  # int(fps) stepping would take frame 87 (29 * 3)
    pal = [Fraction(n, 25) for n in range(100)]
    assert [on_screen_index(pal, k) for k in range(4)] == [0, 25, 50, 75]
    assert on_screen_index(pal, Fraction(1, 25)) == 1  # a frame shown exactly at t is on screen
    assert on_screen_index(pal, 0.5) == 12
    vfr = [Fraction(0), Fraction(1, 2), Fraction(3, 1)]
    assert [on_screen_index(vfr, k) for k in range(4)] == [0, 1, 1, 2]


def test_middle_second_is_by_number():
    seconds = list(range(12))  # file names sort as 0, 1, 10, 11, 2, ... : the published pick
    assert middle_second(seconds) == 6
    assert sorted(f"R1_{k}.jpg" for k in seconds)[6] == "R1_4.jpg"  # the published, wrong pick
    assert middle_second([0]) == 0
    with pytest.raises(ValueError):
        middle_second([])
