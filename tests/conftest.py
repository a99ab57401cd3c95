"""Test-wide settings: a non-interactive plot backend and a throw-away result cache
(unless ``CL_TEACH_CACHE`` names one: CI shares its cache with the browser tests)."""

import os
import tempfile

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("CL_TEACH_CACHE", tempfile.mkdtemp(prefix="cl_teach-cache-"))
