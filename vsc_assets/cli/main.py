"""The `vsc-assets` command: demo, materialize, register, backfill, bench, worker."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from vsc_assets import progress, stopping
from vsc_assets.augment.families import PUBLISHED, RANDOMNESS
from vsc_assets.catalog.artifacts import CATALOG
from vsc_assets.constants import DEFAULT_SOURCES_PER_PARTITION, DEFAULT_VIDEOS_PER_PARTITION
from vsc_assets.errors import InputError
from vsc_assets.layout import Layout, resolve_root

DEMO_SOURCES_PER_PARTITION = 50
DEMO_VIDEOS_PER_PARTITION = 5


class UsageError(Exception):
    """A command given wrong: printed as one ``error:`` line (and a hint), exit 2."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


def _error(message: str, hint: str = "") -> None:
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)


def _layout(args) -> Layout:
    return Layout(resolve_root(args.root), cluster=getattr(args, "instance", "local") == "postgres")


def _selection(text: str | None, layout: Layout) -> list[str]:
    from vsc_assets.catalog.preflight import available

    if not text:
        selection = available(layout)
        if not selection:
            raise UsageError(
                f"no input under {layout.root}: neither {layout.disc21_dir} nor {layout.train_dir} holds data",
                "run `vsc-assets demo` or point --root at your data",
            )
        return selection
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in CATALOG.names]
    if unknown:
        raise UsageError(f"unknown asset(s) {', '.join(unknown)}", f"choose from {', '.join(CATALOG.names)}")
    return CATALOG.ordered(names)


def cmd_materialize(args) -> int:
    from vsc_assets.catalog.preflight import root_problems
    from vsc_assets.runs.materialize import materialize_missing
    from vsc_assets.runs.plan import file_counts

    layout = _layout(args)
    selection = _selection(args.select, layout)
    problems = root_problems(layout, selection)
    if problems:  # before any run: a wrong root fails at once, not after retries
        for problem in problems:
            _error(str(problem), problem.hint)
        return 2
    print(f"root {layout.root}; Dagster instance {layout.dagster_home}")
    progress.listen(progress.TerminalLine())
    summary = materialize_missing(
        layout,
        selection,
        workers=args.workers,
        randomness=args.randomness,
        rebuild_stale=args.rebuild_stale,
        sources_per_partition=args.sources_per_partition,
        videos_per_partition=args.videos_per_partition,
    )
    print(f"{summary.runs} run(s), {summary.complete} asset partition(s) already complete, {len(summary.failed)} failed")
    for line in summary.stale_lines(CATALOG, args.randomness):
        print(line)
    for line in summary.skipped_lines(layout):
        print(line)
    if summary.stopped_by is not None:
        return _stopped(summary.stopped_by, summary.finished, summary.not_run)
    for key in summary.failed:
        print(f"failed partition: {key}")
    for check in summary.failed_checks:
        print(f"failed check: {check}")
    if not summary.ok:
        _error(
            f"{len(summary.failed)} partition(s) failed, {len(summary.failed_checks)} check(s) failed",
            "the lines above name the cause; `dagster dev` shows the runs' logs",
        )
    print(json.dumps(file_counts(layout, [*selection, *summary.materialized])))
    return 0 if summary.ok else 1


def _stopped(signum: int, finished: list[str], not_run: list[str]) -> int:
    """What a stop leaves: what ended, what did not; exit 130 for SIGINT, 143 for SIGTERM."""
    name = signal.Signals(signum).name
    print(f"stopped by {name}: {len(finished)} partition run(s) finished, {len(not_run)} not")
    for label in finished:
        print(f"    finished: {label}")
    for label in not_run:
        print(f"    not finished: {label}")
    _error(f"stopped by {name}", "run the same command again to go on from here")
    return stopping.EXIT_CODES.get(signum, 1)


def cmd_demo(args) -> int:
    from vsc_assets.demo.images import make_disc21_demo
    from vsc_assets.demo.videos import make_vsc_demo
    from vsc_assets.parallel import default_workers

    layout = _layout(args)
    workers = args.workers or default_workers()
    line = progress.TerminalLine()
    try:
        written = make_disc21_demo(layout.disc21_dir, workers=workers, progress=lambda d, t: line("demo DISC21 images", d, t))
        print(f"demo DISC21 images: {written} written to {layout.disc21_dir}" if written else f"demo images present in {layout.disc21_dir}")
        written = make_vsc_demo(layout.train_dir, workers=workers, progress=lambda d, t: line("demo VSC videos", d, t))
        print(f"demo VSC videos: {written} written to {layout.train_dir}" if written else f"demo videos present in {layout.train_dir}")
    except stopping.Stopped as exc:
        return _stopped(exc.signum, [], ["the demo dataset (what is written is kept; the rest is made next time)"])
    # Small keys, so that the demo's 100 sources and 28 videos make several partitions each; a root
    # keeps the sizes its first keys were made with, and the demo's only apply to a root without them.
    from vsc_assets.catalog.partition_sizes import recorded_sizes

    if not recorded_sizes(layout):
        args.sources_per_partition = args.sources_per_partition or DEMO_SOURCES_PER_PARTITION
        args.videos_per_partition = args.videos_per_partition or DEMO_VIDEOS_PER_PARTITION
    return cmd_materialize(args)


def _asked(args) -> dict[str, int | None]:
    """The sizes of new keys the command line asks for, by the unit they count (catalog.partition_sizes)."""
    return {"sources": args.sources_per_partition, "videos": args.videos_per_partition}


def cmd_register(args) -> int:
    from vsc_assets.runs.instance import open_instance, register_partitions

    layout = _layout(args)
    added = register_partitions(open_instance(layout), layout, _asked(args))
    print(json.dumps({"added": added}))
    return 0


def cmd_backfill(args) -> int:
    from vsc_assets.runs.backfill import launch_backfill
    from vsc_assets.runs.instance import added_lines

    layout = _layout(args)
    selection = _selection(args.select, layout)
    partitions = [k.strip() for k in args.partitions.split(",") if k.strip()] if args.partitions else None
    try:
        launched = launch_backfill(layout, selection, partitions, _asked(args))
    except ValueError as exc:
        raise UsageError(str(exc), "`vsc-assets register` prints the keys; --select assets of one partitioning") from None
    for line in [*launched.notes, *added_lines(launched.added)]:
        print(line)
    print(f"backfill {launched.backfill_id}: {', '.join(launched.assets)}, {', '.join(partitions) if partitions else 'every partition'}")
    if not launched.daemon_running:
        print(f"no dagster-daemon runs for {layout.dagster_home}: the backfill waits for one "
              "(`dagster-daemon run -w workspace.yaml` or `dagster dev`, with DAGSTER_HOME and VSC_ROOT set)")
    print(json.dumps({"backfill_id": launched.backfill_id}))
    return 0


VERIFY_SHOWN = 3  # problems named per artifact; the list file has them all


def cmd_verify(args) -> int:
    from vsc_assets.catalog.verify import verify, write_problem_list

    layout = _layout(args)
    if not 0 < args.sample <= 1:
        raise UsageError(f"--sample {args.sample}: a fraction of the files, more than 0 and at most 1")
    files_root = Path(args.files).expanduser().resolve() if args.files else None
    if files_root is not None and not files_root.is_dir():
        raise UsageError(f"--files {files_root}: not a folder", "give the root of the copy: the folder that holds its images/ and data/")
    selection = _selection(args.select, layout) if args.select else list(CATALOG.names)
    where = files_root or layout.root
    print(f"verifying the files under {where} against the manifests under {layout.root}"
          + (f", a sample of {args.sample:g}" if args.sample < 1 else ""), file=sys.stderr)
    found = verify(layout, selection, CATALOG, files_root, args.sample, progress.TerminalLine())
    problems = [p for v in found for p in v.problems]
    for v in found:
        if not v.partitions:
            continue
        counts = ", ".join(f"{n} {kind}" for kind, n in v.counts().items()) or "all as written"
        print(f"{v.artifact}: {v.read} of {v.listed} listed files read, {v.partitions} partition(s), {v.seconds:.1f} s: {counts}")
        for p in v.problems[:VERIFY_SHOWN]:
            print(f"    {p.partition}: {p.path}: {p.kind}")
        if len(v.problems) > VERIFY_SHOWN:
            print(f"    ... and {len(v.problems) - VERIFY_SHOWN} more")
    listed = None
    if problems:
        listed = write_problem_list(problems, Path(args.list) if args.list else layout.root / "verify")
        print(f"{len(problems)} problem(s); the full list: {listed}")
    print(json.dumps({"files_read": sum(v.read for v in found), "problems": len(problems), "list": str(listed) if listed else None}))
    return 1 if problems else 0


def cmd_bench(args) -> int:
    from vsc_assets.bench.speed import FULL_SOURCES, run_bench

    if args.kernels:
        from vsc_assets.bench.kernels import run_kernels

        print(json.dumps(run_kernels(echo=lambda line: print(line, file=sys.stderr))))
        return 0
    if args.ceilings:
        from vsc_assets.bench.ceilings import run_ceilings

        print(json.dumps(run_ceilings(sources=args.sources or FULL_SOURCES, randomness=args.randomness, echo=lambda line: print(line, file=sys.stderr))))
        return 0
    if args.daemon:
        from vsc_assets.bench.daemon import run_daemon_bench

        print(json.dumps(run_daemon_bench(echo=lambda line: print(line, file=sys.stderr))))
        return 0
    if args.scale:
        from vsc_assets.bench.scale import run_scale

        print(json.dumps(run_scale(args.scale, outputs=args.scale_outputs, scale_dir=args.scale_dir, echo=lambda line: print(line, file=sys.stderr))))
        return 0
    result = {} if args.fidelity_only else run_bench(quick=args.quick, scaling=args.scaling, randomness=args.randomness, sources=args.sources)
    if args.fidelity or args.fidelity_only:
        from vsc_assets.bench.fidelity import run_fidelity

        result.update(run_fidelity(sources=args.fidelity_sources, randomness=args.randomness))
    print(json.dumps(result))
    return 0


def cmd_worker(args) -> int:
    """A Celery worker for the `*_cluster` jobs: one step at a time, its cores through the step's own pool."""
    import shutil
    import subprocess
    from importlib.resources import files
    from pathlib import Path

    from vsc_assets.defs.resources import STEP_WORKERS_ENV
    from vsc_assets.runs.instance import open_instance

    # dagster-celery starts `celery` by name: both from this environment first.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    if shutil.which("dagster-celery", path=path) is None:
        raise UsageError("dagster-celery is not installed", "pip install -e '.[cluster]'")
    layout = Layout(resolve_root(args.root), cluster=True)
    open_instance(layout)  # creates <root>/.dagster-cluster from the shipped Postgres config unless DAGSTER_HOME is set
    env = {**os.environ, "PATH": path, "DAGSTER_HOME": str(layout.dagster_home), "VSC_ROOT": str(layout.root)}
    if args.step_workers:
        env[STEP_WORKERS_ENV] = str(args.step_workers)
    config = files("vsc_assets.cluster").joinpath("celery.yaml")
    command = [shutil.which("dagster-celery", path=path), "worker", "start", "-A", "dagster_celery.app", "-y", args.config or str(config)]
    command += ["--name", args.name] if args.name else []
    # solo: the worker runs one step at a time in its own process, which may start the step's worker pool.
    command += ["--", "--pool=solo", "--concurrency=1"]
    print(f"worker for root {layout.root}; Dagster instance {layout.dagster_home}", file=sys.stderr, flush=True)
    # In a session of its own, so a stop reaches Celery and every process a step started, and only them.
    worker = subprocess.Popen(command, env=env, start_new_session=True)
    stopping.on_stop(lambda: _signal_group(worker.pid, signal.SIGTERM))
    while worker.poll() is None:
        try:
            worker.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            continue
    if stopping.requested():
        # Celery's warm shutdown would finish the step first; a step it drops goes back to the
        # broker (late acknowledgement) and to another worker. Whatever remains is killed.
        _signal_group(worker.pid, signal.SIGKILL)
        print(f"worker stopped by {signal.Signals(stopping.signal_received()).name}; its step, if any, goes to another worker", file=sys.stderr)
        return stopping.EXIT_CODES.get(stopping.signal_received(), 1)
    return worker.returncode


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vsc-assets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_root(p):
        p.add_argument("--root", help="data root (default: $VSC_ROOT or ./vsc-data)")
        p.add_argument(
            "--instance",
            choices=("local", "postgres"),
            default="local",
            help="local: SQLite in <root>/.dagster; postgres: the shared instance in <root>/.dagster-cluster "
            "(connection from VSC_PG_*). $DAGSTER_HOME overrides both",
        )
        return p

    def with_randomness(p):
        p.add_argument(
            "--randomness",
            choices=RANDOMNESS,
            default=PUBLISHED,
            help="published (default): noise, shuffle_pixels and perspective with AugLy's fixed default seeds, "
            "as the published data was made; per_image: from each chain's own seed (docs/recipe.md)",
        )
        return p

    def with_run_options(p):
        p.add_argument(
            "--select",
            metavar="ASSETS",
            help=f"comma-separated assets, of: {', '.join(CATALOG.names)} (default: every one whose inputs exist)",
        )
        p.add_argument("--workers", type=int, default=0, help="worker processes per run (default: all cores)")
        p.add_argument(
            "--rebuild-stale",
            action="store_true",
            help="also rebuild the partitions an older recipe version (or the other --randomness) made; "
            "without it they are listed and kept",
        )
        with_randomness(p)
        return with_chunks(p)

    def with_chunks(p):
        p.add_argument(
            "--sources-per-partition",
            type=int,
            help="DISC21 sources per new partition key (default: as the root's first keys were made, else "
            f"{DEFAULT_SOURCES_PER_PARTITION}; existing keys keep theirs)",
        )
        p.add_argument(
            "--videos-per-partition",
            type=int,
            help="video ids per new partition key (default: as the root's first keys were made, else "
            f"{DEFAULT_VIDEOS_PER_PARTITION}; existing keys keep theirs)",
        )
        return p

    with_run_options(
        with_root(
            sub.add_parser(
                "materialize",
                help="materialize missing or failed partitions",
                description=(
                    "Register partitions for the data under the root, then run every selected partition that is "
                    "missing, failed, or whose files are gone: one Dagster run per partition, recorded in the "
                    "instance. Checks the root first. Exit 0 when all succeed, 1 when a partition or check failed, "
                    "2 for a usage or input error. The last line is JSON: the file count of each artifact."
                ),
            )
        )
    )
    with_run_options(
        with_root(
            sub.add_parser(
                "demo",
                help="build the demo dataset, then materialize",
                description="Write the demo DISC21 images and VSC videos under the root (if absent), then materialize.",
            )
        )
    )
    with_chunks(with_root(sub.add_parser("register", help="register partitions for the data under the root")))
    backfill = with_chunks(
        with_root(
            sub.add_parser(
                "backfill",
                help="register partitions, then launch an asset backfill for the daemon to run",
                description=(
                    "Register partitions for the data under the root, then launch one Dagster asset backfill of the "
                    "selected assets, as the UI's Materialize → All partitions does. The running dagster-daemon "
                    "launches its runs; a run whose process dies is retried, and the backfill ends only when every "
                    "partition is whole. Prints the backfill's id."
                ),
            )
        )
    )
    backfill.add_argument(
        "--select", metavar="ASSETS", help=f"comma-separated assets, of: {', '.join(CATALOG.names)} (default: every one whose inputs exist)"
    )
    backfill.add_argument("--partitions", metavar="KEYS", help="comma-separated keys of one partitioning (default: every key)")
    check = with_root(
        sub.add_parser(
            "verify",
            help="reread the files and compare them with the digests their manifests record",
            description=(
                "Reread every file the selected artifacts' manifests list (or a random fraction) and compare it with "
                "the BLAKE2b digest recorded when it was written. Reports, per artifact and partition, the files that "
                "are missing, changed or in no manifest; names the first few and writes the full list to a file. "
                "Exit 0 when every file is as written, 1 when a problem was found, 2 for a usage error."
            ),
        )
    )
    check.add_argument("--select", metavar="ASSETS", help=f"comma-separated assets, of: {', '.join(CATALOG.names)} (default: all)")
    check.add_argument("--sample", type=float, default=1.0, metavar="F", help="read a random fraction F of the listed files (default 1: all)")
    check.add_argument("--files", metavar="DIR", help="check a copy of the root's tree at DIR instead (manifests still from --root)")
    check.add_argument("--list", metavar="PATH", help="where the full list of problems goes: a file, or a folder (default <root>/verify/)")
    worker = sub.add_parser(
        "worker",
        help="start a Celery worker for the *_cluster jobs (pip install -e '.[cluster]')",
        description="Start a Celery worker that takes one step of a *_cluster job at a time. Run it on every "
        "machine that mounts the data root at the same path, with VSC_CELERY_BROKER, VSC_CELERY_BACKEND and "
        "VSC_PG_* set. The instance is $DAGSTER_HOME, else <root>/.dagster-cluster.",
    )
    worker.add_argument("--root", help="data root (default: $VSC_ROOT or ./vsc-data)")
    worker.add_argument("--name", help="worker name (default: dagster-<random>); shown as name@host on every materialization")
    worker.add_argument("--config", help="Celery settings (default: vsc_assets/cluster/celery.yaml)")
    worker.add_argument(
        "--step-workers", type=int, default=0, help="worker processes inside each step (default: this machine's cores)"
    )
    bench = with_randomness(sub.add_parser("bench", help="images/s per core against the floor"))
    bench.add_argument("--quick", action="store_true", help="smaller run, under a minute")
    bench.add_argument("--sources", type=int, metavar="N", help="demo sources for the speed figures (default 100, --quick 10)")
    bench.add_argument("--scaling", action="store_true", help="also run s27 partitions through Dagster with 1 and 2 workers (serial seconds, projection to big machines), and by two materialize commands at once")
    bench.add_argument(
        "--fidelity", action="store_true", help="also compare the production path with the recipe as written (KS per statistic)"
    )
    bench.add_argument("--fidelity-only", action="store_true", help="only the fidelity comparison")
    bench.add_argument(
        "--kernels", action="store_true", help="instead: each production kernel against the recipe's own apply (speed-up, difference)"
    )
    bench.add_argument(
        "--ceilings",
        action="store_true",
        help="instead: the most a lever for each family that keeps chains at full size could give (s27, s3), and where frame extraction's time goes",
    )
    bench.add_argument(
        "--daemon",
        action="store_true",
        help="instead: s27 partitions as the daemon launches them (a backfill), one run at a time and one run per core; projection to big machines",
    )
    bench.add_argument(
        "--scale",
        type=int,
        nargs="?",
        const=1_000_000,
        metavar="N",
        help="instead: the bookkeeping at real size, on a hard-link root of N DISC21 names (default 1,000,000) and the VSC video names",
    )
    bench.add_argument("--scale-outputs", type=int, default=2_000_000, metavar="M", help="files in the shared output folder for --scale's second check (default 2,000,000)")
    bench.add_argument("--scale-dir", help="where --scale builds its root (default: the temp folder)")
    bench.add_argument("--fidelity-sources", type=int, default=110, help="demo sources for the fidelity comparison (default 110)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # argparse: "error: ..." and exit 2 on a wrong command line
    handler = {
        "materialize": cmd_materialize, "demo": cmd_demo, "register": cmd_register, "backfill": cmd_backfill,
        "verify": cmd_verify, "bench": cmd_bench, "worker": cmd_worker,
    }  # fmt: skip
    previous = None
    if args.command in ("materialize", "demo", "worker"):
        stopping.reset()
        previous = stopping.handle_signals()  # Ctrl-C and SIGTERM stop the work within seconds, and say what is left
    try:
        return handler[args.command](args)
    except (UsageError, InputError) as exc:
        _error(str(exc), exc.hint)
        return 2
    finally:
        if previous is not None:
            stopping.restore_signals(previous)


if __name__ == "__main__":
    sys.exit(main())
