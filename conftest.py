"""Test-session setup shared by the unit tests and the notebooks run through nbval.

Before anything imports Keras, this puts every output of the session in a
temporary folder and makes the run offline:

- ``COURSE_SMOKE=1``: the notebooks run in the tiny smoke profile.
- ``KERAS_HOME``: a temporary copy of ``../shared/weights/keras`` (real ImageNet
  weights), when that folder exists; ``COURSE_BACKBONE`` then picks a backbone
  whose weights it holds.
- ``TFHUB_CACHE_DIR``: a temporary folder where the notebooks' TF Hub handles are
  pre-built (``tools.hub_cache``) before the first notebook runs.

Without ``../shared`` (a learner's laptop) the notebooks download what they need;
they are skipped unless ``COURSE_ALLOW_DOWNLOADS=1``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
SHARED = ROOT.parent / "shared"
SHARED_KERAS = SHARED / "weights" / "keras"
OFFLINE_BACKBONE = "mobilenet_v2_035"
#: Whether real ImageNet weights are at hand offline.
SEEDED = (SHARED_KERAS / "models").is_dir()


def pytest_configure(config: pytest.Config) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="course-tests-"))
    os.environ.update(
        COURSE_SMOKE="1",
        COURSE_RUN_DIR=str(tmp / "runs"),
        COURSE_IMAGES_DIR=str(tmp / "images"),
        COURSE_DATA_ROOT=str(tmp / "data"),
        TFHUB_CACHE_DIR=str(tmp / "tfhub"),
        MPLBACKEND="Agg",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    for name in ("COURSE_DATA_DIR", "COURSE_TWO_CLASS_DIR", "COURSE_BACKBONE"):
        os.environ.pop(name, None)
    os.environ["KERAS_HOME"] = str(tmp / "keras")  # never the learner's own cache
    if SEEDED:
        shutil.copytree(SHARED_KERAS, tmp / "keras")  # the shared folder is read-only
        for path in (tmp / "keras").rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        os.environ["COURSE_BACKBONE"] = OFFLINE_BACKBONE
    config.course_tmp = tmp  # type: ignore[attr-defined]


def _is_notebook(item: pytest.Item) -> bool:
    return str(item.fspath).endswith(".ipynb")


#: Notebooks that read what an earlier one wrote into the session's run folder (04 loads 03's Model 2 checkpoint,
#: 05's solutions its head-only one, 02's and 06's solutions their lesson's rows): each chain runs in order on one
#: xdist worker.
CHAINS = {
    "02_functional_api_model_0": "chain-02",
    "03_data_size_experiments": "chain-03-04",
    "04_fine_tuning": "chain-03-04",
    "05_mobilenetv2_cats_vs_dogs": "chain-05",
    "06_choosing_a_base_model": "chain-06",
}


def _group(nodeid: str) -> str:
    """The pytest-xdist work unit of a test: its file, or the chain its notebook is in."""
    path = Path(nodeid.split("::", 1)[0])
    if path.suffix == ".ipynb":
        return CHAINS.get(path.stem.removesuffix("_solutions"), str(path))
    return str(path)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: unknown (and unused) without it
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """With ``-n``, hand out whole files (a notebook's cells run in order, fixtures are built once) and whole chains
    of :data:`CHAINS`, in collection order (``--no-loadscope-reorder``: the real-data suite first). xdist's own
    ``loadgroup`` cannot do it on pytest 9, whose test ids no longer take the group suffix xdist adds."""
    from xdist.scheduler import LoadScopeScheduling

    class CourseScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid)

    return CourseScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The real-data suite (minutes on one core) first, so one worker starts it while the other takes the rest.
    items.sort(key=lambda item: item.get_closest_marker("real") is None)
    notebooks = [item for item in items if _is_notebook(item)]
    if not notebooks:
        return
    if not SEEDED and os.environ.get("COURSE_ALLOW_DOWNLOADS") != "1":
        skip = pytest.mark.skip(reason="notebooks need ../shared/weights (offline) or COURSE_ALLOW_DOWNLOADS=1")
        for item in notebooks:
            item.add_marker(skip)
        return
    if SEEDED:
        from tools import hub_cache

        hub_cache.seed(OFFLINE_BACKBONE)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """A lesson's exercise cell (tagged ``raises-exception``, with blanks ``____``), run as it is stored, must stop
    at a blank with the friendly :class:`helpers.exercises.FillIn`, not another error: what a learner sees first."""
    result = yield
    cell = getattr(item, "cell", None)
    tags = cell.metadata.get("tags", []) if cell is not None else []
    if _is_notebook(item) and "raises-exception" in tags and "____" in cell.source:
        errors = [out["ename"] for out in item.test_outputs or [] if out.get("ename")]
        if errors != ["FillIn"]:
            pytest.fail(f"an exercise cell with blanks raised {errors or 'nothing'} instead of FillIn:\n{cell.source}")
    return result
