"""Helpers shared by every notebook of the transfer-learning course.

The package is deliberately thin: each module does one job and every public
function is small, typed and documented. Each public helper's docstring names the
notebook section that teaches it ("Taught in notebook NN, section N"), the public
helper that uses it, or says that no lesson uses it.

- :mod:`helpers.config` -- the run profile (learner, smoke, local), versions, device, strategy and seeds: ``setup()``.
- :mod:`helpers.backbones` -- the table of pretrained backbones and their published figures (no TensorFlow import).
- :mod:`helpers.data` -- getting, checking, sub-sampling and loading image folders; the food and two-class data;
  near-duplicates across the splits.
- :mod:`helpers.models` -- backbones, feature extractors, fine-tuning, TF Hub, saving and loading models safely.
- :mod:`helpers.training` -- augmentation, compiling, the shared fit / validate / test / record step, cached features.
- :mod:`helpers.callbacks` -- run folders, TensorBoard, checkpoints and saved histories; where a backup is.
- :mod:`helpers.plotting` -- loss curves, history comparison, image grids, predictions, saved figures.
- :mod:`helpers.results` -- the course's table of experiment results (and ``python -m helpers.results summary``).
- :mod:`helpers.exercises` -- exercises that check themselves: ``exercises("04").e1.check(...)``, ``hint()``,
  ``solution()``, and the blank ``____`` of an exercise cell.
- :mod:`helpers._internal` -- the private machinery (downloads, image-folder checks, the exercises' checks,
  device / strategy, network errors, resuming a run), re-exported by the modules above where a lesson calls it;
  the maintainers' tooling lives in ``tools/``, which ``helpers`` never imports.
"""

import warnings

__version__ = "0.1.0"

# tensorflow-hub 0.16.1 (its last release) still imports pkg_resources, which warns on every import; the course
# installs PyPA's standard-pkg-resources for it (see pyproject.toml), so the warning says nothing to act on.
warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
