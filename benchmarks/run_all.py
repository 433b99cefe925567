"""Run every benchmark one after the other in this process and write the figures to a CSV (``make benchmark``).

    COURSE_DATA_DIR=../shared/data/food10 COURSE_BACKBONE=mobilenet_v2_035 python benchmarks/run_all.py
    COURSE_SMOKE=1 python benchmarks/run_all.py --skip smoke      # a quick check that they all run

Each benchmark prints ``RESULT <name>: <value> (target <target>) PASS|MISS`` lines. The CSV (default
``benchmarks/last_results.csv``; in the smoke profile ``<COURSE_RUN_DIR>/benchmark_results_smoke.csv``, so a quick
check never overwrites the real figures) has one row per figure: name, value, unit, target, met, machine, date,
tensorflow, keras, profile (the active one, or the one a benchmark runs in: smoke, the reference run) and
source. ``--suite-times FILE`` reports the real suite's ``seconds.csv`` (default
``results/reference_seconds.csv``); ``--smoke-times FILE`` reports an earlier smoke run's instead of rerunning it;
``--update`` rewrites only the figures measured now (``--only default_models --update``).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import (
    bench_cached_features,
    bench_default_models,
    bench_input_pipeline,
    bench_near_duplicates,
    bench_real_suite,
    bench_smoke,
    bench_test_times,
    bench_validation_share,
)
from benchmarks.common import ROOT

COLUMNS = ("name", "value", "unit", "target", "met", "machine", "date", "tensorflow", "keras", "profile", "source")
#: Benchmark names (for ``--only`` and ``--skip``), in the order they run.
BENCHMARKS = (
    "cached_features", "input_pipeline", "validation_share", "near_duplicates", "default_models", "smoke",
    "real_suite", "test_times",
)
DEFAULT_CSV = ROOT / "benchmarks" / "last_results.csv"


def _run(name: str, args: argparse.Namespace) -> dict:
    if name == "cached_features":
        return bench_cached_features.main()
    if name == "input_pipeline":
        return bench_input_pipeline.main()
    if name == "validation_share":
        return bench_validation_share.main()
    if name == "near_duplicates":
        return bench_near_duplicates.main()
    if name == "default_models":
        return bench_default_models.main(tuple(args.models))
    if name == "smoke":
        return bench_smoke.main(args.smoke_times)
    if name == "test_times":
        return bench_test_times.main(args.make_test_seconds, args.make_test_source)
    return bench_real_suite.main(args.suite_times)


def _source(name: str, args: argparse.Namespace, outcome: dict) -> str:
    """Where a benchmark's figures come from: this run, or a seconds file measured elsewhere."""
    if name in ("real_suite", "test_times"):
        return outcome.get("source") or ""
    if name == "smoke" and args.smoke_times:
        return str(args.smoke_times)
    return "measured in this run"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/run_all.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, default=None, help="run only these")
    parser.add_argument("--skip", nargs="*", choices=BENCHMARKS, default=(), help="leave these out")
    parser.add_argument("--suite-times", default=None, help="the real suite's seconds.csv (notebook,seconds)")
    parser.add_argument("--smoke-times", default=None, help="an earlier smoke run's seconds.csv instead of a rerun")
    parser.add_argument("--make-test-seconds", type=float, default=None,
                        help="a fresh clone's measured make test, for test_times")
    parser.add_argument("--make-test-source", default="", help="where and when that make test was measured")
    parser.add_argument("--models", nargs="*", default=bench_default_models.DEFAULT_MODELS,
                        help="backbones for default_models (default: %(default)s)")
    parser.add_argument("--csv", default=None, help=f"where to write the figures (default: {DEFAULT_CSV})")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a figure misses its target")
    parser.add_argument("--update", action="store_true",
                        help="replace only the figures measured now in an existing CSV; keep the others (own dates)")
    args = parser.parse_args(argv)

    import keras

    from helpers import config

    profile = config.setup()
    versions = config.versions()
    machine = config.machine()
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    described = f"{profile.name}: backbone {profile.backbone or 'default'}, {profile.image_size[0]} px"
    csv_path = Path(args.csv) if args.csv else (
        profile.runs_dir / "benchmark_results_smoke.csv" if profile.smoke else DEFAULT_CSV
    )

    rows, failed = [], []
    for name in args.only or BENCHMARKS:
        if name in args.skip:
            continue
        print(f"\n== {name} ==", flush=True)
        try:
            outcome = _run(name, args)
        except Exception:  # one benchmark failing must not lose the others' figures
            traceback.print_exc()
            failed.append(name)
            continue
        finally:
            keras.backend.clear_session()
        source = _source(name, args, outcome)
        for result in outcome["results"]:
            met = "" if result["met"] is None else ("yes" if result["met"] else "no")
            rows.append({**result, "value": f"{result['value']:.4g}", "met": met, "machine": machine, "date": date,
                         "tensorflow": versions["tensorflow"], "keras": versions["keras"],
                         "profile": outcome.get("profile", described),
                         "source": source})

    if args.update and csv_path.is_file():
        with csv_path.open(newline="") as handle:
            kept = [row for row in csv.DictReader(handle) if row["name"] not in {r["name"] for r in rows}]
        rows = kept + rows
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    missed = [row["name"] for row in rows if row["met"] == "no"]
    print(f"\n{len(rows)} figures on {machine}, {date} -> {csv_path}")
    print(f"missed: {', '.join(missed) or 'none'} | failed: {', '.join(failed) or 'none'}")
    return 1 if failed or (args.strict and missed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
