"""From a project folder to the rendered tree: check, then render (no MkDocs here).

Both adapters use this: the `factsheet build` command and the MkDocs plugin that
plain `mkdocs build` and `mkdocs serve` load.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from pathlib import Path

from .check import CheckResult
from .render import RenderMemo, SiteOptions, Tree, render_site

def build_date(result: CheckResult) -> date:
    """The date a build is stamped with: SOURCE_DATE_EPOCH, else the newest article's.

    Taking it from the input rather than the clock makes two builds of the same facts
    byte-identical.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc).date()
    dates = [s.published.value.end for s in result.records.sources.values()
             if s.published.value is not None]
    return max(dates, default=date(1970, 1, 1))


def epoch_of(day: date) -> str:
    """SOURCE_DATE_EPOCH for midnight UTC of ``day``, for tools that read the variable."""
    return str(int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()))


def render_checked(result: CheckResult, templates: Path, site_name: str,
                   repo_url: str | None = None, memo: RenderMemo | None = None) -> Tree:
    """Render a project whose check passed, stamped with its deterministic build date."""
    options = SiteOptions(site_name=site_name, build_date=build_date(result), repo_url=repo_url)
    return render_site(result, templates, options, memo)
