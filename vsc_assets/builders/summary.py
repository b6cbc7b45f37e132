"""What a partition's report says first: how much it made, what it skipped and where the full list is.

One typed record. The Dagster layer writes its entries into the materialization's
metadata, and `vsc-assets materialize` reads them back from the run's events under
the same names, so the UI and the console can't drift apart. Reading back a
materialization that lacks an entry is an error that names it, never a None.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar, Mapping

SHOWN = 3  # skipped inputs named in the summary; the manifest holds them all


@dataclass(frozen=True)
class Skip:
    """One input a partition skipped: a file, a video, a ground-truth row, and why."""

    item: str
    reason: str


class MissingEntry(KeyError):
    """A materialization whose metadata lacks an entry of the summary."""


@dataclass(frozen=True)
class Summary:
    count: int
    unit: str  # what ``count`` counts, and the metadata entry it is shown under: files, staged_pairs, pairs
    skipped: int  # inputs skipped, each with a reason in the manifest
    first_skipped: tuple[Skip, ...]  # the first SHOWN of them
    manifest: Path  # the full list: the manifest's rows with an error (the skipped-pairs manifest for the pair table)
    seconds: float

    @classmethod
    def of(cls, count: int, unit: str, skipped: list[Skip], total_skipped: int | None, manifest: Path, seconds: float) -> Summary:
        total = len(skipped) if total_skipped is None else total_skipped
        return cls(count, unit, total, tuple(skipped[:SHOWN]), Path(manifest), round(seconds, 2))

    def entries(self) -> dict[str, object]:
        """The metadata entries, by name, as plain values (the count under its unit's name)."""
        return {
            self.unit: self.count,
            "count_of": self.unit,
            "skipped_inputs": self.skipped,
            "skipped_first": [{"item": s.item, "reason": s.reason} for s in self.first_skipped],
            "manifest": self.manifest,
            "seconds": self.seconds,
        }

    @classmethod
    def read(cls, entries: Mapping[str, object]) -> Summary:
        """Back from a materialization's metadata values (``entries()`` once through Dagster)."""

        def entry(name: str):
            if name not in entries:
                raise MissingEntry(f"the materialization's metadata has no {name!r} (a summary entry)")
            return entries[name]

        unit = entry("count_of")
        return cls(
            count=entry(unit),
            unit=unit,
            skipped=entry("skipped_inputs"),
            first_skipped=tuple(Skip(s["item"], s["reason"]) for s in entry("skipped_first")),
            manifest=Path(entry("manifest")),
            seconds=entry("seconds"),
        )


def skipped_files(bad_inputs: list[dict]) -> list[Skip]:
    """Skipped input files ({file, reason}) as the summary names them."""
    return [Skip(b["file"], b["reason"]) for b in bad_inputs]


def skipped_rows(rows: list[dict], pairs_by_row: list[dict]) -> list[Skip]:
    """Skipped ground-truth rows, then the rows that lost pairs, as the summary names them."""
    lost = [Skip(f"ground-truth row {r['row']}", f"{r['skipped']} of {r['pairs']} pairs skipped: {r['reason']}") for r in pairs_by_row]
    return [Skip(f"ground-truth row {r['row']}", r["reason"]) for r in rows] + lost


@dataclass(frozen=True)
class SerialSeconds:
    """Seconds of a partition run during which the machine was not all at work on its files
    (the pool's ``PoolUse``, then the parent alone): what keeps a big machine from being busy."""

    start: float  # before every worker first had a source
    tail: float  # the last sources, with fewer left than workers
    manifest: float  # leftovers pruned and the manifest written, in the parent
    preview: float  # the preview and the sampled digest check, in the parent
    checks: float  # the partition's other checks, in the parent

    ENTRY: ClassVar[str] = "serial_seconds"
    NONE: ClassVar[SerialSeconds]

    @property
    def total(self) -> float:
        return self.start + self.tail + self.manifest + self.preview + self.checks

    def entries(self) -> dict[str, float]:
        return {name: round(value, 3) for name, value in asdict(self).items()}

    @classmethod
    def read(cls, entries: Mapping[str, object]) -> SerialSeconds:
        if cls.ENTRY not in entries:
            raise MissingEntry(f"the materialization's metadata has no {cls.ENTRY!r}")
        return cls(**entries[cls.ENTRY])


SerialSeconds.NONE = SerialSeconds(0.0, 0.0, 0.0, 0.0, 0.0)
