"""A set partition's per-file work after the build runs in the workers: the checks come out as in one process, and the records' tally as the parent would count it."""

from __future__ import annotations

import io

from PIL import Image

from vsc_assets.builders.sets import FILES_PER_CHECK_TASK, Tally, check_tasks, run_checks
from vsc_assets.catalog import artifacts
from vsc_assets.catalog.artifacts import BuildContext
from vsc_assets.io.manifest import read_manifest
from vsc_assets.keys import IdRange
from vsc_assets.layout import Layout
from vsc_assets_tests.support import make_root

SOURCES = 40  # 800 files: more than one check task for each of two workers


def _jpeg(size=(256, 256), colour=(90, 140, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def test_the_checks_split_between_workers_find_what_one_process_finds(tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    data = _jpeg()
    rows, verified = [], {}
    for pid in range(SOURCES):
        for j in range(20):
            name = f"{pid}_{j}.jpg"
            (folder / name).write_bytes(data)
            rows.append({"pid": pid, "name": name, "error": None})
            verified[name] = len(data)
    assert check_tasks(len(rows), 2) == 2 and len(rows) > 2 * FILES_PER_CHECK_TASK
    clean = {w: run_checks(folder, rows, "RGB", IdRange(0, SOURCES - 1), verified, workers=w) for w in (1, 2)}
    assert all(c.passed for c in clean[2].values()) and clean[1] == clean[2]

    (folder / "3_4.jpg").unlink()  # in the first task
    (folder / "33_1.jpg").write_bytes(data[: len(data) // 2])  # in the second: cut short since it was verified
    (folder / "38_7.jpg").write_bytes(_jpeg((128, 128)))
    del verified["38_7.jpg"]  # never decoded by a worker: decoded in full now, and the wrong size
    broken = {w: run_checks(folder, rows, "RGB", IdRange(0, SOURCES - 1), verified, workers=w) for w in (1, 2)}
    assert broken[1] == broken[2]
    assert broken[2]["files_per_source"].details["missing"] == ["3_4.jpg"]
    bad = broken[2]["decodable_256"].details["bad"]
    assert [b.split(":")[0] for b in bad] == ["33_1.jpg", "38_7.jpg"]
    assert broken[2]["names_parse"].passed


def _assert_tally_is_the_manifests(report) -> Tally:
    counted = Tally.of(read_manifest(report.manifest))
    assert report.family_counts == dict(sorted(counted.families.items())) and sum(counted.families.values()) > 0
    assert (report.chains, report.fallback_files) == (counted.chains, counted.fallback_files)
    return counted


def test_the_tally_the_workers_send_is_the_records_of_the_manifest(tmp_path):
    """For a colour set and its greyscale twin, one of whose colour files is gone: the grey
    file that could not be made is an error row, and its chain is not counted."""
    layout = Layout(make_root(tmp_path, count=40))
    ctx = BuildContext(layout, IdRange.parse("000000-000003"), 1, 2)
    colour = artifacts.S27.build(artifacts.S27, ctx)
    assert _assert_tally_is_the_manifests(colour).chains == 19 * 4

    gone = artifacts.S27.folder(layout, ctx.key) / "2_5.jpg"
    gone.unlink()
    grey = artifacts.S27_BW.build(artifacts.S27_BW, ctx)
    counted = _assert_tally_is_the_manifests(grey)
    assert counted.chains == 19 * 4 - 1 and grey.files == 20 * 4 - 1
    assert [b["reason"].split(":")[0] for b in grey.bad_inputs] == [str(gone)]
