"""What runs underneath the lessons' helpers but is never called by name in a lesson.

- :mod:`helpers._internal.downloads` -- downloads and extraction that never leave a half-finished file to trust.
- :mod:`helpers._internal.image_check` -- the checks behind :func:`helpers.data.check_image_folder`.
- :mod:`helpers._internal.device` -- the distribution strategy for the machine (one device, several GPUs, a TPU).
- :mod:`helpers._internal.network` -- download errors that name their cause (hub refusals, certificates, offline).
- :mod:`helpers._internal.resume` -- backing up every epoch and resuming an interrupted run.

The public helpers re-export what a lesson needs; notebooks never import this package
(``tests/tools/test_layers.py`` checks it).
"""
