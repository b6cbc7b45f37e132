"""Frames at timestamps, checked against frames that carry their own number."""

from fractions import Fraction

import pytest

from vsc_assets.video.decode import _decode, frames_at
from vsc_assets.video.probe import BadVideoError, probe_video
from vsc_assets.video.timing import on_screen_index, one_second_times
from vsc_assets_tests.video_oddities import ffmpeg, read_number, write_broken_videos, write_numbered

CASES = {
    "30fps": (Fraction(30), 200, None),
    "29.97fps": (Fraction(30000, 1001), 400, None),
    "25fps": (Fraction(25), 130, None),
    "vfr": (Fraction(30), 300, (90, 20, 70)),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("gop", [12, 250])
def test_one_second_frames_are_the_ones_on_screen(tmp_path, case, gop):
    fps, count, drop = CASES[case]
    path = tmp_path / f"{case}.mp4"
    shown = write_numbered(path, fps, count, drop, gop=gop)
    numbers = [round(t * fps) for t in shown]
    info = probe_video(path)
    assert list(info.frame_times) == shown
    seconds = one_second_times(info.duration)
    assert seconds == list(range(int((shown[-1] + 1 / fps) - 1) + 1))
    got = {}
    for positions, frame in frames_at(info, seconds):
        for p in positions:
            got[seconds[p]] = read_number(frame)
    expected = {k: numbers[on_screen_index(shown, k)] for k in seconds}
    assert got == expected
    for k, n in got.items():
        later = [t for t in shown if t > n / fps]
        assert n / fps <= k and (not later or k < later[0])  # shown by k, not yet replaced at k


def test_fractional_times_and_selective_equals_full_decode(tmp_path):
    path = tmp_path / "ntsc.mp4"
    shown = write_numbered(path, Fraction(30000, 1001), 300, gop=48)
    info = probe_video(path)
    times = [0.5, 1.0, 1.001, 2.345, 7.9, 9.5, 3.3366]
    got = {}
    for positions, frame in frames_at(info, times):
        for p in positions:
            got[times[p]] = read_number(frame)
    assert got == {t: on_screen_index(shown, t) for t in times}
    wanted = {info.pts_at(on_screen_index(list(info.frame_times), t)) for t in times}
    selective = {pts: read_number(f) for pts, f in _decode(info, set(wanted), selective=True)}
    full = {pts: read_number(f) for pts, f in _decode(info, set(wanted), selective=False)}
    assert selective == full and len(full) == len(wanted)


def test_rotated_video_comes_out_as_displayed(tmp_path):
    flat, rotated = tmp_path / "flat.mp4", tmp_path / "rotated.mp4"
    write_numbered(flat, Fraction(25), 60)
    ffmpeg("-display_rotation", "90", "-i", str(flat), "-c", "copy", str(rotated))
    (_, frame), *_ = list(frames_at(probe_video(rotated), [1]))
    assert frame.shape == (160, 96, 3)  # stored 160x96 landscape, displayed portrait
    # the number strip (top row of the stored frame) is now the left column, read bottom-up
    import numpy as np

    assert read_number(np.rot90(frame, -1)) == 25


def test_broken_videos_raise_with_file_and_reason(tmp_path):
    for name, phrase in write_broken_videos(tmp_path).items():
        if name == "R100904.mp4":
            assert probe_video(tmp_path / name).duration < 1  # valid, but too short for a frame
            continue
        with pytest.raises(BadVideoError) as info:
            probe_video(tmp_path / name)
        assert phrase in info.value.reason and name in str(info.value)
