"""The timeline picture: an SVG drawn at build time, one row per incident.

Rows keep clustered events readable (most of the record falls within a few weeks);
the horizontal position still shows how far apart they are.  Colours come from CSS
classes, so the picture follows the site's light and dark schemes.
"""

from __future__ import annotations

from datetime import date, timedelta
from html import escape

from .model import Incident
from .views import Index

ROW, TOP, LEFT, AXIS = 26, 34, 30, 250
LABEL = 62  # characters of a title shown beside its bar; the tooltip has all of it
CHAR = 6.6  # average width of a 12px label character, to size the picture


def _months(start: date, end: date) -> list[date]:
    ticks, current = [], date(start.year, start.month, 1)
    while current <= end:
        ticks.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return ticks


def svg(chronology: list[Incident], index: Index) -> str:
    """An SVG timeline of the incidents, oldest at the top; empty text when there are none."""
    if not chronology:
        return ""
    disputed = {incident.id for incident, _ in index.disputes}
    first = min(i.date.start for i in chronology) - timedelta(days=15)
    last = max(i.date.end for i in chronology) + timedelta(days=15)
    span = max((last - first).days, 1)

    def x(day: date) -> float:
        return round(LEFT + (day - first).days / span * AXIS, 1)

    height = TOP + ROW * len(chronology) + 10
    labels = [i.title if len(i.title) <= LABEL else i.title[:LABEL - 1].rstrip() + "…"
              for i in chronology]
    width = LEFT + AXIS + 12 + max(len(label) for label in labels) * CHAR
    parts = [f'<svg class="fs-timeline" role="img" viewBox="0 0 {width:.0f} {height}" '
             f'width="{width:.0f}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
             "<title>Timeline of the recorded incidents</title>"]
    ticks = _months(first, last)
    if len(ticks) > 24:  # years apart: label January of each year only
        ticks = [t for t in ticks if t.month == 1] or ticks[:1]
    step = max(1, -(-len(ticks) // 5))  # at most five labels fit above the axis
    for tick in ticks[::step]:
        parts.append(f'<line class="fs-tick" x1="{x(tick)}" y1="{TOP - 14}" x2="{x(tick)}" '
                     f'y2="{height - 6}"/>')
        parts.append(f'<text class="fs-tick-label" text-anchor="middle" x="{x(tick)}" y="{TOP - 18}">'
                     f'{tick.strftime("%b %Y") if tick.month != 1 else tick.year}</text>')
    for row, (incident, text) in enumerate(zip(chronology, labels)):
        y = TOP + ROW * row + ROW / 2
        cls = "fs-event fs-disputed" if incident.id in disputed else "fs-event"
        x0, x1 = x(incident.date.start), x(incident.date.end + timedelta(days=1))
        tooltip = escape(f"{incident.date.human()}: {incident.title}")
        parts.append(f'<g class="{cls}"><title>{tooltip}</title>')
        parts.append(f'<rect x="{x0}" y="{y - 6}" width="{max(x1 - x0, 4)}" height="12" rx="3"/>')
        parts.append(f'<text x="{LEFT + AXIS + 12}" y="{y + 4}">{escape(text)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)
