"""Rasterise a sanitised SVG to PNG on the host with cairosvg, for what Manim cannot draw.

cairosvg runs with ``unsafe=False``: it resolves no XML entity and fetches no URL except
inline ``data:`` ones, a second wall behind :mod:`c2v.assets.svgsafe`.
"""

from __future__ import annotations

from c2v.assets.svgsafe import CleanSvg
from c2v.errors import UnsafeAssetError

#: Longest side of a rasterised icon in px: sharp at tier k where an icon covers ~1/6 of the frame.
RASTER_SIDE = 512


def rasterise(svg: CleanSvg, side: int = RASTER_SIDE) -> tuple[bytes, int, int]:
    """PNG bytes and their pixel size, the longer side ``side`` px."""
    import cairosvg  # noqa: PLC0415 - loads libcairo; only the few icons with gradients need it

    scale = side / max(svg.width, svg.height)
    width, height = max(1, round(svg.width * scale)), max(1, round(svg.height * scale))
    try:
        png = cairosvg.svg2png(
            bytestring=svg.text.encode("utf-8"), output_width=width, output_height=height, unsafe=False
        )
    except Exception as exc:  # cairosvg raises bare ValueError/KeyError etc. on odd input
        raise UnsafeAssetError(f"cannot rasterise the SVG: {type(exc).__name__}: {exc}") from None
    if not isinstance(png, bytes) or not png.startswith(b"\x89PNG"):
        raise UnsafeAssetError("cannot rasterise the SVG: cairosvg returned no PNG")
    return png, width, height
