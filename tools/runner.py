"""Execute every course notebook in order with papermill (``make run``).

Each run gets a fresh ``runs/<timestamp>/`` folder holding the executed notebooks,
``results.csv``, checkpoints, TensorBoard logs, figures and the comparison plot.
The active profile (environment variables) is passed through unchanged.

Command line::

    python -m tools.runner [--only 00 01] [--runs-dir runs]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from helpers import config
from helpers.callbacks import new_run_dir
from helpers.config import course_notebooks


def execute(notebook: Path, out_dir: Path) -> Path:
    """Execute ``notebook`` with papermill in its own folder (as JupyterLab would) into ``out_dir``.

    The kernel inherits this process's environment, so the active profile applies.

    Example:
        >>> execute(Path("notebooks/02_functional_api_model_0.ipynb"), Path("runs/x"))  # doctest: +SKIP
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out = Path(out_dir) / notebook.name
    try:
        papermill.execute_notebook(
            str(notebook), str(out), cwd=str(notebook.parent), kernel_name="python3", progress_bar=False
        )
    except PapermillExecutionError:
        # nbclient runs on past a cell tagged raises-exception (a lesson's exercise cell stops at its blanks);
        # papermill then reports its error all the same: only an error elsewhere fails the run
        if unexpected_errors(out):
            raise
        _drop_error_banners(out)
    return out


def _drop_error_banners(executed: Path) -> None:
    """Remove the "An exception was encountered" cells papermill adds, once every error was an allowed one."""
    import json

    nb = json.loads(executed.read_text(encoding="utf-8"))
    banner = "papermill-error-cell-tag"
    nb["cells"] = [cell for cell in nb["cells"] if banner not in cell.get("metadata", {}).get("tags", [])]
    executed.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def unexpected_errors(executed: Path) -> list[str]:
    """The errors of an executed notebook that no ``raises-exception`` tag allows, as ``"Cell N: Name"``.

    A tagged exercise cell (one with blanks ``____``) is allowed only :class:`helpers.exercises.FillIn`.

    Example:
        >>> unexpected_errors(Path("runs/x/04_fine_tuning.ipynb"))  # doctest: +SKIP
        []
    """
    import json

    found = []
    for index, cell in enumerate(json.loads(Path(executed).read_text(encoding="utf-8"))["cells"]):
        source = "".join(cell.get("source", ""))
        tags = cell.get("metadata", {}).get("tags", [])
        allowed = ("FillIn",) if "____" in source else None
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            if "raises-exception" not in tags or (allowed and output.get("ename") not in allowed):
                found.append(f"Cell {index}: {output.get('ename')}")
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the notebooks; return 1 as soon as one fails."""
    parser = argparse.ArgumentParser(prog="python -m tools.runner", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=None, help="notebook number prefixes, e.g. 00 01")
    parser.add_argument("--runs-dir", default=None, help="parent of the timestamped run folder (default: runs/)")
    args = parser.parse_args(argv)

    import papermill

    root = config.find_root()
    # Notebooks run with their own folder as working directory: make relative paths absolute first.
    for name in (config.ENV_DATA_DIR, config.ENV_DATA_ROOT, "KERAS_HOME", "TFHUB_CACHE_DIR"):
        if os.environ.get(name):
            os.environ[name] = str(Path(os.environ[name]).expanduser().resolve())
    run_dir = new_run_dir(Path(args.runs_dir or root / "runs"), "")
    env = {config.ENV_RUN_DIR: str(run_dir), config.ENV_IMAGES_DIR: str(run_dir / "images")}
    os.environ.update(env)
    print(config.load_profile().describe())
    print(f"Run folder: {run_dir}")
    for notebook in course_notebooks(root, args.only):
        started = time.perf_counter()
        print(f"-> {notebook.relative_to(root)}", flush=True)
        try:
            execute(notebook, run_dir)
        except papermill.PapermillExecutionError as err:
            print(f"FAILED {notebook.name}: {err.ename}: {err.evalue}\nSee {run_dir / notebook.name}", file=sys.stderr)
            return 1
        print(f"   done in {time.perf_counter() - started:.0f} s", flush=True)
    from helpers.results import main as summary

    summary(["summary", str(run_dir)])
    print(f"Outputs are in {run_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
