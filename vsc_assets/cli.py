"""The `vsc-assets` command: demo, materialize, register, bench."""

from __future__ import annotations

import argparse
import json
import sys

from vsc_assets.constants import DEFAULT_SOURCES_PER_PARTITION, DEFAULT_VIDEOS_PER_PARTITION
from vsc_assets import progress
from vsc_assets.layout import Layout, resolve_root

DEMO_SOURCES_PER_PARTITION = 50
DEMO_VIDEOS_PER_PARTITION = 5


def _selection(text: str | None, layout: Layout) -> list[str]:
    from vsc_assets.runner import ARTIFACTS, available_artifacts

    if not text:
        return available_artifacts(layout)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in ARTIFACTS]
    if unknown:
        raise SystemExit(f"unknown asset(s) {', '.join(unknown)}; choose from {', '.join(ARTIFACTS)}")
    return [n for n in ARTIFACTS if n in names]


def cmd_materialize(args) -> int:
    from vsc_assets.runner import file_counts, materialize_missing

    layout = Layout(resolve_root(args.root))
    selection = _selection(args.select, layout)
    if not selection:
        print(
            f"error: no input under {layout.root}: neither {layout.disc21_dir} nor {layout.train_dir} holds data"
            " (run `vsc-assets demo` or point --root at your data)",
            file=sys.stderr,
        )
        return 2
    print(f"root {layout.root}; Dagster instance {layout.dagster_home}")
    progress.listen(progress.TerminalLine())
    summary = materialize_missing(
        layout,
        selection,
        workers=args.workers,
        sources_per_partition=args.sources_per_partition,
        videos_per_partition=args.videos_per_partition,
    )
    print(f"{summary.runs} run(s), {summary.complete} asset partition(s) already complete, {len(summary.failed)} failed")
    for key in summary.failed:
        print(f"failed partition: {key}")
    for check in summary.failed_checks:
        print(f"failed check: {check}")
    print(json.dumps(file_counts(layout)))
    return 0 if summary.ok else 1


def cmd_demo(args) -> int:
    from vsc_assets.demo import make_disc21_demo
    from vsc_assets.demo_video import make_vsc_demo

    layout = Layout(resolve_root(args.root))
    written = make_disc21_demo(layout.disc21_dir)
    print(f"demo DISC21 images: {written} written to {layout.disc21_dir}" if written else f"demo images present in {layout.disc21_dir}")
    written = make_vsc_demo(layout.train_dir)
    print(f"demo VSC videos: {written} written to {layout.train_dir}" if written else f"demo videos present in {layout.train_dir}")
    if args.sources_per_partition == DEFAULT_SOURCES_PER_PARTITION:
        args.sources_per_partition = DEMO_SOURCES_PER_PARTITION
    if args.videos_per_partition == DEFAULT_VIDEOS_PER_PARTITION:
        args.videos_per_partition = DEMO_VIDEOS_PER_PARTITION
    return cmd_materialize(args)


def cmd_register(args) -> int:
    from vsc_assets.runner import open_instance, register_partitions

    layout = Layout(resolve_root(args.root))
    added = register_partitions(open_instance(layout), layout, args.sources_per_partition, args.videos_per_partition)
    print(json.dumps({"added": added}))
    return 0


def cmd_bench(args) -> int:
    from vsc_assets.bench import run_bench

    result = {} if args.fidelity_only else run_bench(quick=args.quick, scaling=args.scaling)
    if args.fidelity or args.fidelity_only:
        from vsc_assets.bench_fidelity import run_fidelity

        result.update(run_fidelity(sources=args.fidelity_sources))
    print(json.dumps(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vsc-assets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_root(p):
        p.add_argument("--root", help="data root (default: $VSC_ROOT or ./vsc-data)")
        return p

    def with_run_options(p):
        p.add_argument("--select", help="comma-separated assets (default: every one whose inputs exist)")
        p.add_argument("--workers", type=int, default=0, help="worker processes per run (default: all cores)")
        return with_chunks(p)

    def with_chunks(p):
        p.add_argument(
            "--sources-per-partition",
            type=int,
            default=DEFAULT_SOURCES_PER_PARTITION,
            help="DISC21 sources per new partition key (existing keys keep theirs)",
        )
        p.add_argument(
            "--videos-per-partition",
            type=int,
            default=DEFAULT_VIDEOS_PER_PARTITION,
            help="video ids per new partition key (existing keys keep theirs)",
        )
        return p

    with_run_options(with_root(sub.add_parser("materialize", help="materialize missing or failed partitions")))
    with_run_options(with_root(sub.add_parser("demo", help="build the demo dataset, then materialize")))
    with_chunks(with_root(sub.add_parser("register", help="register partitions for the data under the root")))
    bench = sub.add_parser("bench", help="images/s per core against the floor")
    bench.add_argument("--quick", action="store_true", help="smaller run, under a minute")
    bench.add_argument("--scaling", action="store_true", help="also time one partition run with 1 and with 2 workers")
    bench.add_argument(
        "--fidelity", action="store_true", help="also compare the production path with the recipe as written (KS per statistic)"
    )
    bench.add_argument("--fidelity-only", action="store_true", help="only the fidelity comparison")
    bench.add_argument("--fidelity-sources", type=int, default=110, help="demo sources for the fidelity comparison (default 110)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = {"materialize": cmd_materialize, "demo": cmd_demo, "register": cmd_register, "bench": cmd_bench}
    return handler[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
