"""SVG checks on the host, before an icon reaches a cache, a render work dir or a sandbox.

An SVG is XML from a stranger (an icon service, a cache someone else filled). It is parsed
with :mod:`defusedxml`, which refuses any DTD, so entity expansion ("billion laughs") and
external entities never happen. Then:

- refused (:class:`c2v.errors.UnsafeAssetError`): not XML, not an ``<svg>`` root, a DTD or
  entity, more than :data:`MAX_BYTES` bytes or :data:`MAX_ELEMENTS` elements, or a size
  (``width``/``height``/``viewBox``) missing, not a number, or above :data:`MAX_SIDE`;
- neutralised (removed, listed in :attr:`CleanSvg.removed`): ``<script>``, ``<foreignObject>``,
  ``<iframe>``/``<embed>``/``<object>``, elements of other namespaces, ``on*`` event handlers,
  any ``href`` that does not point inside the document (``#id``), ``<image>`` with anything but
  an inline PNG/JPEG, and ``url(...)``/``@import`` that point outside the document.

:attr:`CleanSvg.raster` says whether Manim's ``SVGMobject`` can draw the result faithfully: it
ignores gradients, filters, masks, patterns, clip paths, embedded images and text, so such
icons are rasterised on the host (:mod:`c2v.assets.raster`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # only to serialise; parsing is defusedxml's
from dataclasses import dataclass, field

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from c2v.errors import UnsafeAssetError

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
MAX_BYTES = 1_000_000
MAX_ELEMENTS = 20_000
MAX_SIDE = 4096.0  # px; an icon is drawn at a few hundred px at most

_REMOVED_TAGS = frozenset({"script", "foreignObject", "iframe", "embed", "object", "handler", "listener"})
_RASTER_TAGS = frozenset(
    {"linearGradient", "radialGradient", "filter", "mask", "pattern", "clipPath", "image", "text", "textPath"}
)
_RASTER_ATTRS = frozenset({"filter", "mask", "clip-path"})
_URL = re.compile(r"url\(\s*['\"]?([^'\")]*)['\"]?\s*\)", re.IGNORECASE)
_IMPORT = re.compile(r"@import[^;]*;?", re.IGNORECASE)
_INLINE_IMAGE = re.compile(r"^data:image/(png|jpeg);base64,[A-Za-z0-9+/=\s]+$")
_NUMBER = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(px)?\s*$", re.IGNORECASE)

ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)


@dataclass(frozen=True)
class CleanSvg:
    text: str  # serialised, with width/height in px
    width: float
    height: float
    raster: bool  # Manim cannot draw it faithfully: rasterise
    removed: list[str] = field(default_factory=list)  # what was neutralised, for the log


def sanitize_svg(data: bytes | str, origin: str = "svg") -> CleanSvg:
    """The SVG ``data`` made safe, or :class:`UnsafeAssetError` naming ``origin`` and the cause."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        raise UnsafeAssetError(f"{origin}: {len(raw)} bytes, more than {MAX_BYTES}")
    try:
        root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeAssetError(
            f"{origin}: refused ({type(exc).__name__}: DTDs and entities are not allowed)"
        ) from None
    except ET.ParseError as exc:
        raise UnsafeAssetError(f"{origin}: not well-formed XML ({exc})") from None
    if root.tag != f"{{{SVG_NS}}}svg":
        raise UnsafeAssetError(f"{origin}: the root element is {_local(root.tag)!r}, not an SVG <svg>")
    count = sum(1 for _ in root.iter())
    if count > MAX_ELEMENTS:
        raise UnsafeAssetError(f"{origin}: {count} elements, more than {MAX_ELEMENTS}")
    width, height = _size(root, origin)
    removed: list[str] = []
    _clean(root, removed)
    root.set("width", f"{width:g}")
    root.set("height", f"{height:g}")
    raster = any(_local(e.tag) in _RASTER_TAGS or _RASTER_ATTRS & set(e.attrib) for e in root.iter())
    raster = raster or any("url(#" in (e.get("style") or "") + (e.get("fill") or "") for e in root.iter())
    text = ET.tostring(root, encoding="unicode")
    return CleanSvg(text=text, width=width, height=height, raster=raster, removed=removed)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _length(value: str | None) -> float | None:
    if value is None:
        return None
    m = _NUMBER.match(value)
    return float(m.group(1)) if m else None


def _size(root: ET.Element, origin: str) -> tuple[float, float]:
    """Width and height in px: from the viewBox (Iconify writes ``1em``), else the attributes."""
    box = root.get("viewBox")
    if box is not None:
        parts = re.split(r"[\s,]+", box.strip())
        try:
            w, h = float(parts[2]), float(parts[3])
        except (IndexError, ValueError):
            raise UnsafeAssetError(f"{origin}: viewBox {box[:40]!r} is not four numbers") from None
    else:
        w_attr, h_attr = _length(root.get("width")), _length(root.get("height"))
        if w_attr is None or h_attr is None:
            raise UnsafeAssetError(f"{origin}: no viewBox and no width/height in px")
        w, h = w_attr, h_attr
    for side in (w, h, _length(root.get("width")) or 0.0, _length(root.get("height")) or 0.0):
        if not side < MAX_SIDE:  # also true for NaN
            raise UnsafeAssetError(f"{origin}: size {side:g} px is larger than {MAX_SIDE:g}")
    if w <= 0 or h <= 0:
        raise UnsafeAssetError(f"{origin}: size {w:g}x{h:g} is empty")
    return w, h


def _clean(parent: ET.Element, removed: list[str]) -> None:
    for child in list(parent):
        name = _local(child.tag)
        if not isinstance(child.tag, str) or _namespace(child.tag) != SVG_NS or name in _REMOVED_TAGS:
            removed.append(f"<{name}>")
            parent.remove(child)
            continue
        if name == "image" and not _INLINE_IMAGE.match(_href(child) or ""):
            removed.append("<image> with an outside reference")
            parent.remove(child)
            continue
        if name == "style" and child.text:
            child.text = _outside_urls(_IMPORT.sub("", child.text), removed)
        _clean_attributes(child, removed)
        _clean(child, removed)
    if parent.tag == f"{{{SVG_NS}}}svg":
        _clean_attributes(parent, removed)


def _href(element: ET.Element) -> str | None:
    return element.get("href", element.get(f"{{{XLINK_NS}}}href"))


def _clean_attributes(element: ET.Element, removed: list[str]) -> None:
    for key in list(element.attrib):
        local, ns = _local(key), _namespace(key)
        value = element.attrib[key]
        if local.lower().startswith("on") or ns not in ("", XLINK_NS):
            removed.append(f"@{local}")
            del element.attrib[key]
        elif local == "href" and not value.startswith("#") and not _INLINE_IMAGE.match(value):
            removed.append(f"@href={value[:40]}")
            del element.attrib[key]
        elif "url(" in value.lower() or "@import" in value.lower():
            element.attrib[key] = _outside_urls(_IMPORT.sub("", value), removed)


def _outside_urls(text: str, removed: list[str]) -> str:
    def inside_only(m: re.Match[str]) -> str:
        if m.group(1).strip().startswith("#"):
            return m.group(0)
        removed.append(f"url({m.group(1)[:40]})")
        return "none"

    return _URL.sub(inside_only, text)
