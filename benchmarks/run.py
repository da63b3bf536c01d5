"""How long the fact sheet takes to check and build at 500 and 5,000 incidents, and why.

For each size it writes a synthetic project (see ``generate.py``) under
``benchmarks/out/<size>`` and measures, each in a fresh process:

- ``check``: ``factsheet check``;
- ``generate``: the generator's own work, load + check + render to the Markdown tree, with
  the cycle collector set as the build sets it;
- ``build``: the full ``factsheet build`` (check, render, MkDocs, post-build checks, swap),
  with the time MkDocs' own build takes inside it: the rest is the generator's share;
- ``linkcheck``: ``factsheet linkcheck`` of the built site on its own (the build makes the
  same checks as it writes the site; this reads every page again);
- ``mkdocs``: plain ``mkdocs build`` of the same rendered Markdown written out as ordinary
  files (footnotes, attribute lists), with the same theme and plugins, without ours:
  the baseline every other figure is compared with;
- ``preview``: in one warm process, as ``factsheet serve`` does, the rebuild after one
  incident file changes.

For each it prints wall-clock seconds, CPU seconds (user + system, children included:
the honest figure on a busy machine), peak memory (proportional set size of the process
tree, sampled every 0.1 s, every 0.5 s after 3 s, so pages forked workers share are counted
once) and, for builds, the size of the site.  Then the ratios: each figure against
``mkdocs`` alone, and 5,000 incidents against 500.

    python benchmarks/run.py                 # 500 and 5,000 incidents
    python benchmarks/run.py --sizes 500     # one size
    python benchmarks/run.py --repeat 3      # best of three runs of each measurement
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # generate.py sits beside this script
import generate  # noqa: E402

OUT = HERE / "out"
SAMPLE_SECONDS = 0.5  # between two samples of memory after 3 s; peaks last seconds
PYTHON = sys.executable


@dataclass
class Measure:
    """One measured run: seconds, CPU seconds, peak memory, and what it wrote."""

    wall: float
    cpu: float
    peak_mib: float
    site_mib: float | None = None
    files: int | None = None
    extra: dict = field(default_factory=dict)


def _pss(pid: int) -> int:
    """Proportional set size in KiB: memory shared by forked workers is counted once."""
    with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
        for line in f:
            if line.startswith(b"Pss:"):
                return int(line.split()[1])
    return 0


def _family(root_pid: int) -> frozenset[tuple[int, int]]:
    """(pid, start time) of a process and all its descendants."""
    parents: dict[int, tuple[int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read().rsplit(b")", 1)[1].split()
            parents[int(entry.name)] = (int(stat[1]), int(stat[19]))
        except (OSError, IndexError, ValueError):
            continue
    family = {root_pid}
    changed = True
    while changed:
        changed = False
        for pid, (parent, _) in parents.items():
            if parent in family and pid not in family:
                family.add(pid)
                changed = True
    return frozenset((pid, parents.get(pid, (0, 0))[1]) for pid in family)


def _tree_rss(root_pid: int) -> int | None:
    """Memory, in KiB, of a process and all its descendants (PSS, so pages that forked
    workers share with their parent are not counted twice).

    A fork or an exit between reading two processes would count their shared pages
    twice (the parent read before the fork in full, the child after it with its share),
    so a sample counts only if the same processes lived before and after it; None if
    they never did in a few tries.
    """
    for _ in range(5):
        before = _family(root_pid)
        try:
            total = sum(_pss(pid) for pid, _ in before)
        except (OSError, ValueError):
            continue
        if _family(root_pid) == before:
            return total
    return None


def run(argv: list[str], cwd: Path, env: dict | None = None) -> Measure:
    """Run a command, sampling the memory of its process tree; fail loudly if it fails."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env={**os.environ, **(env or {})},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            try:
                peak[0] = max(peak[0], _tree_rss(process.pid) or 0)
            except OSError:
                pass
            # a sample reads the page tables of every process: 40-120 ms of CPU with three
            # processes of 800 MiB, which every 0.1 s took most of a core from the build;
            # short runs, small, are still sampled often enough to see their peak
            done.wait(0.1 if time.perf_counter() - started < 3 else SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    usage = _child_usage()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, argv))} failed ({process.returncode}):\n"
                         f"{out.decode()[-3000:]}\n{err.decode()[-3000:]}")
    extra = {}
    for line in out.decode().splitlines():
        if line.startswith("{"):
            extra = json.loads(line)
    return Measure(wall, usage, max(peak[0], 0) / 1024, extra=extra)


_last_usage = [0.0]


def _child_usage() -> float:
    """CPU seconds used by the children that finished since the previous call."""
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    spent, _last_usage[0] = total - _last_usage[0], total
    return spent


def site_size(folder: Path) -> tuple[float, int]:
    """Size in MiB and number of files of a built site."""
    total = files = 0
    for path in folder.rglob("*"):
        if path.is_file():
            total += path.stat().st_size
            files += 1
    return total / 2**20, files


def best(measures: list[Measure]) -> Measure:
    return min(measures, key=lambda m: m.wall)


# -- stages run in a child process: python run.py --stage NAME ROOT ------------------------

def stage_generate(root: Path, docs: Path | None) -> None:
    """Time load + check + render in this process; optionally write the tree to ``docs``.

    The collector is set as `factsheet build` sets it around the same stages (off when
    workers build the pages): with it on, its walks of the records took 0.2-0.27 s of the
    check and 0.33-0.4 s of the render at 5,000 incidents, which a build does not pay.
    """
    from generator.build import no_collections_with_workers
    from generator.check import check_project
    from generator.site import render_checked

    with no_collections_with_workers():
        started = time.perf_counter()
        result = check_project(root)
        checked = time.perf_counter()
        tree = render_checked(result, root / "site_templates", "Benchmark")
        rendered = time.perf_counter()
    if docs is not None:
        if docs.exists():
            shutil.rmtree(docs)
        shutil.copytree(root / "site_templates" / "assets", docs)
        for path, output in tree.items():
            target = docs / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(output.content, bytes):
                target.write_bytes(output.content)
            else:
                target.write_text(output.content, encoding="utf-8")
    print(json.dumps({"check": checked - started, "render": rendered - checked,
                      "pages": sum(1 for p in tree if p.endswith(".md"))}))


def stage_build(root: Path, site: Path) -> None:
    """`factsheet build` in this process, timing the part MkDocs' build takes."""
    from generator import build
    from generator.cli import main

    inside = [0.0]
    mkdocs_build = build.mkdocs_build

    def timed(config) -> None:
        started = time.perf_counter()
        try:
            mkdocs_build(config)
        finally:
            inside[0] += time.perf_counter() - started

    build.mkdocs_build = timed
    code = main(["--root", str(root), "build", "--site-dir", str(site)])
    if code:
        raise SystemExit(code)
    print(json.dumps({"mkdocs": inside[0]}))


def stage_preview(root: Path, site: Path) -> None:
    """Build once in this process, change one incident, and time the rebuild serve makes."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    def rebuild() -> float:
        # as `mkdocs serve` does: a fresh config each time; plugins that define
        # on_startup (the factsheet and search plugins) are kept across rebuilds
        started = time.perf_counter()
        config = load_config(str(root / "mkdocs.yml"), site_dir=str(site))
        build(config, serve_url="http://127.0.0.1:8000/")
        return time.perf_counter() - started

    load_config(str(root / "mkdocs.yml")).plugins.on_startup(command="serve", dirty=False)
    first = rebuild()
    incident = sorted((root / "facts" / "incidents").glob("*.yaml"))[len(
        list((root / "facts" / "incidents").glob("*.yaml"))) // 2]
    original = incident.read_text(encoding="utf-8")
    try:
        incident.write_text(original.replace("kind: attack", "kind: strike", 1), "utf-8")
        second = rebuild()
    finally:
        incident.write_text(original, "utf-8")
    print(json.dumps({"first": first, "rebuild": second}))


# -- the benchmark ---------------------------------------------------------------------------

def baseline_config(root: Path, docs: Path) -> Path:
    """mkdocs.yml of the project, without the factsheet plugin, reading ``docs``."""
    lines = (root / "mkdocs.yml").read_text(encoding="utf-8").splitlines()
    kept, skipping = [], False
    for line in lines:
        if line.strip() == "- factsheet:":
            skipping = True
            continue
        if skipping and line.startswith("      "):
            continue
        skipping = False
        if line.startswith("docs_dir:"):
            line = f"docs_dir: {docs}"
        kept.append(line)
    config = docs.parent / "mkdocs-baseline.yml"
    config.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return config


def measure_size(size: int, repeat: int) -> dict[str, Measure]:
    root = OUT / str(size)
    generate.generate(size, root)
    scratch = OUT / f"{size}-scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    docs, site, base_site = scratch / "docs", scratch / "site", scratch / "baseline-site"
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    me = [PYTHON, str(Path(__file__).resolve())]
    factsheet = [PYTHON, "-m", "generator.cli", "--root", str(root)]
    results: dict[str, Measure] = {}

    def measure(name: str, argv: list[str], output: Path | None = None) -> None:
        runs = []
        for _ in range(repeat):
            m = run(argv, root, env)
            if output is not None:
                m.site_mib, m.files = site_size(output)
            runs.append(m)
        results[name] = best(runs)
        print(f"  {size:>5} {name:<10} {results[name].wall:7.2f} s", file=sys.stderr)

    measure("check", [*factsheet, "check"])
    measure("generate", [*me, "--stage", "generate", str(root)])
    run([*me, "--stage", "generate", str(root), "--docs", str(docs)], root, env)
    measure("build", [*me, "--stage", "build", str(root), "--site", str(site)], site)
    measure("linkcheck", [*factsheet, "linkcheck", "--site-dir", str(site)])
    measure("mkdocs", [PYTHON, "-m", "mkdocs", "build", "-q", "-f",
                       str(baseline_config(root, docs)), "-d", str(base_site)], base_site)
    measure("preview", [*me, "--stage", "preview", str(root), "--site", str(scratch / "pv")])
    return results


def _shown_wall(name: str, m: Measure) -> float:
    """The wall time a measure is reported by: for the preview, its rebuild's."""
    return m.extra["rebuild"] if name == "preview" else m.wall


def report(all_results: dict[int, dict[str, Measure]]) -> str:
    """The figures as a Markdown table, then the ratios."""
    lines = ["| incidents | measure | wall s | CPU s | peak MiB | site MiB | files | "
             "× mkdocs alone (wall) |", "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for size, results in all_results.items():
        base = results["mkdocs"].wall
        for name, m in results.items():
            wall = _shown_wall(name, m)
            note = ""
            if name == "generate":
                note = f" (check {m.extra['check']:.2f} + render {m.extra['render']:.2f})"
            if name == "build":
                note = f" (MkDocs' build inside it {m.extra['mkdocs']:.2f})"
            if name == "preview":
                note = (f" (rebuild after one edit; first build {m.extra['first']:.2f}; "
                        "CPU and memory: both builds)")
            site = f"{m.site_mib:.1f}" if m.site_mib is not None else ""
            files = str(m.files) if m.files is not None else ""
            lines.append(f"| {size} | {name}{note} | {wall:.2f} | {m.cpu:.2f} | "
                         f"{m.peak_mib:.0f} | {site} | {files} | {wall / base:.2f} |")
    sizes = sorted(all_results)
    lines.append("")
    for size in sizes:
        r = all_results[size]
        build = r["build"]
        outside = (build.wall - build.extra["mkdocs"]) / build.wall
        lines.append(f"- {size} incidents: full build / mkdocs alone = "
                     f"{build.wall / r['mkdocs'].wall:.2f} (target ≤ 0.33); generator's "
                     f"share of the full build = {outside:.0%} outside MkDocs' build "
                     f"(start-up, check, render, link check, swap), "
                     f"{r['generate'].wall / build.wall:.0%} counting load + check + render "
                     f"alone (target ≤ 10%); check {r['check'].wall:.2f} s "
                     "(target < 1.5 s at 5,000)")
    if len(sizes) >= 2:
        small, large = all_results[sizes[0]], all_results[sizes[-1]]
        ratios = ", ".join(
            f"{name} {_shown_wall(name, large[name]) / _shown_wall(name, small[name]):.1f}×"
            for name in small)
        lines.append(f"- {sizes[-1]} vs {sizes[0]} incidents (wall): {ratios} "
                     "(target ≤ 11×)")
    return "\n".join(lines)


def compile_package() -> None:
    """Write the generator's bytecode, as installing a package does, so that each measured
    process does not compile it again: with PYTHONDONTWRITEBYTECODE set (as on our
    benchmark machine) a checkout's modules are compiled at every start, 30 ms of
    `factsheet check`."""
    import compileall

    import generator

    compileall.compile_dir(str(Path(generator.__file__).parent), quiet=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs (default 1)")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("root", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("--docs", help=argparse.SUPPRESS)
    parser.add_argument("--site", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage == "generate":
        stage_generate(Path(args.root), Path(args.docs) if args.docs else None)
        return 0
    if args.stage == "build":
        stage_build(Path(args.root), Path(args.site))
        sys.stdout.flush()
        os._exit(0)  # as the `factsheet` command exits (generator.cli.run)
    if args.stage == "preview":
        stage_preview(Path(args.root), Path(args.site))
        return 0
    compile_package()
    load = f"load average {os.getloadavg()[0]:.1f} before the run, on {os.cpu_count()} cores"
    results = {size: measure_size(size, args.repeat) for size in args.sizes}
    print(report(results))
    print(f"- {load}, {os.getloadavg()[0]:.1f} after; CPU seconds include child processes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
