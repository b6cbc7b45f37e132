"""Decoding the frames on screen at given times, each video decoded once, and only as far as needed.

The probe gives every packet's timestamp, which ones start a GOP, and which
are disposable (H.264 pictures no other picture refers to, about half of
x264's default output), so the frames wanted are known before decoding. A GOP
holding none of them is not decoded at all; a disposable picture that is not
wanted is never handed to the decoder; a GOP is left as soon as its wanted
frames are out. Only the wanted frames are converted to RGB. If a wanted frame
does not come out that way (an odd stream), the video is decoded again in full.
"""

from __future__ import annotations

from collections.abc import Iterator

import av
import numpy as np

from vsc_assets.video.probe import BadVideoError, VideoInfo, open_video
from vsc_assets.video.timing import on_screen_index


def _gops(info: VideoInfo) -> list[list[int]]:
    """Packet pts grouped by GOP, in decode order."""
    gops: list[list[int]] = []
    for packet in info.packets:
        if packet.keyframe or not gops:
            gops.append([])
        gops[-1].append(packet.pts)
    return gops


def _to_rgb(frame: av.VideoFrame) -> np.ndarray:
    rgb = frame.to_ndarray(format="rgb24")
    # Display rotation (counter-clockwise degrees), applied as players and ffmpeg do.
    turns = round(getattr(frame, "rotation", 0) / 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


def _decode(info: VideoInfo, wanted_pts: set[int], selective: bool) -> Iterator[tuple[int, np.ndarray]]:
    """(pts, RGB frame) for each wanted pts as the decoder puts it out."""
    gops = _gops(info)
    remaining = [wanted_pts.intersection(g) for g in gops]
    # Open GOPs: a wanted picture shown before its GOP's keyframe may reference the previous GOP.
    whole = [i + 1 < len(gops) and any(p < gops[i + 1][0] for p in remaining[i + 1]) for i in range(len(gops))]
    # In decode order a picture's references come before it: past a GOP's last wanted packet,
    # nothing more of that GOP is needed.
    last = [max((j for j, p in enumerate(g) if p in remaining[i]), default=-1) for i, g in enumerate(gops)]
    left = set(wanted_pts)
    skippable = info.disposable - wanted_pts if selective else frozenset()
    container, stream = open_video(info.path)
    stream.thread_type = "AUTO"
    gop, position = -1, 0

    def wanted(frames):
        for frame in frames:
            if frame.pts in left:
                left.discard(frame.pts)
                for r in remaining:
                    r.discard(frame.pts)
                yield frame.pts, _to_rgb(frame)

    try:
        for packet in container.demux(stream):
            if packet.size and (packet.is_keyframe or gop < 0):
                gop, position = gop + 1, 0
            elif packet.size:
                position += 1
            if selective and packet.size and gop < len(gops) and not whole[gop] and position > last[gop]:
                continue
            if packet.pts in skippable:
                continue
            try:
                yield from wanted(packet.decode())
            except av.FFmpegError:
                continue  # a damaged packet; a frame it held is missed and decoded again in full
            if not left:
                return
        yield from wanted(stream.codec_context.decode(None))  # what the decoder still holds
    except av.FFmpegError:
        return
    finally:
        container.close()


def frames_at(info: VideoInfo, times: list) -> Iterator[tuple[list[int], np.ndarray]]:
    """Yield (positions in ``times``, frame) for the frame on screen at each of ``times``.

    Each distinct frame is yielded once, with every requested time it answers.
    """
    frame_times = list(info.frame_times)
    wanted: dict[int, list[int]] = {}
    for pos, t in enumerate(times):
        wanted.setdefault(info.pts_at(on_screen_index(frame_times, t)), []).append(pos)
    if not wanted:
        return
    done: set[int] = set()
    for selective in (True, False):
        for pts, frame in _decode(info, set(wanted) - done, selective):
            done.add(pts)
            yield wanted[pts], frame
        if len(done) == len(wanted):
            return
    raise BadVideoError(info.path, f"{len(wanted) - len(done)} of {len(wanted)} frames could not be decoded")
