"""One typed summary per report: what the UI's metadata holds is what the console reads back."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from vsc_assets.builders.frames import VideoReport
from vsc_assets.builders.pair_frames import StageReport
from vsc_assets.builders.pair_table import PairReport
from vsc_assets.builders.sets import SetReport
from vsc_assets.builders.summary import MissingEntry, Skip
from vsc_assets.builders.writer import FilesReport
from vsc_assets.catalog.artifacts import Report
from vsc_assets.defs.results import RESULTS, read_summary

BAD = [{"file": f"T{i:06d}.jpg", "reason": "cannot identify image file"} for i in range(5)]
ROWS = [{"row": 3, "reason": "reference video R100009 is missing"}]
LOST = [{"row": 7, "pairs": 4, "skipped": 2, "reason": "2 past the end of its video"}]


def reports(tmp: Path) -> list:
    manifest = tmp / "m.parquet"
    return [
        SetReport("s27", "000000-000049", 50, 900, 12.345, BAD, manifest, None, {"blur": 3, "hflip": 7}, 1, {}, chains=855),
        VideoReport("reference_frames", "000000-000004", 5, 40, 2.0, BAD[:1], manifest, None, {}),
        StageReport("000000-000004", 30, 26, ROWS, 1.5, manifest, LOST),
        PairReport(26, 9, ROWS, 2, LOST, manifest, 0.7, tmp / "t.parquet", None, {}),
        FilesReport(12, 0.0, manifest, {}, BAD[:2]),
    ]


def test_every_report_type_has_its_result():
    assert set(RESULTS) == set(typing.get_args(Report))


@pytest.mark.parametrize("index", range(5))
def test_the_summary_read_back_from_the_metadata_is_the_reports(tmp_path, index):
    report = reports(tmp_path)[index]
    metadata = RESULTS[type(report)](report).metadata
    assert read_summary(metadata) == report.summary
    assert metadata[report.summary.unit].value == report.summary.count  # the UI's entry under its unit


def test_the_summary_counts_every_skipped_input_and_names_the_first_few(tmp_path):
    sets, _, stage, pairs, _ = reports(tmp_path)
    assert sets.summary.skipped == 5 and len(sets.summary.first_skipped) == 3
    assert sets.summary.first_skipped[0] == Skip("T000000.jpg", "cannot identify image file")
    # One whole row and two pairs of another: three inputs, named by their rows.
    assert stage.summary.skipped == pairs.summary.skipped == 3
    assert [s.item for s in stage.summary.first_skipped] == ["ground-truth row 3", "ground-truth row 7"]
    assert stage.summary.unit == "staged_pairs" and stage.summary.count == 26


def test_a_missing_entry_is_an_error_that_names_it(tmp_path):
    report = reports(tmp_path)[0]
    metadata = dict(RESULTS[SetReport](report).metadata)
    del metadata["skipped_inputs"]
    with pytest.raises(MissingEntry, match="skipped_inputs"):
        read_summary(metadata)


def test_the_family_table_is_sorted_by_use_with_shares(tmp_path):
    table = reports(tmp_path)[0].family_table
    assert table["family"].tolist() == ["hflip", "blur"]
    assert table["share"].tolist() == [round(7 / 855, 4), round(3 / 855, 4)]


def test_where_a_set_partition_was_serial_is_read_back_from_its_metadata(tmp_path):
    from vsc_assets.builders.summary import SerialSeconds
    from vsc_assets.defs.results import read_serial_seconds

    report = reports(tmp_path)[0]
    report.serial = SerialSeconds(start=0.25, tail=1.5, manifest=0.5, preview=0.0625, checks=0.125)
    serial = read_serial_seconds(RESULTS[SetReport](report).metadata)
    assert serial == SerialSeconds(0.25, 1.5, 0.5, 0.062, 0.125)  # to the millisecond
    assert serial.total == pytest.approx(0.25 + 1.5 + 0.5 + 0.062 + 0.125)
