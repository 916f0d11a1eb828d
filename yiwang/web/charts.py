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
