"""Helpers shared by every notebook of the transfer-learning course.

The package is deliberately thin: each module does one job and every public
function is small, typed and documented.

- :mod:`helpers.config` -- the run profile (learner, smoke, local) and seeds.
- :mod:`helpers.backbones` -- the table of pretrained backbones (no TensorFlow import).
- :mod:`helpers.data` -- getting, sub-sampling and loading image folders.
- :mod:`helpers.image_check` -- find (and set aside) files in an image folder that training cannot use.
- :mod:`helpers.downloads` -- downloads and extraction that never leave a half-finished file to trust.
- :mod:`helpers.network` -- download errors that name their cause (hub refusals, certificates, no network).
- :mod:`helpers.pins` -- fill in the SHA-256 pins of the course's archives (``python -m helpers.pins``).
- :mod:`helpers.models` -- backbones, feature extractors, fine-tuning, TF Hub.
- :mod:`helpers.hub_cache` -- put a TF Hub module where ``tensorflow_hub`` looks.
- :mod:`helpers.plotting` -- loss curves, history comparison, predictions.
- :mod:`helpers.callbacks` -- TensorBoard, checkpoint and backup callbacks; resuming an interrupted run.
- :mod:`helpers.results` -- the course's table of experiment results.
- :mod:`helpers.training` -- augmentation, the shared fit / validate / test / record step, cached features.
- :mod:`helpers.runner` -- execute every notebook in order (``make run``).
"""

import warnings

__version__ = "0.1.0"

# tensorflow-hub 0.16.1 (its last release) still imports pkg_resources, which warns on every import; the course
# installs PyPA's standard-pkg-resources for it (see pyproject.toml), so the warning says nothing to act on.
warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
