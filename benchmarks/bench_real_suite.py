"""How long does the real suite take? Target: <= 25 minutes for every lesson run for real.

The real suite (``make reference``, or ``tests/lessons/test_real_runs.py``) runs every lesson on real data
offline through ``tools.reference.run_lessons``, which writes ``seconds.csv`` (``notebook,seconds``) in its run folder;
``make reference`` copies it to ``results/reference_seconds.csv``. This benchmark never reruns the suite: it
reads that file (or the one given) and judges the sum.

    python benchmarks/bench_real_suite.py [runs/<timestamp>/seconds.csv]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import ROOT, figure, print_seconds, read_seconds
from tools.reference import BACKBONE

NAME = "real_suite_seconds"
TARGET = 25 * 60.0
#: Where ``make reference`` publishes the reference run's seconds per lesson.
PUBLISHED = ROOT / "results" / "reference_seconds.csv"


def main(seconds_file: str | Path | None = None) -> dict:
    """Judge the real suite's total seconds (from ``seconds_file``, default ``results/reference_seconds.csv``)."""
    path = Path(seconds_file) if seconds_file else PUBLISHED
    if not path.is_file():
        print(f"real suite: no seconds file at {path}; run `make reference` or pass --suite-times "
              "runs/<timestamp>/seconds.csv (not measured)")
        return {"results": [], "source": None}
    seconds = read_seconds(path)
    print(f"real suite, every lesson for real (read from {path}):")
    print_seconds(seconds)
    result = figure(NAME, sum(seconds.values()), "s", "<=", TARGET)
    profile = f"reference (tools.reference): backbone {BACKBONE}, 224 px"
    return {"results": [result], "seconds": seconds, "source": str(path), "profile": profile}


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
