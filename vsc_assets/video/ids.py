"""VSC video ids (Q2xxxxx, R1xxxxx): the only names ever turned into paths."""

from __future__ import annotations

import re

PREFIX = {"query": "Q", "reference": "R"}
_ID = re.compile(r"^([QR])(\d{1,12})$")


def id_number(video_id: str, kind: str) -> int:
    """The number of a well-formed id of ``kind``; ValueError for anything else (``../x``, ``R1/2``)."""
    match = _ID.match(video_id)
    if not match or match.group(1) != PREFIX[kind]:
        raise ValueError(f"{video_id!r} is not a {kind} video id ({PREFIX[kind]} followed by digits)")
    return int(match.group(2))

