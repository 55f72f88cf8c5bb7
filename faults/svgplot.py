"""Line plots as SVG, by hand (no matplotlib here): `write(path, title, x_label, series)`, where
series is [(label, [(x, y), …]), …]. For the soak's report (faults/soak)."""
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 50
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]


def nice_step(span, ticks=5):
    """A round step (1, 2 or 5 times a power of ten) giving about `ticks` ticks over `span`."""
    raw = span / ticks if span > 0 else 1
    power = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 10 ** -len(str(int(1 / raw)))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def write(path, title, x_label, series, marker=None):
    """`marker`: an x drawn as a dashed line (the warm-up's end)."""
    points = [p for _, values in series for p in values]
    if not points:
        return
    x_max = max(x for x, _ in points) or 1
    y_max = max(y for _, y in points) * 1.1 or 1
    y_step = nice_step(y_max)
    y_max = y_step * (int(y_max / y_step) + 1)
    x_step = nice_step(x_max)
    width, height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x):
        return LEFT + x / x_max * width

    def sy(y):
        return TOP + height - y / y_max * height

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>']
    y = 0.0
    while y <= y_max + 1e-9:
        out.append(f'<line x1="{LEFT}" x2="{LEFT + width}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{sy(y) + 4:.1f}" text-anchor="end">{y:g}</text>')
        y += y_step
    x = 0.0
    while x <= x_max + 1e-9:
        out.append(f'<text x="{sx(x):.1f}" y="{TOP + height + 18}" text-anchor="middle">{x:g}</text>')
        x += x_step
    out.append(f'<text x="{LEFT + width / 2}" y="{HEIGHT - 10}" text-anchor="middle">{escape(x_label)}</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{width}" height="{height}" fill="none" stroke="#888"/>')
    if marker is not None and 0 < marker < x_max:
        out.append(f'<line x1="{sx(marker):.1f}" x2="{sx(marker):.1f}" y1="{TOP}" y2="{TOP + height}" '
                   'stroke="#888" stroke-dasharray="4 4"/>')
    for index, (label, values) in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        line = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in values)
        out.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{LEFT + 10}" y="{TOP + 16 + 16 * index}" fill="{colour}">{escape(label)}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
