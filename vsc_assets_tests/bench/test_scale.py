"""The scale benchmark, at 4% of the real image count: it runs, and what it reports adds up."""

import json

import pytest

from vsc_assets.bench.scale import QUERY_VIDEOS, REFERENCE_VIDEOS, check_capacity
from vsc_assets.errors import InputError
from vsc_assets.cli.main import main


@pytest.mark.slow
def test_scale_bench_at_20000_images(tmp_path, capsys):
    assert main(["bench", "--scale", "20000", "--scale-outputs", "80000", "--scale-dir", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["images"] == 20_000 and out["reference_videos"] == REFERENCE_VIDEOS and out["query_videos"] == QUERY_VIDEOS
    # 2,000 sources in keys of 500; video ids in keys of 200.
    assert out["registered_keys"] == {"disc21_sources": 4, "query_videos": 42, "reference_videos": 202}
    assert out["register_again_added"] == 0
    # First tick: every partition of every definition is new; with the cursor nothing changed.
    assert out["sensor_first_requests"] == 4 + 42 + 202 and out["sensor_cursor_requests"] == 0
    assert out["planning_problems"] == [] and out["planned_runs"] == 4 + 42 + 202 + 1  # and the pair table
    partition = out["partition"]
    assert partition["files"] == 10_000 and partition["checks_passed"] and partition["pool_images"] == 2_000
    assert out["verify"]["files_read"] == 10_000 and out["verify"]["problems"] == 0
    small, large = out["output_folder"]["small"], out["output_folder"]["large"]
    assert small["present"] and large["present"] and small["files"] >= 20_000 and large["files"] >= 80_000
    assert not list(tmp_path.iterdir()), "the scale root was not removed"


def test_scale_bench_refuses_a_disk_too_small(tmp_path, capsys):
    with pytest.raises(InputError, match=str(tmp_path)):
        check_capacity(tmp_path, 10**15)
    assert main(["bench", "--scale", str(10**14), "--scale-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "free" in err and "hint:" in err
