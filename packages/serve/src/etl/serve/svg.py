"""Inline SVG drawn on the server, so the pages work offline: a map of item footprints (a plain
lon/lat projection with a graticule, no tiles) and a bar chart of items per day."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from html import escape
from typing import Any

from etl.serve.catalog import Footprint

__all__ = ["day_chart", "footprint_map"]

_WIDTH = 720.0
_MAX_HEIGHT = 480.0
_MARK = 4.0
"""The size (pixels) of the square drawn for a point or a footprint smaller than that."""
_STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 45, 90)
Bbox = tuple[float, float, float, float]


def _positions(geometry: dict[str, Any]) -> Iterator[Any]:
    """The geometry's rings and lines (a point: a ring of one position)."""
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    if kind == "GeometryCollection":
        for part in geometry.get("geometries") or []:
            yield from _positions(part)
    elif kind == "Point":
        yield [coords]
    elif kind in ("MultiPoint", "LineString"):
        yield coords
    elif kind in ("MultiLineString", "Polygon"):
        yield from coords
    elif kind == "MultiPolygon":
        for polygon in coords:
            yield from polygon


def _bounds(footprints: Sequence[Footprint], fallback: Bbox | None) -> Bbox:
    xs = [p[0] for f in footprints for ring in _positions(f.geometry) for p in ring]
    ys = [p[1] for f in footprints for ring in _positions(f.geometry) for p in ring]
    west, south, east, north = (
        (min(xs), min(ys), max(xs), max(ys)) if xs else (fallback or (-180.0, -90.0, 180.0, 90.0))
    )
    pad = max(east - west, north - south, 0.01) * 0.08
    return (
        max(west - pad, -180.0),
        max(south - pad, -90.0),
        min(east + pad, 180.0),
        min(north + pad, 90.0),
    )


class _Projection:
    """lon/lat to SVG pixels, x scaled by the cosine of the middle latitude."""

    def __init__(self, bbox: Bbox) -> None:
        self.west, self.south, self.east, self.north = bbox
        aspect = math.cos(math.radians((self.south + self.north) / 2)) or 1e-6
        span_x = (self.east - self.west) * aspect or 1e-6
        span_y = (self.north - self.south) or 1e-6
        self.scale = min(_WIDTH / span_x, _MAX_HEIGHT / span_y)
        self.aspect = aspect
        self.width = span_x * self.scale
        self.height = span_y * self.scale

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.west) * self.aspect * self.scale, (self.north - lat) * self.scale


def _path(geometry: dict[str, Any], project: _Projection) -> str:
    """The geometry as path data; one smaller than :data:`_MARK` pixels (a point, or a footprint
    too small at this scale) as a square of that size around its centre, so it can be seen."""
    rings = [[project(p[0], p[1]) for p in ring] for ring in _positions(geometry)]
    xs = [x for ring in rings for x, _ in ring]
    ys = [y for ring in rings for _, y in ring]
    if not xs:
        return ""
    if max(xs) - min(xs) < _MARK and max(ys) - min(ys) < _MARK:
        x, y = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
        half = _MARK / 2
        return f"M{x - half:.1f},{y - half:.1f}h{_MARK:g}v{_MARK:g}h-{_MARK:g}Z"
    return "".join(
        "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in ring) + ("Z" if ring[0] == ring[-1] else "")
        for ring in rings
    )


def _step(span: float) -> float:
    return next((s for s in _STEPS if span / s <= 8), 90.0)


def _graticule(project: _Projection) -> list[str]:
    lines = []
    step = _step(max(project.east - project.west, project.north - project.south))
    lon = math.ceil(project.west / step) * step
    while lon <= project.east:
        x, _ = project(lon, 0)
        lines.append(
            f'<line class="graticule" x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{project.height:.1f}"/>'
            f'<text class="axis" x="{x + 2:.1f}" y="{project.height - 3:.1f}">{lon:g}°</text>'
        )
        lon += step
    lat = math.ceil(project.south / step) * step
    while lat <= project.north:
        _, y = project(0, lat)
        lines.append(
            f'<line class="graticule" x1="0" y1="{y:.1f}" x2="{project.width:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="2" y="{y - 2:.1f}">{lat:g}°</text>'
        )
        lat += step
    return lines


def footprint_map(footprints: Sequence[Footprint], extent: Bbox | None) -> str:
    """An SVG map: graticule, the collection's extent (dashed) and one ``path`` per item."""
    project = _Projection(_bounds(footprints, extent))
    shapes = [
        f'<path class="footprint" data-item="{escape(f.item)}" d="{_path(f.geometry, project)}">'
        f"<title>{escape(f.item)}</title></path>"
        for f in footprints
    ]
    box = ""
    if extent is not None:
        x0, y0 = project(extent[0], extent[3])
        x1, y1 = project(extent[2], extent[1])
        box = (
            f'<rect class="extent" x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}"'
            f' height="{y1 - y0:.1f}"><title>extent</title></rect>'
        )
    return (
        f'<svg class="map" viewBox="0 0 {project.width:.0f} {project.height:.0f}"'
        f' width="{project.width:.0f}" height="{project.height:.0f}" role="img"'
        f' aria-label="item footprints">'
        f'<rect class="sea" width="100%" height="100%"/>{"".join(_graticule(project))}'
        f"{box}{''.join(shapes)}</svg>"
    )


def day_chart(per_day: Sequence[tuple[str, int]]) -> str:
    """An SVG bar chart: one bar per day (a ``<title>`` says the day and the count)."""
    if not per_day:
        return '<p class="muted">no items</p>'
    height, top, margin = 120.0, max(count for _, count in per_day), 16.0
    bar = max(min(_WIDTH / len(per_day), 40.0), 1.0)
    bars = []
    for i, (day, count) in enumerate(per_day):
        h = height * count / top
        bars.append(
            f'<rect class="bar" x="{i * bar:.1f}" y="{margin + height - h:.1f}"'
            f' width="{max(bar - 1, 0.5):.1f}" height="{h:.1f}">'
            f"<title>{escape(day)}: {count}</title></rect>"
        )
    width = max(bar * len(per_day), 320.0)
    bottom = margin + height + 14
    labels = (
        f'<text class="axis" x="0" y="{bottom:.0f}">{escape(per_day[0][0])}</text>'
        f'<text class="axis" x="{width:.1f}" y="{bottom:.0f}" text-anchor="end">'
        f"{escape(per_day[-1][0])}</text>"
        f'<text class="axis" x="{width:.1f}" y="11" text-anchor="end">'
        f"{len(per_day)} days, at most {top} items a day</text>"
    )
    return (
        f'<svg class="chart" viewBox="0 0 {width:.0f} {bottom + 4:.0f}" width="{width:.0f}"'
        f' height="{bottom + 4:.0f}" role="img" aria-label="items per day">'
        f"{''.join(bars)}{labels}</svg>"
    )
