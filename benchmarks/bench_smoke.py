"""How long does the smoke run of every notebook take? Target: <= 5 minutes in all.

Runs every notebook (lessons, then solutions) in the smoke profile (``COURSE_SMOKE=1``, generated images, the
smallest backbone ``mobilenet_v2_035``) with ``tools.runner.execute``, as ``make smoke`` does, into a temporary
folder, offline: ``../shared/weights/keras`` is copied into a temporary ``KERAS_HOME`` and the backbone's TF Hub
twin is built into a temporary ``TFHUB_CACHE_DIR`` first, as the top-level ``conftest.py`` does (not timed).
The seconds per notebook include starting its kernel; they are written to ``seconds.csv`` in the run folder.

    python benchmarks/bench_smoke.py                      # run the notebooks (minutes)
    python benchmarks/bench_smoke.py --seconds FILE.csv   # report an earlier run's seconds.csv instead
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import ROOT, figure, print_seconds, read_seconds, write_seconds

NAME = "smoke_run_seconds"
TARGET = 5 * 60.0
BACKBONE = "mobilenet_v2_035"
SHARED_KERAS = ROOT.parent / "shared" / "weights" / "keras"


def _offline_env(tmp: Path) -> dict[str, str]:
    """The smoke profile's environment, with weight caches in ``tmp`` (seeded from ``../shared`` when present)."""
    env = {
        "COURSE_SMOKE": "1",
        "COURSE_BACKBONE": BACKBONE,
        "COURSE_DATA_ROOT": str(tmp / "data"),
        "COURSE_RUN_DIR": str(tmp / "run"),
        "COURSE_IMAGES_DIR": str(tmp / "run" / "images"),
        "TFHUB_CACHE_DIR": str(tmp / "tfhub"),
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    if (SHARED_KERAS / "models").is_dir():
        shutil.copytree(SHARED_KERAS, tmp / "keras")  # the shared folder is read-only: work on a copy
        for path in (tmp / "keras").rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        env["KERAS_HOME"] = str(tmp / "keras")
    return env


def run_smoke(tmp: Path, only: tuple[str, ...] = ()) -> tuple[dict[str, float], list[str]]:
    """Execute the notebooks in the smoke profile into ``tmp/run``: seconds per notebook (in course order), failures."""
    from papermill import PapermillExecutionError

    from tools.runner import course_notebooks, execute

    saved = dict(os.environ)
    try:
        for name in ("COURSE_DATA_DIR",):
            os.environ.pop(name, None)
        os.environ.update(_offline_env(tmp))
        if "KERAS_HOME" in os.environ and (Path(os.environ["KERAS_HOME"]) / "models").is_dir():
            # A fresh process: Keras reads KERAS_HOME when it is imported, which this one may have done already.
            subprocess.run(
                [sys.executable, "-m", "tools.hub_cache", "seed", "--backbone", BACKBONE],
                check=True, env=dict(os.environ), stdout=subprocess.DEVNULL, cwd=ROOT,
            )
        run_dir = Path(os.environ["COURSE_RUN_DIR"])
        run_dir.mkdir(parents=True, exist_ok=True)
        seconds, failed = {}, []
        for notebook in course_notebooks(ROOT):
            if only and not notebook.name.startswith(only):
                continue
            started = time.perf_counter()
            print(f"-> {notebook.relative_to(ROOT)}", flush=True)
            try:
                execute(notebook, run_dir)
            except PapermillExecutionError as err:  # time the rest anyway; the failure makes the figure a MISS
                failed.append(notebook.name)
                print(f"   FAILED {notebook.name}: {err.ename}: {err.evalue}", flush=True)
            seconds[notebook.name] = time.perf_counter() - started
        write_seconds(run_dir / "seconds.csv", seconds)
        return seconds, failed
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main(seconds_file: str | Path | None = None, only: tuple[str, ...] = ()) -> dict:
    """Run the smoke notebooks (or read ``seconds_file``) and judge the total against 5 minutes."""
    from helpers import config

    failed: list[str] = []
    if seconds_file is None:
        with tempfile.TemporaryDirectory(prefix="bench-smoke-") as tmp:
            seconds, failed = run_smoke(Path(tmp), only)
        source = "measured now, every notebook" if not only else f"measured now, notebooks {', '.join(only)} only"
    else:
        seconds = read_seconds(seconds_file)
        source = f"read from {seconds_file}"
    print(f"smoke run of the notebooks ({source}) | {config.machine()}")
    print_seconds(seconds)
    total = sum(seconds.values())
    # Only the whole course is judged against the target; a partial run is recorded as such.
    problem = f"{len(failed)} notebook(s) failed: {', '.join(failed)}" if failed else ""
    if only:
        result = figure(NAME + "_partial", total, "s")
    else:
        result = figure(NAME, total, "s", "<=", TARGET, problem=problem)
    return {
        "results": [result],
        "failed": failed,
        "profile": f"smoke: backbone {BACKBONE}, 64 px",
        "seconds": seconds,
        "source": source,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", default=None, help="a seconds.csv (notebook,seconds) of an earlier smoke run")
    parser.add_argument("--only", nargs="*", default=(), help="notebook number prefixes, e.g. 00 07")
    args = parser.parse_args()
    main(args.seconds, tuple(args.only))
