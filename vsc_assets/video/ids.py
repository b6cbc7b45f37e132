"""VSC video ids (Q2xxxxx, R1xxxxx): the only names ever turned into paths."""

from __future__ import annotations

import re
from pathlib import Path

PREFIX = {"query": "Q", "reference": "R"}
_ID = re.compile(r"^([QR])(\d{1,12})$")


def id_number(video_id: str, kind: str) -> int:
    """The number of a well-formed id of ``kind``; ValueError for anything else (``../x``, ``R1/2``)."""
    match = _ID.match(video_id)
    if not match or match.group(1) != PREFIX[kind]:
        raise ValueError(f"{video_id!r} is not a {kind} video id ({PREFIX[kind]} followed by digits)")
    return int(match.group(2))


def list_videos(folder: Path, kind: str) -> tuple[dict[str, Path], list[dict]]:
    """Videos named ``<id>.mp4`` in ``folder`` by id, and the files skipped with the reason."""
    videos, skipped = {}, []
    if not folder.is_dir():
        return videos, skipped
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.suffix.lower() != ".mp4":
            skipped.append({"file": path.name, "reason": "not an .mp4 file"})
            continue
        try:
            id_number(path.stem, kind)
        except ValueError as exc:
            skipped.append({"file": path.name, "reason": str(exc)})
            continue
        videos[path.stem] = path
    return videos, skipped
