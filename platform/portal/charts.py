"""Charts drawn on the server as inline SVG: nothing to fetch (a provincial intranet has no CDN), nothing to run,
readable by a screen reader through its title and description, with the same figures in a table beside it."""
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

ROW_HEIGHT, BAR_HEIGHT, LABEL_WIDTH, VALUE_WIDTH, WIDTH = 32, 20, 120, 90, 720


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str  # the value as the page writes it (`1,234 人`, `75.0%`)


def bar_chart(bars: list[Bar], *, title: str, description: str, chart_id: str) -> Markup:
    """Horizontal bars, longest = the largest value; every bar labelled with its name and value."""
    top = max((bar.value for bar in bars), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = ROW_HEIGHT * len(bars) + 8
    rows = []
    for index, bar in enumerate(bars):
        y = 4 + index * ROW_HEIGHT
        length = round(span * bar.value / top, 1)
        rows.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT - 5}" text-anchor="end" class="chart-label">'
            f'{escape(bar.label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" class="chart-bar"/>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + BAR_HEIGHT - 5}" class="chart-value">'
            f'{escape(bar.shown)}</text>')
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{chart_id}-title '
        f'{chart_id}-desc" preserveAspectRatio="xMinYMin meet"><title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>{"".join(rows)}</svg>')
