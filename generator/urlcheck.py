"""`factsheet linkcheck --online`: is each source's article still where its record says?

Only with ``--online``: CI machines often have no internet, and a news site that is down
for an hour must not fail a pull request that changed a typo.  Every source's ``url``
and ``archive_url`` is requested with GET (many news sites answer HEAD wrongly), with:

- a timeout for connecting and for each read;
- retries with exponential backoff on connection errors and 500/502/503/504, through
  urllib3's ``Retry``, which also follows redirects;
- a bounded request rate: every request, retry and redirect waits its turn, so no
  server sees more than ``rate`` requests a second from one run.

A 401, 403 or 429 means the server refuses automated checks, not that the article is
gone: it is reported as *blocked*, a warning.  A URL that does not answer in time is a
warning too.  A dead URL (404, 410, any other refusal, no server) is an error, unless
the source records an archive copy that answers, which the message then gives.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

import urllib3
from urllib3.exceptions import (ConnectTimeoutError, MaxRetryError, NewConnectionError,
                                ReadTimeoutError, ResponseError)
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util.retry import Retry

from . import __version__
from .errors import Location, Problem
from .linkcheck import html_pages
from .model import Records, Source
from .views import page_path
from .yamlfile import parse_yaml

BLOCKED = frozenset({401, 403, 429})  # the server refuses robots; a browser may get through
RETRIED = frozenset({500, 502, 503, 504})
USER_AGENT = f"Mozilla/5.0 (compatible; factsheet-linkcheck/{__version__})"


@dataclass(frozen=True, slots=True)
class UrlStatus:
    """What became of one request: ok, dead, blocked or timeout, and why."""

    url: str
    state: str  # "ok", "dead", "blocked" or "timeout"
    detail: str  # "200 OK", "404 Not Found", "no answer within 10 s", ...


class Pace:
    """Lets requests start at most ``rate`` times a second, across all threads."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


class _PacedRetry(Retry):
    """urllib3's Retry, whose every retry and redirect also waits its turn at the pace."""

    def __init__(self, *args, pace: Pace | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.pace = pace

    def new(self, **kw) -> _PacedRetry:
        return super().new(pace=self.pace, **kw)

    def increment(self, *args, **kwargs) -> _PacedRetry:
        retry = super().increment(*args, **kwargs)  # raises MaxRetryError when spent
        if self.pace is not None:
            self.pace.wait()
        return retry


def _reason(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


class UrlChecker:
    """Requests URLs politely: timeouts, retries with backoff, a bounded request rate."""

    def __init__(self, timeout: float = 10.0, retries: int = 2, rate: float = 2.0,
                 backoff: float = 0.5, workers: int = 4):
        self.timeout, self.retries, self.workers = timeout, retries, workers
        self.pace = Pace(rate)
        self._retry = _PacedRetry(total=retries + 5, connect=retries, read=retries,
                                  status=retries, other=0, redirect=5,
                                  status_forcelist=RETRIED, backoff_factor=backoff,
                                  backoff_max=10.0, raise_on_status=False,
                                  raise_on_redirect=True, respect_retry_after_header=True,
                                  pace=self.pace)
        self._pool = urllib3.PoolManager(
            num_pools=16, headers={"User-Agent": USER_AGENT, "Accept": "text/html,*/*"},
            timeout=urllib3.Timeout(connect=timeout, read=timeout), retries=self._retry)

    def check(self, url: str) -> UrlStatus:
        """Request ``url`` once (with its retries) and say what became of it."""
        self.pace.wait()
        try:
            response = self._pool.request("GET", url, preload_content=False)
        except MaxRetryError as exc:
            return self._failed(url, exc.reason)
        except (Urllib3Timeout, ConnectTimeoutError, ReadTimeoutError) as exc:
            return self._failed(url, exc)
        except urllib3.exceptions.HTTPError as exc:
            return UrlStatus(url, "dead", f"the request failed: {exc}")
        status = response.status
        response.close()  # the headers say enough; the article itself is not needed
        if 200 <= status < 300:
            return UrlStatus(url, "ok", _reason(status))
        if status in BLOCKED:
            return UrlStatus(url, "blocked", _reason(status))
        tries = f" after {self.retries + 1} tries" if status in RETRIED and self.retries else ""
        return UrlStatus(url, "dead", _reason(status) + tries)

    def _failed(self, url: str, reason: BaseException | None) -> UrlStatus:
        tries = f" in {self.retries + 1} tries" if self.retries else ""
        # NewConnectionError (refused, no such host) subclasses ConnectTimeoutError
        if isinstance(reason, (Urllib3Timeout, ConnectTimeoutError, ReadTimeoutError)) \
                and not isinstance(reason, NewConnectionError):
            return UrlStatus(url, "timeout", f"no answer within {self.timeout:g} s{tries}")
        if isinstance(reason, ResponseError) and "redirect" in str(reason):
            return UrlStatus(url, "dead", "too many redirects")
        return UrlStatus(url, "dead", f"no connection{tries}: {_short(reason)}")

    def check_all(self, urls: list[str]) -> dict[str, UrlStatus]:
        """Check every URL, a few at a time within the request rate."""
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(urls)))) as pool:
            return dict(zip(urls, pool.map(self.check, urls)))


def _short(reason: BaseException | None) -> str:
    """The gist of a connection error, without urllib3's object reprs."""
    text = str(reason or "unknown error")
    return text.split("): ", 1)[1] if text.startswith("HTTP") and "): " in text else text


def _value_locations(root: Path, source: Source) -> dict[str, Location]:
    """Where ``url`` and ``archive_url`` stand in the source's file (else its first line)."""
    try:
        node = parse_yaml((root / source.loc.path).read_bytes(), source.loc.path, [])
    except OSError:
        node = None
    values = node.value if node is not None and isinstance(node.value, dict) else {}
    return {key: values[key].loc if key in values else source.loc
            for key in ("url", "archive_url")}


def check_source_urls(root: Path, records: Records,
                      checker: UrlChecker) -> tuple[list[Problem], int]:
    """Check each source's url and archive_url; return the problems and the URLs checked."""
    sources = sorted(records.sources.values(), key=lambda s: s.id)
    urls = sorted({u for s in sources for u in (s.url, s.archive_url) if u})
    statuses = checker.check_all(urls) if urls else {}
    problems: list[Problem] = []
    for source in sources:
        if not (source.url or source.archive_url):
            continue
        where = _value_locations(root, source)
        archive = statuses.get(source.archive_url) if source.archive_url else None
        if source.url:
            problems += _url_problems(source, statuses[source.url], archive, where["url"])
        if archive is not None and archive.state != "ok":
            problems += _archive_problems(source, archive, where["archive_url"])
    return sorted(problems, key=Problem.sort_key), len(urls)


def _page(source: Source) -> str:
    """The page of the site that shows a source's URLs."""
    return html_pages(page_path("sources", source.id))[0]


def _url_problems(source: Source, found: UrlStatus, archive: UrlStatus | None,
                  loc: Location) -> list[Problem]:
    what = f"{_page(source)}: url {found.url}"
    if found.state == "blocked":
        return [Problem(loc, "warning", "url-blocked",
                        f"{what} is blocked ({found.detail}): the server refuses automated "
                        "checks, which does not mean the article is gone",
                        "open it in a browser to confirm it still shows the article")]
    if found.state == "timeout":
        return [Problem(loc, "warning", "url-timeout", f"{what} gave {found.detail}",
                        "try again later, or with a longer --timeout")]
    if found.state != "dead":
        return []
    if archive is not None and archive.state == "ok":
        return [Problem(loc, "warning", "dead-url",
                        f"{what} is dead ({found.detail}); the source records an archive "
                        f"copy at {archive.url}, which answers ({archive.detail})",
                        "readers follow the archive copy; keep 'url' as the article's "
                        "original address")]
    if archive is not None:
        return [Problem(loc, "error", "dead-url",
                        f"{what} is dead ({found.detail}); its archive copy {archive.url} "
                        f"does not answer either ({archive.state}: {archive.detail})",
                        "find another archived copy and give it as 'archive_url'")]
    return [Problem(loc, "error", "dead-url",
                    f"{what} is dead ({found.detail}) and the source records no archive copy",
                    "look the address up in a web archive (Wayback Machine, archive.today) "
                    "and add it as 'archive_url'")]


def _archive_problems(source: Source, found: UrlStatus, loc: Location) -> list[Problem]:
    what = f"{_page(source)}: archive_url {found.url}"
    if found.state == "dead":
        return [Problem(loc, "error", "dead-url", f"{what} is dead ({found.detail})",
                        "find another archived copy of the article, or remove 'archive_url'")]
    code = "url-blocked" if found.state == "blocked" else "url-timeout"
    return [Problem(loc, "warning", code, f"{what} is {found.state} ({found.detail})",
                    "open it in a browser to confirm it shows the article")]
