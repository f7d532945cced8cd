"""The read-only pages of ``etl serve``, rendered on the server as plain HTML (no CDN, no build):
the runs list, a run (steps on a timeline, failed assets, logs), the catalog and a collection
(map, items per day, where its runs stand). Every value is HTML-escaped here; nothing from the
profile but its name and runner is shown, and no secret ever is."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from etl.runner.workflow_status import WorkflowPhase
from etl.serve.catalog import CollectionView
from etl.serve.runs import RunDetail, RunRow, Step, seconds_between
from etl.serve.svg import day_chart, footprint_map

__all__ = ["Page", "catalog_page", "collection_page", "error_page", "run_page", "runs_page"]

_NONE = "-"
"""What a page shows for a value that is not there."""


class Page:
    """What every page shares: the profile's name and runner, and where the STAC API is."""

    def __init__(self, profile: str, runner: str, stac_url: str | None) -> None:
        self.profile = profile
        self.runner = runner
        self.stac_url = stac_url

    def render(self, title: str, body: str) -> str:
        """A whole HTML document around ``body``."""
        stac = f'<a href="{escape(self.stac_url)}">STAC API</a>' if self.stac_url else ""
        return (
            "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
            f"<title>{escape(title)} · etl</title>"
            '<meta name=viewport content="width=device-width, initial-scale=1">'
            '<link rel=stylesheet href="/static/etl.css"><script src="/static/etl.js" defer></script>'
            "</head><body><header><strong>etl</strong>"
            '<nav><a href="/runs">Runs</a><a href="/collections">Catalog</a>'
            f"{stac}</nav><span class=muted>profile {escape(self.profile)} · runner "
            f"{escape(self.runner)} · read-only</span></header>"
            f"<main><h1>{escape(title)}</h1>{body}</main></body></html>"
        )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return _NONE
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return (
        f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
    )


def _phase(phase: str) -> str:
    return f'<span class="phase {escape(phase.lower())}">{escape(phase)}</span>'


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _text(value: object) -> str:
    return _NONE if value is None or value == "" else escape(str(value))


def _run_link(name: str) -> str:
    return f'<a href="/runs/{quote(name)}">{escape(name)}</a>'


def _select(name: str, label: str, choices: Iterable[str], chosen: str | None) -> str:
    options = [f'<option value="">any {escape(label)}</option>']
    options += [
        f"<option{' selected' if c == chosen else ''}>{escape(c)}</option>" for c in choices
    ]
    return f'<label>{escape(label)} <select name="{name}">{"".join(options)}</select></label>'


def runs_page(
    page: Page,
    rows: Sequence[RunRow],
    datasets: Sequence[str],
    phase: str | None,
    dataset: str | None,
) -> str:
    """The runs, newest first, with filters by status and dataset."""
    form = (
        '<form class="filters" method="get" action="/runs">'
        f"{_select('status', 'status', [p.value for p in WorkflowPhase], phase)}"
        f"{_select('dataset', 'dataset', datasets, dataset)}"
        "<button>Filter</button></form>"
    )
    table = _table(
        ("run", "dataset", "status", "started", "finished", "duration", "progress", ""),
        (
            (
                _run_link(r.status.name),
                _text(r.dataset),
                _phase(r.status.phase.value),
                _text(r.status.started_at),
                _text(r.status.finished_at),
                _duration(seconds_between(r.status.started_at, r.status.finished_at)),
                _text(r.status.progress),
                f'<a href="{escape(r.argo_url)}">Argo UI</a>' if r.argo_url else "",
            )
            for r in rows
        ),
        "runs",
    )
    empty = "" if rows else '<p class="muted">no runs</p>'
    return page.render("Runs", form + table + empty)


def _timeline(steps: Sequence[Step], start: str | None, end: str | None) -> str:
    if not steps:
        return '<p class="muted">no steps recorded</p>'
    begin = start or min((s.started_at for s in steps if s.started_at), default=None)
    finish = end or max((s.finished_at for s in steps if s.finished_at), default=begin)
    total = seconds_between(begin, finish) or 0.0
    rows = []
    for step in steps:
        offset = seconds_between(begin, step.started_at) or 0.0
        length = (
            step.seconds if step.seconds is not None else seconds_between(step.started_at, finish)
        )
        left = 100 * offset / total if total else 0.0
        width = max(100 * (length or 0.0) / total if total else 100.0, 0.5)
        rows.append(
            f'<div class="step"><span class="label" title="{escape(step.template)}">'
            f"{escape(step.name)}</span>"
            f'<span class="track"><span class="bar {escape(step.phase.lower())}"'
            f' style="left:{left:.2f}%;width:{min(width, 100 - left):.2f}%"'
            f' title="{escape(step.phase)} {escape(step.message)}"></span></span>'
            f'<span class="dur">{_duration(step.seconds)}</span></div>'
        )
    return f'<div class="timeline">{"".join(rows)}</div>'


def run_page(page: Page, run: RunDetail) -> str:
    """A run: its status, steps on a timeline, per-collection counts, failed assets and logs."""
    status = run.row.status
    summary = {
        "status": _phase(status.phase.value),
        "dataset": _text(run.row.dataset),
        "started": _text(status.started_at),
        "finished": _text(status.finished_at),
        "duration": _duration(seconds_between(status.started_at, status.finished_at)),
        "progress": _text(status.progress),
        "message": _text(status.message),
    }
    if run.row.argo_url:
        summary["Argo UI"] = f'<a href="{escape(run.row.argo_url)}">{escape(run.row.argo_url)}</a>'
    parts = ['<dl class="summary">']
    parts += [f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in summary.items()]
    parts.append("</dl><h2>Steps</h2>")
    parts.append(_timeline(run.steps, status.started_at, status.finished_at))
    failed_steps = [str(n) for n in status.failed_nodes]
    if failed_steps:
        parts.append("<h2>Failed steps</h2><ul class=failures>")
        parts += [f"<li>{escape(line)}</li>" for line in failed_steps]
        parts.append("</ul>")
    parts.append("<h2>Assets</h2>")
    if run.report_error:
        parts.append(f'<p class="warning">{escape(run.report_error)}</p>')
    if run.report is not None:
        parts.append("<ul>")
        parts += [f"<li>{escape(line)}</li>" for c in run.report.collections for line in c.lines()]
        parts.append("</ul>")
        parts.append(f'<h2 id="failed-assets">Failed assets ({run.report.failed})</h2>')
        parts.append(
            _table(
                ("collection", "chunk", "asset", "reason"),
                (
                    (_text(e.collection), str(e.chunk), _text(e.asset), _text(e.error))
                    for e in run.report.errors
                ),
                "failed-assets",
            )
        )
    parts.append(
        f"<h2>Logs</h2><p class=muted>the last {len(run.logs)} lines · "
        '<input id="log-filter" type="search" placeholder="filter lines"></p><pre class="logs">'
    )
    parts += [f"{escape(line.pod)}: {escape(line.content)}\n" for line in run.logs]
    parts.append("</pre>")
    return page.render(f"Run {status.name}", "".join(parts))


def _bbox(extent: Mapping[str, Any] | None) -> tuple[float, float, float, float] | None:
    boxes = ((extent or {}).get("spatial") or {}).get("bbox") or []
    if boxes and len(boxes[0]) >= 4:
        west, south, east, north = (float(v) for v in boxes[0][:4])
        return west, south, east, north
    return None


def _interval(extent: Mapping[str, Any] | None) -> str:
    intervals = ((extent or {}).get("temporal") or {}).get("interval") or []
    if not intervals:
        return _NONE
    start, end = [*intervals[0], None, None][:2]
    return f"{_text(start)} to {_text(end)}"


def catalog_page(page: Page, views: Sequence[CollectionView]) -> str:
    """Every collection: items, spatial and temporal extent."""
    table = _table(
        ("collection", "title", "items", "bbox", "time"),
        (
            (
                f'<a href="/collections/{quote(v.state.collection)}">'
                f"{escape(v.state.collection)}</a>",
                _text(v.title),
                f"{v.state.items:,}",
                _text(", ".join(f"{c:g}" for c in box) if (box := _bbox(v.state.extent)) else None),
                _interval(v.state.extent),
            )
            for v in views
        ),
        "collections",
    )
    empty = "" if views else '<p class="muted">PgSTAC holds no collection</p>'
    return page.render("Catalog", table + empty)


def _status_part(entry: Mapping[str, Any]) -> str:
    success = entry.get("last_success")
    runs = entry.get("runs_in_progress") or []
    rows = {
        "last success": f"{_run_link(success['run_id'])} (started {escape(success['started_at'])})"
        if success
        else _NONE,
        "next --since last-success": _text(success["started_at"] if success else None),
        "outstanding failures": str(entry.get("outstanding_failures", 0)),
        "runs in progress": ", ".join(_run_link(r["name"]) for r in runs) or _NONE,
    }
    parts = ['<h2>Runs</h2><dl class="summary">']
    parts += [f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in rows.items()]
    parts.append("</dl>")
    failures = entry.get("failed_assets") or []
    if failures:
        parts.append(
            _table(
                ("asset", "reason", "run"),
                ((_text(f["asset"]), _text(f["error"]), _run_link(f["run_id"])) for f in failures),
                "outstanding",
            )
        )
    return "".join(parts)


def collection_page(
    page: Page, view: CollectionView, status: Mapping[str, Any] | None, stac_items: str | None
) -> str:
    """A collection: counts, extent, the map of its items' footprints, items per day, and (when
    its dataset was given to ``etl serve``) its last success and outstanding failures."""
    state = view.state
    box = _bbox(state.extent)
    shown = len(view.footprints)
    rows = {
        "items": f'<span id="item-count">{state.items:,}</span>',
        "title": _text(view.title),
        "bbox": _text(", ".join(f"{c:g}" for c in box) if box else None),
        "time": _interval(state.extent),
    }
    if stac_items:
        rows["STAC API"] = f'<a href="{escape(stac_items)}">{escape(stac_items)}</a>'
    parts = ['<dl class="summary">']
    parts += [f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in rows.items()]
    parts.append("</dl><h2>Footprints</h2>")
    if shown < state.items:
        parts.append(f'<p class="muted">the newest {shown:,} of {state.items:,} items</p>')
    parts.append(footprint_map(view.footprints, box))
    parts.append("<h2>Items per day</h2>" + day_chart(view.per_day))
    if status is not None:
        parts.append(_status_part(status))
    else:
        parts.append(
            '<p class="muted">start <code>etl serve -d DATASET</code> to see this collection\'s'
            " last success and outstanding failures</p>"
        )
    return page.render(f"Collection {state.collection}", "".join(parts))


def error_page(page: Page, title: str, message: str) -> str:
    """A page that says what could not be shown, and why."""
    return page.render(title, f'<p class="warning">{escape(message)}</p>')
