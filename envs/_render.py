"""A tiny numpy rasteriser for the classic-control tasks: no pygame, no display, a few shapes.

Every shape is painted by testing all pixel centres at once, which is plenty fast for frames of a few
thousand pixels (64x64 by default) and keeps the drawing code free of per-pixel Python loops.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Color = tuple[int, int, int]

BACKGROUND: Color = (255, 255, 255)


def check_frame_size(width: int, height: int) -> None:
    """Raise a ``ValueError`` unless ``width`` and ``height`` are positive integers."""
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer (pixels), got {value!r}")


class Canvas:
    """An RGB frame with a world-coordinate view; the world box is fitted into the frame without distortion.

    Args:
        width: frame width in pixels.
        height: frame height in pixels.
        xlim: ``(x_min, x_max)`` of the world region to show.
        ylim: ``(y_min, y_max)`` of the world region to show (y points up).
        background: RGB fill colour.
    """

    def __init__(
        self,
        width: int,
        height: int,
        xlim: tuple[float, float],
        ylim: tuple[float, float],
        background: Color = BACKGROUND,
    ) -> None:
        check_frame_size(width, height)
        self.image = np.empty((height, width, 3), dtype=np.uint8)
        self.image[:] = background
        # one scale for both axes so that circles stay round whatever the frame's aspect ratio
        scale = min(width / (xlim[1] - xlim[0]), height / (ylim[1] - ylim[0]))
        cx, cy = (xlim[0] + xlim[1]) / 2, (ylim[0] + ylim[1]) / 2
        xs = cx + (np.arange(width) + 0.5 - width / 2) / scale
        ys = cy - (np.arange(height) + 0.5 - height / 2) / scale  # row 0 is the top of the frame
        self.x, self.y = np.meshgrid(xs, ys)
        self.pixel = 1.0 / scale  # world length of one pixel; thinner shapes are widened to stay visible

    def paint(self, mask: np.ndarray, color: Color) -> None:
        """Colour the pixels where ``mask`` (shape ``(height, width)``) is true."""
        self.image[mask] = color

    def circle(self, center: Sequence[float], radius: float, color: Color) -> None:
        """A filled disc."""
        radius = max(radius, 0.5 * self.pixel)
        self.paint((self.x - center[0]) ** 2 + (self.y - center[1]) ** 2 <= radius**2, color)

    def ring(self, center: Sequence[float], radius: float, color: Color) -> None:
        """A circle outline one pixel wide."""
        dist = np.hypot(self.x - center[0], self.y - center[1])
        self.paint(np.abs(dist - radius) <= 0.5 * self.pixel, color)

    def segment(self, start: Sequence[float], end: Sequence[float], thickness: float, color: Color) -> None:
        """A thick line segment with round caps."""
        (x0, y0), (x1, y1) = start, end
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else np.clip(((self.x - x0) * dx + (self.y - y0) * dy) / length2, 0.0, 1.0)
        dist2 = (self.x - x0 - t * dx) ** 2 + (self.y - y0 - t * dy) ** 2
        self.paint(dist2 <= max(thickness / 2, 0.5 * self.pixel) ** 2, color)

    def rectangle(self, low: Sequence[float], high: Sequence[float], color: Color) -> None:
        """An axis-aligned filled rectangle from corner ``low`` to corner ``high``."""
        half = 0.5 * self.pixel  # so that a rectangle thinner than a pixel still shows
        mask = (self.x >= low[0] - half) & (self.x <= high[0] + half)
        self.paint(mask & (self.y >= low[1] - half) & (self.y <= high[1] + half), color)


def check_render_mode(render_mode: str | None, supported: Sequence[str]) -> None:
    """Raise a ``ValueError`` unless ``render_mode`` is ``None`` or one of ``supported``."""
    if render_mode is not None and render_mode not in supported:
        raise ValueError(f"render_mode must be None or one of {list(supported)}, got {render_mode!r}")
