"""Commands that open a new root's instance, and register its keys, at the same moment: all succeed, once."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import dagster as dg

from vsc_assets.layout import Layout
from vsc_assets.runs.instance import open_instance, register_partitions
from vsc_assets_tests.support import make_images

COMMANDS = 4


def _command(root: str, barrier, said) -> None:
    """What each command does first: open the instance, then register the keys, each step all at once."""
    layout = Layout(Path(root))
    try:
        barrier.wait(timeout=120)
        instance = open_instance(layout)
        barrier.wait(timeout=120)
        added = register_partitions(instance, layout, {"sources": 1})
        said.put(sum(len(keys) for keys in added.values()))
    except Exception as exc:  # what the test reports
        said.put(f"{type(exc).__name__}: {exc}")


def test_commands_opening_a_new_instance_and_registering_its_keys_at_once(tmp_path):
    # Without the lock in open_instance every run of this failed: "table ... already exists" in some
    # commands, and a second alembic head that every later open refuses. Without _add_keys about one
    # run in three failed: the unique index on the keys rejected a command's insert (IntegrityError).
    make_images(Layout(tmp_path).disc21_dir, 400)  # 40 sources: 40 keys of one
    ctx = multiprocessing.get_context("fork")  # no import in the children: they start within milliseconds
    barrier, said = ctx.Barrier(COMMANDS), ctx.Queue()
    commands = [ctx.Process(target=_command, args=(str(tmp_path), barrier, said)) for _ in range(COMMANDS)]
    for p in commands:
        p.start()
    outcomes = [said.get(timeout=240) for _ in commands]
    for p in commands:
        p.join(timeout=30)
    assert all(isinstance(n, int) for n in outcomes), outcomes
    instance = dg.DagsterInstance.from_config(str(Layout(tmp_path).dagster_home))  # a later open, by anyone
    keys = instance.get_dynamic_partitions("disc21_sources")
    assert len(keys) == len(set(keys)) == 40 and sum(outcomes) >= 40
