"""pytest configuration for the whole suite: the op-coverage check (tests/op_coverage.py) and
Hypothesis profiles.

* ``ci``: chosen automatically when the ``CI`` environment variable is set. Derandomized (every
  run draws the same examples, no example database), no deadline, and a failure prints the
  ``@reproduce_failure`` blob.
* ``dev``: ``HYPOTHESIS_PROFILE=dev`` runs four times as many examples per test, randomized, to
  hunt for rare mismatches before they reach CI (a few minutes on two cores).
* ``local`` (the default otherwise): CI's budgets, randomized, so local runs keep exploring.

Tests state their example budget with ``harness.examples(n)``: ``n`` under ``ci`` / ``local``,
scaled by the profile's ``max_examples`` / 100 otherwise (an explicit ``max_examples=n`` in
``@settings`` would override any profile).
"""
import os

from hypothesis import settings

pytest_plugins = ["op_coverage"]

settings.register_profile("ci", max_examples=100, derandomize=True, deadline=None, print_blob=True)
settings.register_profile("local", max_examples=100, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=400, deadline=None, print_blob=True)

settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "local"))
