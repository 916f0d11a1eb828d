"""ECharts options built on the server; `static/js/charts.js` draws every element that carries one.

Pages put the option in a ``data-chart`` attribute (JSON), so no inline script is needed under the CSP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Colours that stay distinguishable for the common colour-vision deficiencies (Okabe–Ito).
PALETTE = ["#0072B2", "#E69F00", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def stacked_bars(categories: Sequence[str], series: Mapping[str, Sequence[int]], y_name: str = "") -> dict[str, Any]:
    """One bar per category, stacked by series (e.g. audit entries per day by result)."""
    return {
        "color": PALETTE,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 48, "right": 16, "top": 36, "bottom": 32},
        "xAxis": {"type": "category", "data": list(categories)},
        "yAxis": {"type": "value", "name": y_name, "minInterval": 1},
        "series": [
            {"name": name, "type": "bar", "stack": "total", "data": list(values)} for name, values in series.items()
        ],
    }


def horizontal_bars(categories: Sequence[str], series: Mapping[str, Sequence[int]], x_name: str = "") -> dict[str, Any]:
    """One row per category, a bar per series side by side (e.g. calls and rows per grant)."""
    return {
        "color": PALETTE,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 200, "right": 24, "top": 36, "bottom": 32},
        "xAxis": {"type": "value", "name": x_name},
        "yAxis": {"type": "category", "data": list(categories), "inverse": True},
        "series": [{"name": name, "type": "bar", "data": list(values)} for name, values in series.items()],
    }


def lines(categories: Sequence[str], series: Mapping[str, Sequence[int]], y_name: str = "") -> dict[str, Any]:
    """A line per series over the categories (e.g. calls per day)."""
    return {
        "color": PALETTE,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 56, "right": 24, "top": 36, "bottom": 32},
        "xAxis": {"type": "category", "data": list(categories)},
        "yAxis": {"type": "value", "name": y_name, "minInterval": 1},
        "series": [{"name": name, "type": "line", "data": list(values)} for name, values in series.items()],
    }


def flow_graph(nodes: Mapping[str, int], edges: Sequence[tuple[str, str, int, str]]) -> dict[str, Any]:
    """Nodes on a circle sized by `nodes[name]`, arrows `(source, target, width, label)` between them."""
    widest = max((width for _source, _target, width, _label in edges), default=1) or 1
    biggest = max(nodes.values(), default=1) or 1
    return {
        "color": PALETTE,
        "tooltip": {},
        "series": [
            {
                "type": "graph",
                "layout": "circular",
                "circular": {"rotateLabel": True},
                "roam": True,
                "label": {"show": True, "position": "right"},
                "edgeSymbol": ["none", "arrow"],
                "edgeSymbolSize": 8,
                "lineStyle": {"color": "source", "curveness": 0.2, "opacity": 0.7},
                "data": [
                    {"name": name, "value": size, "symbolSize": 12 + 28 * size / biggest}
                    for name, size in nodes.items()
                ],
                "links": [
                    {
                        "source": source,
                        "target": target,
                        "value": label,
                        "lineStyle": {"width": 1 + 7 * width / widest},
                    }
                    for source, target, width, label in edges
                ],
            }
        ],
    }
