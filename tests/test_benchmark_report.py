"""benchmarks/run.py's report: every figure and ratio is of the time the table shows."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _run_module():
    spec = importlib.util.spec_from_file_location("benchmark_run", REPO / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_preview_is_reported_and_compared_by_its_rebuild_not_the_first_build():
    run = _run_module()
    M = run.Measure

    def size(scale: float) -> dict:
        return {"check": M(1 * scale, 1, 1), "generate": M(2 * scale, 1, 1, extra={
                    "check": 0.5 * scale, "render": 1 * scale}),
                "build": M(4 * scale, 1, 1, extra={"mkdocs": 3 * scale}),
                "mkdocs": M(12 * scale, 1, 1),
                "preview": M(7 * scale, 1, 1, extra={"first": 4 * scale, "rebuild": 0.3 * scale})}

    small, large = size(1), size(8)
    large["preview"].extra["rebuild"] = 0.3 * 5  # the rebuild grows 5 times, the stage 8
    text = run.report({500: small, 5000: large})
    rows = {line.split("|")[1].strip() + " " + line.split("|")[2].strip().split(" (")[0]:
            line for line in text.splitlines() if line.startswith("| 5")}
    assert "| 1.50 |" in rows["5000 preview"] and rows["5000 preview"].endswith("| 0.02 |")
    ratios = re.search(r"5000 vs 500 incidents \(wall\): (.*) \(target", text).group(1)
    assert "preview 5.0×" in ratios and "build 8.0×" in ratios
