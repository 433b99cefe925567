"""How long does a maintainer wait? Targets: every notebook's smoke run through nbval <= 3 minutes, and a fresh
clone's ``make test`` <= 15 minutes, on 2 cores.

The smoke figure runs exactly what ``make quick`` and ``make test`` run for the notebooks: every lesson and
solutions notebook in the smoke profile through nbval on both cores (pytest-xdist with the top-level
``conftest.py``'s scheduler, which also makes the session offline), timed from start to end.

A whole ``make test`` on a fresh clone takes the better part of that quarter hour, so it is not rerun here:
time it (``git clone <repo> /tmp/fresh && cd /tmp/fresh && /usr/bin/time -f %e make test``) and pass the
seconds with ``--make-test-seconds`` (the CSV's source column says so).

    python benchmarks/bench_test_times.py
    python benchmarks/bench_test_times.py --make-test-seconds 840 --make-test-source "fresh clone, 2026-12-02"
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import ROOT, figure

SMOKE_NAME = "smoke_notebooks_seconds"
SMOKE_TARGET = 3 * 60.0
MAKE_TEST_NAME = "make_test_seconds"
MAKE_TEST_TARGET = 15 * 60.0


def smoke_command(jobs: str = "auto") -> list[str]:
    """The notebooks' part of ``make quick`` / ``make test`` (see the Makefile's ``PYTEST``).

    Example:
        >>> smoke_command()[-5:]
        ['-n', 'auto', '--dist', 'loadscope', '--no-loadscope-reorder']
    """
    return [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider", "notebooks",
            "-n", jobs, "--dist", "loadscope", "--no-loadscope-reorder"]  # fmt: skip


def time_smoke_notebooks(jobs: str = "auto") -> tuple[float, str]:
    """Seconds for the notebooks' smoke run, and a problem ("" when every notebook passed)."""
    started = time.perf_counter()
    result = subprocess.run(smoke_command(jobs), cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    tail = (result.stdout.strip().splitlines() or [""])[-1]
    print(f"nbval on every notebook: {tail}")
    return seconds, "" if result.returncode == 0 else f"nbval failed: {tail}"


def main(make_test_seconds: float | None = None, make_test_source: str = "", jobs: str = "auto") -> dict:
    """Time the notebooks' smoke run; report a measured ``make test`` too when given."""
    seconds, problem = time_smoke_notebooks(jobs)
    results = [figure(SMOKE_NAME, seconds, "s", "<=", SMOKE_TARGET, problem=problem)]
    if make_test_seconds is not None:
        results.append(figure(MAKE_TEST_NAME, make_test_seconds, "s", "<=", MAKE_TEST_TARGET))
    source = "smoke: measured in this run" + (f"; make test: {make_test_source}" if make_test_source else "")
    return {"results": results, "profile": "smoke: backbone mobilenet_v2_035, 64 px", "source": source}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="benchmarks/bench_test_times.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--make-test-seconds", type=float, default=None, help="a measured fresh-clone make test")
    parser.add_argument("--make-test-source", default="", help="where and when that make test was measured")
    parser.add_argument("--jobs", default="auto", help="pytest-xdist workers (default: auto)")
    args = parser.parse_args()
    outcome = main(args.make_test_seconds, args.make_test_source, args.jobs)
    raise SystemExit(0 if all(r["met"] is not False for r in outcome["results"]) else 1)
