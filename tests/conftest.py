"""Test-wide settings: a throw-away result cache and a non-interactive plot backend."""

import os
import tempfile

import matplotlib

matplotlib.use("Agg")
os.environ["CL_TEACH_CACHE"] = tempfile.mkdtemp(prefix="cl_teach-cache-")
