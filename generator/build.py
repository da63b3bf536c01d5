"""`factsheet build`: check, render, MkDocs with --strict, post-build checks, then publish.

Nothing is written to the output folder until every stage has passed: MkDocs builds
into a temporary folder beside it, the post-build checks read that folder, and only
then is it swapped into place.  A failed build leaves the previous site untouched.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.exceptions import MkDocsException

from . import mkdocs_pages, parallel
from .check import CheckResult, check_project, fewer_collections
from .errors import BuildError, Problem
from .linkcheck import mkdocs_problems
from .render import Output, Tree
from .site import build_date, epoch_of, render_checked

# (site folder, rendered tree, check result, pages already scanned for the link check)
PostCheck = Callable[[Path, Tree, CheckResult, dict], list[Problem]]


@dataclass(slots=True)
class BuildReport:
    """What a build did: the check's result, the pages rendered and where the site went."""

    result: CheckResult
    site_dir: Path | None = None
    pages: int = 0
    problems: list[Problem] = field(default_factory=list)  # from the post-build checks


class _Collect(logging.Handler):
    """Keeps MkDocs' warnings so a failed build can say what they were."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def no_collections_with_workers():
    """No cycle collection during a build whose pages workers render, convert and theme;
    yields whether the collector is off.

    This process reads the records, indexes them, and gathers what the workers send: the
    pages, their HTML, the link check's scans, several million objects that live to the
    end and make few cycles.  Collecting walks them again and again: at 5,000 incidents
    it took 0.25 s of the check and 0.4 s of the render, and made this process's part of
    MkDocs' build 2 s instead of 0.7 s (time taken from the workers' cores); peak memory
    is the same without it.  Without workers, the pages' Jinja renders and
    Python-Markdown instances are cycles made here, so the collector only runs less often
    (:func:`fewer_collections`).
    """
    if mkdocs_pages.workers_available() < 2 or not parallel.can_fork():
        yield False
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield True
    finally:
        if enabled:
            _age_survivors()
            gc.enable()


def _age_survivors() -> None:
    """Move what the collector has not seen yet to its oldest generation, unwalked.

    With the collector off, everything a build made stays in the youngest generation,
    and the first collection after it walks it all: 0.86-0.95 s at the end of a
    5,000-incident build, most of it for the records, which the caller still holds.
    Freezing moves every tracked object aside and unfreezing puts them all in the oldest
    generation, two splices of lists; the next full collection sees them, as it would
    have.  Not when something is frozen already (a caller's choice): that would thaw it.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


@contextmanager
def _environment(name: str, value: str):
    old = os.environ.get(name)
    os.environ.setdefault(name, value)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)


def build_site(root: Path, config_file: Path | None = None, site_dir: Path | None = None,
               strict: bool = False, post_checks: tuple[PostCheck, ...] = ()) -> BuildReport:
    """Build the site of the project at ``root``; raise BuildError if any stage fails.

    When the facts fail the check, the report comes back with no site and the problems
    in ``report.result``; the caller decides how to show them.
    """
    with no_collections_with_workers() as collector_off:
        return _build_site(root, config_file, site_dir, strict, post_checks, collector_off)


def _build_site(root: Path, config_file: Path | None, site_dir: Path | None, strict: bool,
                post_checks: tuple[PostCheck, ...], collector_off: bool) -> BuildReport:
    result = check_project(root)
    report = BuildReport(result)
    if result.failed(strict):
        return report
    config_file = config_file or root / "mkdocs.yml"
    if not config_file.is_file():
        raise BuildError(f"{config_file} does not exist")
    with _environment("SOURCE_DATE_EPOCH", epoch_of(build_date(result))):
        config = load_config(str(config_file), strict=True)
        final = site_dir.resolve() if site_dir else Path(config.site_dir)
        staging = final.parent / f".{final.name}.building-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        config.site_dir = str(staging)
        plugin = config.plugins.get("factsheet")
        if plugin is None:
            raise BuildError(f"{config_file} does not enable the 'factsheet' plugin")
        tree = render_checked(result, root / plugin.config.templates, config.site_name,
                              config.repo_url)
        plugin.prepared = tree
        # the plugin has the pages now, and lets go of them once converted; the checks
        # after the build need only where each page comes from
        tree = {path: Output("", output.origin) for path, output in tree.items()}
        plugin.scan_pages = bool(post_checks)
        collect = _Collect()
        logger = logging.getLogger("mkdocs")
        logger.addHandler(collect)
        try:
            with nullcontext() if collector_off else fewer_collections():
                mkdocs_build(config)
            for post_check in post_checks:
                report.problems += post_check(staging, tree, result, plugin.page_scans)
            plugin.page_scans = {}
            if any(p.severity == "error" for p in report.problems):
                raise BuildError("the built site fails its checks; the previous site is "
                                 "left as it was", report.problems)
        except MkDocsException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            # each warning located at the fact file of the page it concerns
            problems = mkdocs_problems(collect.messages, tree, result.records,
                                       _shown(config_file, root))
            raise BuildError(f"MkDocs failed: {exc}", problems) from exc
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        finally:
            logger.removeHandler(collect)
    _swap_into_place(staging, final)
    report.site_dir = final
    report.pages = sum(1 for path in tree if path.endswith(".md"))
    return report


def _shown(path: Path, root: Path) -> str:
    """A path as problems name it: relative to the project when inside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _swap_into_place(staging: Path, final: Path) -> None:
    """Replace ``final`` with ``staging`` so that readers never see half a site; the
    previous site is deleted afterwards, by a process nobody waits for."""
    if not final.exists():
        staging.rename(final)
        return
    # (unique: the last build's may still be being deleted)
    old = final.parent / f".{final.name}.old-{os.getpid()}-{time.monotonic_ns()}"
    final.rename(old)
    staging.rename(final)
    if not parallel.remove_detached(old):
        shutil.rmtree(old, ignore_errors=True)
