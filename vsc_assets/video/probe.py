"""Reading a video's packet timestamps without decoding it (PyAV demuxes only)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av


class BadVideoError(Exception):
    """A file that cannot be used as a video; ``str()`` names file and reason."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class Packet:
    pts: int
    keyframe: bool
    disposable: bool = False  # no other frame refers to it (H.264 nal_ref_idc 0): unneeded unless wanted


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    time_base: Fraction
    first_pts: int
    packets: tuple[Packet, ...]  # in decode order
    frame_times: tuple[Fraction, ...]  # presentation times, seconds from the first frame, sorted
    duration: Fraction  # end of the last frame

    @property
    def frame_count(self) -> int:
        return len(self.frame_times)

    def pts_at(self, index: int) -> int:
        """The pts of the index-th frame in presentation order."""
        return self.first_pts + int(self.frame_times[index] / self.time_base)

    @property
    def disposable(self) -> frozenset[int]:
        """The pts of the pictures no other picture refers to."""
        return frozenset(p.pts for p in self.packets if p.disposable)


def open_video(path: Path):
    """An open container and its first video stream; BadVideoError with the reason otherwise."""
    if not path.is_file():
        raise BadVideoError(path, "file does not exist")
    if path.stat().st_size == 0:
        raise BadVideoError(path, "empty file (0 bytes)")
    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        raise BadVideoError(path, f"cannot read as video ({exc.strerror or exc})") from None
    if not container.streams.video:
        container.close()
        raise BadVideoError(path, "no video stream (audio only?)")
    return container, container.streams.video[0]


def nal_length_size(stream) -> int | None:
    """The length prefix of an H.264 stream stored as MP4 does it (avcC), else None: then no
    packet is known to be disposable, and every packet is decoded."""
    extradata = stream.codec_context.extradata
    if stream.codec_context.name != "h264" or not extradata or extradata[0] != 1 or len(extradata) < 5:
        return None
    return (extradata[4] & 0x3) + 1


def is_disposable(data, length_size: int) -> bool:
    """Whether an H.264 access unit is a picture no other picture refers to: it holds coded
    slices, and every one has nal_ref_idc 0. Anything it can't read counts as needed."""
    view = memoryview(data)
    pos, slices = 0, 0
    while pos < len(view):
        size = int.from_bytes(view[pos : pos + length_size], "big")
        if size <= 0 or pos + length_size + size > len(view):
            return False
        header = view[pos + length_size]
        if header & 0x1F in (1, 5):  # a coded slice (non-IDR, IDR)
            if header & 0x60:  # nal_ref_idc
                return False
            slices += 1
        pos += length_size + size
    return slices > 0


def probe_video(path: str | os.PathLike) -> VideoInfo:
    path = Path(path)
    container, stream = open_video(path)
    packets, durations = [], {}
    length_size = nal_length_size(stream)
    try:
        for packet in container.demux(stream):
            if packet.pts is None or packet.size == 0:
                continue
            disposable = length_size is not None and not packet.is_keyframe and is_disposable(packet, length_size)
            packets.append(Packet(int(packet.pts), bool(packet.is_keyframe), disposable))
            durations[int(packet.pts)] = int(packet.duration or 0)
    except av.FFmpegError as exc:
        if not packets:
            raise BadVideoError(path, f"cannot read as video ({exc.strerror or exc})") from None
        # A damaged tail: keep what was read; the frames rule covers what is there.
    finally:
        time_base = stream.time_base
        container.close()
    if not packets or time_base is None:
        raise BadVideoError(path, "no video frames")
    tb = Fraction(time_base.numerator, time_base.denominator)
    pts = sorted(p.pts for p in packets)
    first = pts[0]
    duration = (pts[-1] - first + max(durations[pts[-1]], 0)) * tb
    return VideoInfo(
        path=path,
        time_base=tb,
        first_pts=first,
        packets=tuple(packets),
        frame_times=tuple((p - first) * tb for p in pts),
        duration=duration,
    )
