"""Performance benchmarks of the course, each reported as a figure measured in one run, against its target.

Run them all with ``make benchmark`` (``python benchmarks/run_all.py``); each script also runs alone.
"""
