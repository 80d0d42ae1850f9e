"""Charts for printed reports: SVG drawn by matplotlib with the project's shipped CJK font.

No browser, no system font, no network: every glyph (Chinese labels, digits) is written into the SVG as a path
(``svg.fonttype = "path"``) taken from ``static/fonts/PortalSansSC-Regular.otf``, so WeasyPrint draws the chart
as vector shapes and the PDF needs no font for it. matplotlib is used through its object API (``Figure``, no
``pyplot``): no global state, safe in a worker thread.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils.translation import pgettext

FONT_FILE = "fonts/PortalSansSC-Regular.otf"
PALETTE = ("#b00000", "#9aa5b1", "#e3b04b", "#4a7aa8", "#6b9e5e", "#8c6bb1", "#d98c5f", "#5fa8a0")
_lock = threading.Lock()  # matplotlib's font cache and rc_context are process-wide


@lru_cache(maxsize=1)
def _font_family() -> str:
    """Register the shipped font with matplotlib once per process; its family name."""
    from matplotlib import font_manager

    path = str(Path(settings.BASE_DIR) / "static" / FONT_FILE)
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


def _style() -> dict:
    return {
        "svg.fonttype": "path", "svg.hashsalt": "veterans-portal", "font.family": [_font_family()],
        "font.size": 8, "axes.unicode_minus": False, "axes.spines.top": False, "axes.spines.right": False,
        "axes.edgecolor": "#888888", "xtick.color": "#444444", "ytick.color": "#444444",
    }


def _svg(figure, prefix: str) -> str:
    """The figure as an SVG element (no XML prolog), its ids prefixed: several charts share one HTML page."""
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight", pad_inches=0.05)
    text = out.getvalue()
    text = text[text.index("<svg"):]
    return re.sub(r'(id="|href="#|url\(#)', lambda m: f"{m.group(1)}{prefix}-", text)


def _short(value: float) -> str:
    if abs(value) >= 10000:
        return f"{value / 10000:.1f}万"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def bar_chart(*, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], title: str = "",
              unit: str = "", prefix: str = "c", width: float = 3.6, percent: bool = False) -> str:
    """Horizontal bars, one group per label, one bar per series (this month, last month…), values written at
    the bars' ends. Returns an ``<svg>`` element to place in HTML."""
    import numpy as np
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    labels = [str(label) for label in labels]
    count = max(1, len(series))
    height = min(9.5, 0.7 + max(1, len(labels)) * (0.12 + 0.12 * count))
    with _lock, rc_context(_style()):
        figure = Figure(figsize=(width, height), dpi=72)
        axes = figure.add_subplot()
        positions = np.arange(len(labels))
        bar = 0.8 / count
        top = max([float(v) for _name, values in series for v in values] + [0.0])
        for index, (name, values) in enumerate(series):
            offsets = positions - 0.4 + bar * (index + 0.5)
            drawn = axes.barh(offsets, [float(v) for v in values], height=bar * 0.92,
                              color=PALETTE[index % len(PALETTE)], label=str(name))
            for rect, value in zip(drawn, values, strict=True):
                text = f"{float(value):.1f}%" if percent else _short(float(value))
                axes.text(rect.get_width() + top * 0.01, rect.get_y() + rect.get_height() / 2, text,
                          va="center", ha="left", fontsize=6.5, color="#333333")
        axes.set_yticks(positions, labels)
        axes.invert_yaxis()  # the first label on top, as in the tables
        axes.set_xlim(0, top * 1.15 if top > 0 else 1)
        axes.tick_params(axis="y", length=0)
        axes.grid(axis="x", color="#e5e5e5", linewidth=0.5)
        axes.set_axisbelow(True)
        if title:
            axes.set_title(str(title), fontsize=9, loc="left")
        if unit:
            axes.set_xlabel(pgettext("monthly report", "Unit: %(unit)s") % {"unit": unit}, fontsize=7, loc="right")
        if count > 1:
            axes.legend(loc="lower right", fontsize=7, frameon=False)
        return _svg(figure, prefix)
