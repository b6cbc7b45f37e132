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


def _exp_golomb(bits: str, pos: int) -> tuple[int, int]:
    zeros = bits.index("1", pos) - pos
    return int(bits[pos + zeros : pos + 2 * zeros + 1], 2) - 1, pos + 2 * zeros + 1


def _reference_b_slices(path) -> int:
    """How many B slices (slice_type 1 or 6) a stream holds with nal_ref_idc > 0: B-frames used as references."""
    import av

    count = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        size = (stream.codec_context.extradata[4] & 3) + 1
        for packet in container.demux(stream):
            data, pos = bytes(packet), 0
            while pos < len(data):
                n = int.from_bytes(data[pos : pos + size], "big")
                header = data[pos + size]
                if header & 0x1F == 1 and header & 0x60:
                    bits = "".join(f"{b:08b}" for b in data[pos + size + 1 : pos + size + 9])
                    _, at = _exp_golomb(bits, 0)  # first_mb_in_slice
                    slice_type, _ = _exp_golomb(bits, at)
                    count += slice_type % 5 == 1
                pos += size + n
    return count


B_FRAME_STREAMS = {
    "b-pyramid": "bframes=3:b-pyramid=normal",
    "b-pyramid-strict-open-gop": "bframes=5:b-pyramid=strict:open-gop=1:b-adapt=0",
    "b-pyramid-30fps-short-gop": "bframes=4:b-pyramid=normal:keyint=15:min-keyint=15",
}


@pytest.mark.parametrize("case", B_FRAME_STREAMS)
def test_b_frames_used_as_references_skip_only_what_no_frame_needs(tmp_path, case):
    path = tmp_path / f"{case}.mp4"
    fps = Fraction(24000, 1001) if "strict" in case else Fraction(30)
    shown = write_numbered(path, fps, 330, gop=60, x264=B_FRAME_STREAMS[case])
    assert _reference_b_slices(path) > 0  # B-frames that other frames refer to
    info = probe_video(path)
    assert 0 < len(info.disposable) < len(info.packets)  # non-reference pictures, never handed to the decoder
    times = [*one_second_times(info.duration), 0.49, 3.21, 7.777, 9.04]
    got = {}
    for positions, frame in frames_at(info, times):
        for p in positions:
            got[times[p]] = read_number(frame)
    assert got == {t: round(shown[on_screen_index(shown, t)] * fps) for t in times}
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
