"""Draw a training-loss curve with Pillow alone (no plotting library).

Axes, tick labels in Pillow's default font, a log-scale y axis when the loss spans more
than two decades, and dotted lines where the learning rate changed.  Returns an image;
writing it is the caller's business.

Example
-------
>>> image = render_loss_curve([10.0, 1.0, 0.1, 0.01], lr_changes=[2])
>>> image.size, image.mode
((640, 400), 'RGB')
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (255, 255, 255)
AXIS = (40, 40, 40)
GRID = (225, 225, 225)
CURVE = (31, 119, 180)
MARK = (200, 120, 40)

LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 40


def nice_ticks(lo: float, hi: float, most: int = 6) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten) covering [lo, hi].

    >>> nice_ticks(0, 10)
    [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    >>> nice_ticks(0, 3e-13)
    [0.0, 1e-13, 2e-13, 3e-13]
    """
    if hi <= lo:
        return [lo]
    if hi - lo < 1e-290:  # (a span of subnormal numbers: its fifth is 0 and its power of ten too; tick it scaled)
        scale = 2.0**1000
        return [t / scale for t in nice_ticks(lo * scale, hi * scale, most)]
    raw = (hi - lo) / max(1, most - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    # each tick a whole number of steps, to 12 significant digits (0.30000000000000004 is 0.3): rounded to 12 decimal
    # places instead, every tick of a curve below 5e-13 read 0
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return [float(f"{k * step:.12g}") + 0.0 for k in range(first, last + 1)]


def log_ticks(lo_exp: int, hi_exp: int, most: int = 8) -> list[int]:
    """Exponents of the decades to label: multiples of 1, 2, 3, 5, 10... decades covering [lo, hi].

    >>> log_ticks(-26, 3)
    [-30, -25, -20, -15, -10, -5, 0, 5]
    >>> log_ticks(-2, 1)
    [-2, -1, 0, 1]
    """
    span = max(1, hi_exp - lo_exp)
    step = next(s for s in (1, 2, 3, 5, 10, 20, 50, 100, 200, 500) if span / s <= most - 1 or s == 500)
    first = math.floor(lo_exp / step) * step
    last = math.ceil(hi_exp / step) * step
    return list(range(first, last + 1, step))


def _label(v: float) -> str:
    return f"{v:.4g}"


def render_loss_curve(
    losses: Sequence[float],
    *,
    lr_changes: Sequence[int] = (),
    title: str = "training loss (MSE) per epoch",
    size: tuple[int, int] = (640, 400),
    log: bool | None = None,
) -> Image.Image:
    """Plot ``losses[i]`` (epoch i + 1) as a line; ``lr_changes`` are epochs after which the lr changed.

    ``log`` forces the y scale; by default it is logarithmic when every loss is positive
    and they span more than a factor of 100.
    """
    values = [float(v) for v in losses]
    if not values or not all(math.isfinite(v) for v in values):
        raise ValueError("render_loss_curve: expected a non-empty list of finite losses")
    width, height = size
    image = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    x0, x1, y0, y1 = LEFT, width - RIGHT, TOP, height - BOTTOM

    positive = [v for v in values if v > 0]
    use_log = log if log is not None else (len(positive) == len(values) and max(values) > 100 * min(values))
    if use_log and positive:
        floor = min(positive)
        lo_exp, hi_exp = math.floor(math.log10(floor)), math.ceil(math.log10(max(positive)))
        if hi_exp == lo_exp:
            hi_exp += 1
        ys = [math.log10(max(v, floor)) for v in values]
        exps = log_ticks(lo_exp, hi_exp)
        lo, hi = float(exps[0]), float(exps[-1])
        ticks = [(float(e), f"1e{e}") for e in exps]
        scale_name = "log scale"
    else:
        use_log = False
        lo, hi = min(0.0, min(values)), max(values)
        if hi == lo:
            hi = lo + 1.0
        ys = values
        ticks = [(t, _label(t)) for t in nice_ticks(lo, hi)]
        lo, hi = min(lo, ticks[0][0]), max(hi, ticks[-1][0])
        scale_name = "linear scale"

    n = len(values)

    def px(epoch: float) -> float:
        return x0 + (x1 - x0) * ((epoch - 1) / (n - 1) if n > 1 else 0.5)

    def py(v: float) -> float:
        return y1 - (y1 - y0) * (v - lo) / (hi - lo)

    for value, text in ticks:
        y = py(value)
        draw.line([(x0, y), (x1, y)], fill=GRID)
        draw.line([(x0 - 4, y), (x0, y)], fill=AXIS)
        box = draw.textbbox((0, 0), text, font=font)
        draw.text((x0 - 6 - (box[2] - box[0]), y - (box[3] - box[1]) / 2 - box[1]), text, fill=AXIS, font=font)
    for epoch in sorted({1} | {int(t) for t in nice_ticks(1, n) if float(t).is_integer() and 1 <= t <= n}):
        x = px(epoch)
        draw.line([(x, y1), (x, y1 + 4)], fill=AXIS)
        text = str(epoch)
        box = draw.textbbox((0, 0), text, font=font)
        draw.text((x - (box[2] - box[0]) / 2, y1 + 6), text, fill=AXIS, font=font)
    for epoch in lr_changes:
        if 1 <= epoch < n:
            x = px(epoch + 0.5)
            for y in range(int(y0), int(y1), 6):
                draw.line([(x, y), (x, min(y + 2, y1))], fill=MARK)

    points = [(px(i + 1), py(v)) for i, v in enumerate(ys)]
    if len(points) == 1:
        x, y = points[0]
        draw.ellipse([(x - 3, y - 3), (x + 3, y + 3)], fill=CURVE)
    else:
        draw.line(points, fill=CURVE, width=2)
    draw.line([(x0, y0), (x0, y1), (x1, y1)], fill=AXIS)
    draw.text((x0, 8), f"{title} ({scale_name})", fill=AXIS, font=font)
    caption = "epoch" + ("   (dotted: learning rate changed)" if any(1 <= e < n for e in lr_changes) else "")
    box = draw.textbbox((0, 0), caption, font=font)
    draw.text(((x0 + x1 - (box[2] - box[0])) / 2, height - 16), caption, fill=AXIS, font=font)
    return image
