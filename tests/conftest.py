"""Test-wide settings: nothing a test run does is written into the repository."""

import os
import tempfile

# Hypothesis keeps its example database and caches here instead of ./.hypothesis
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY",
                      os.path.join(tempfile.gettempdir(), "factsheet-hypothesis"))
