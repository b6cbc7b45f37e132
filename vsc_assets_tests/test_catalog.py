"""An artifact is declared once: a new one, declared in this test alone, is everywhere it should be."""

from __future__ import annotations

import json
import time

import dagster as dg
import pyarrow as pa
from PIL import Image

from vsc_assets.builders.writer import DIGESTS_SAMPLED, CheckSpec, FilesReport, outcomes
from vsc_assets.catalog import artifacts, preflight, refresh
from vsc_assets.catalog.artifacts import CATALOG, DISC21_IMAGES, DISC21_SOURCES, Artifact, BuildContext
from vsc_assets.catalog.inputs import Need, disc21_listing, disc21_sources_in
from vsc_assets.definitions import definitions_for
from vsc_assets.defs.resources import VscRoot
from vsc_assets.io.images import encode_jpeg
from vsc_assets.io.manifest import read_manifest
from vsc_assets.layout import Layout
from vsc_assets.runs.materialize import materialize_missing
from vsc_assets.runs.plan import file_counts
from vsc_assets_tests.support import make_root

THUMBS_EXIST = CheckSpec("thumbnails_exist", "one 64 px thumbnail per readable source")
SCHEMA = pa.schema([("name", "string"), ("pid", "int64"), ("error", "string")])


def _build_thumbnails(artifact: Artifact, ctx: BuildContext) -> FilesReport:
    """A made-up artifact: a 64 px thumbnail of every DISC21 source of the partition."""
    started = time.perf_counter()
    writer = artifact.writer(ctx)
    target = writer.open()
    rows = []
    for source in disc21_sources_in(disc21_listing(ctx.layout), ctx.ids):
        try:
            with Image.open(source.path) as im:
                digest = target.write(f"{source.pid}.jpg", encode_jpeg(im.convert("RGB").resize((64, 64))))
            rows.append({"name": f"{source.pid}.jpg", "name_blake2b": digest, "pid": source.pid, "error": None})
        except OSError as exc:
            rows.append({"name": None, "name_blake2b": None, "pid": source.pid, "error": str(exc)})
    names = [r["name"] for r in rows if r["name"]]
    written = writer.finish(rows, SCHEMA, names)
    passed = all((writer.folder / n).is_file() for n in names)
    return FilesReport(len(names), time.perf_counter() - started, written.manifest, outcomes(THUMBS_EXIST.outcome(passed), written.digests))


THUMBNAILS = Artifact(
    name="disc21_thumbnails", group=artifacts.DISC21, partitioning=DISC21_SOURCES, deps=(DISC21_IMAGES.name,),
    needs=(Need.DISC21_IMAGES,), checks=(THUMBS_EXIST, DIGESTS_SAMPLED), build=_build_thumbnails, version="1",
    folder=lambda layout, key: layout.images_dir / "thumbnails", count=lambda a, layout: len(list(a.folder(layout, None).glob("*.jpg"))),
    description="Made up by the test: a 64 px thumbnail of every DISC21 source.",
)  # fmt: skip
EXTENDED = CATALOG.extended(THUMBNAILS)


def test_the_declaration_alone_makes_the_asset_its_checks_and_its_job():
    defs = definitions_for(EXTENDED)
    dg.Definitions.validate_loadable(defs)
    node = defs.resolve_asset_graph().get(dg.AssetKey(THUMBNAILS.name))
    assert node.partitions_def.name == DISC21_SOURCES.name
    assert {k.name for k in node.check_keys} == {THUMBS_EXIST.name, DIGESTS_SAMPLED.name}
    assert node.parent_keys == {dg.AssetKey(DISC21_IMAGES.name)}
    job = defs.resolve_job_def(DISC21_SOURCES.job)
    assert dg.AssetKey(THUMBNAILS.name) in job.asset_layer.executable_asset_keys
    assert THUMBNAILS.name in refresh.groups(EXTENDED)[f"{DISC21_SOURCES.name}/disc21"]


def test_the_cli_path_selects_preflights_plans_runs_and_counts_it(tmp_path):
    root = make_root(tmp_path, count=40)
    layout = Layout(root)
    assert THUMBNAILS.name in preflight.available(layout, EXTENDED)
    assert THUMBNAILS.name not in preflight.available(Layout(tmp_path / "empty"), EXTENDED)
    problems = preflight.root_problems(Layout(tmp_path / "empty"), [THUMBNAILS.name], EXTENDED)
    assert [str(p) for p in problems] == [f"{tmp_path / 'empty' / 'data' / 'training_images'}: no DISC21 image"]

    summary = materialize_missing(layout, [THUMBNAILS.name], workers=1, sources_per_partition=2, echo=lambda line: None, catalog=EXTENDED)
    assert summary.ok and summary.runs == 2 and summary.materialized == {THUMBNAILS.name}
    assert file_counts(layout, [THUMBNAILS.name], EXTENDED) == {THUMBNAILS.name: 4}
    assert [r["name"] for r in read_manifest(layout.manifest_path(THUMBNAILS.name, "000000-000001"))] == ["0.jpg", "1.jpg"]
    again = materialize_missing(layout, [THUMBNAILS.name], workers=1, sources_per_partition=2, echo=lambda line: None, catalog=EXTENDED)
    assert again.runs == 0 and again.complete == 2


def test_the_sensor_requests_it_for_new_data(tmp_path):
    root = make_root(tmp_path, count=20)
    instance = dg.DagsterInstance.ephemeral()
    sensor = definitions_for(EXTENDED).resolve_sensor_def("data_change_sensor")
    context = dg.build_sensor_context(instance=instance, resources={"vsc_root": VscRoot(root=str(root), sources_per_partition=2)})
    result = sensor(context)
    requested = {k.to_user_string() for r in result.run_requests for k in r.asset_selection}
    assert THUMBNAILS.name in requested and {a.name for a in CATALOG.partitioned_by(DISC21_SOURCES)} <= requested
    assert "disc21_sources/disc21" in json.loads(result.cursor)["fingerprints"]
