"""The ceilings bench: which families keep chains at full size, a what-if that leaves the registry as it was, and the figures it reports."""

from fractions import Fraction

import pytest

from vsc_assets.augment.families import FAMILIES
from vsc_assets.augment.materials import list_materials
from vsc_assets.augment.resolution import Shrink
from vsc_assets.bench.ceilings import frame_ceiling, full_size_families, set_ceilings, treated_as_commuting
from vsc_assets.bench.speed import demo_sources
from vsc_assets.demo.images import make_disc21_demo
from vsc_assets_tests.video_oddities import write_numbered

NOISE_FIRST = [
    {"name": "noise", "params": {"mean": 0.1, "var": 0.05, "seed": 3}},
    {"name": "hflip", "params": {}},
]


def test_the_families_that_keep_a_chain_at_full_size_are_found_by_their_draws(tmp_path):
    demo = tmp_path / "images"
    make_disc21_demo(demo, count=20, workers=1)
    found = full_size_families(list_materials(None, demo))
    # Grain, blocks and single pixels; change_channel only when it shifts a channel.
    assert found == ["change_channel", "noise", "encoding_quality", "sharpen", "shuffle_pixels"]


def test_a_family_treated_as_commuting_lets_the_chain_start_reduced_and_the_registry_comes_back():
    noise = FAMILIES["noise"]
    assert Shrink.plan(NOISE_FIRST, (2000, 1500), lambda name: (256, 256)).start == 1
    with treated_as_commuting(["noise"]):
        assert FAMILIES["noise"] is not noise
        assert Shrink.plan(NOISE_FIRST, (2000, 1500), lambda name: (256, 256)).start == 5
    assert FAMILIES["noise"] is noise
    with pytest.raises(RuntimeError), treated_as_commuting(["noise"]):
        raise RuntimeError("a side that fails")
    assert FAMILIES["noise"] is noise
    assert Shrink.plan(NOISE_FIRST, (2000, 1500), lambda name: (256, 256)).start == 1


def test_set_ceilings_report_every_family_and_all_for_both_sets(tmp_path):
    sources, materials = demo_sources(tmp_path, 2)
    lines = []
    result = set_ceilings(sources, materials, "published", turns=1, echo=lines.append)
    families = full_size_families(materials["train_v1_s27_all"])
    for short in ("s27", "s3"):
        assert sorted(k for k in result if k.startswith(f"ceiling_{short}_")) == sorted(f"ceiling_{short}_{n}" for n in [*families, "all"])
    assert all(v > 0 for v in result.values())
    assert lines[0].startswith("families that keep a chain at full size")
    assert FAMILIES["noise"].commutes_with_downscale(NOISE_FIRST[0]["params"]) is False


def test_frame_ceiling_splits_our_seconds_and_bounds_them_by_decoding(tmp_path):
    path = tmp_path / "v.mp4"
    write_numbered(path, Fraction(25), 75, gop=25)
    result = frame_ceiling([path], rounds=1)
    shares = [result[f"frames_share_{part}"] for part in ("probe", "decode", "encode")]
    assert all(0 < s < 1 for s in shares) and sum(shares) == pytest.approx(1, abs=0.01)
    assert result["frames_ceiling_decode_only"] >= result["frames_speedup"] > 0


def test_the_command_line_asks_for_the_ceilings():
    from vsc_assets.cli.main import build_parser

    args = build_parser().parse_args(["bench", "--ceilings", "--sources", "30"])
    assert args.ceilings and args.sources == 30 and not args.kernels
