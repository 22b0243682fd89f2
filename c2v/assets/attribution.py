"""``ATTRIBUTION.md`` for a published case: every asset it shows, with source and licence."""

from __future__ import annotations

from collections.abc import Iterable

from c2v.assets.models import ResolvedAsset
from c2v.errors import AssetError

#: The credits file of a case folder, published with it.
ATTRIBUTION_FILE = "ATTRIBUTION.md"


def _cell(text: str | None) -> str:
    return (text or "-").replace("|", "\\|").replace("\n", " ")


def attribution_markdown(assets: Iterable[ResolvedAsset], title: str | None = None) -> str:
    """Markdown text crediting each distinct asset once (by content hash), in a stable order.

    Raises :class:`AssetError` if an asset whose licence requires attribution has none: a
    :class:`ResolvedAsset` cannot be built that way, so this guards hand-made copies.
    """
    unique = {a.sha256: a for a in assets}
    lines = [f"# Attribution{f' — {title}' if title else ''}", ""]
    if not unique:
        lines.append("This video uses no third-party images.")
        return "\n".join(lines) + "\n"
    lines += [
        "This video shows the following icons. Each is used under the licence named here.",
        "",
        "| file | element | icon | source | author | licence | credit |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for asset in sorted(unique.values(), key=lambda a: (a.element, a.sha256)):
        if asset.license.requires_attribution and not asset.attribution.strip():
            raise AssetError(f"{asset.icon_id}: licence {asset.license.title} requires an attribution")
        lic = f"[{asset.license.title}]({asset.license.url})" if asset.license.url else asset.license.title
        cells = [asset.file_name, asset.element, asset.icon_id, asset.source.value, asset.author, lic]
        lines.append("| " + " | ".join(_cell(c) for c in [*cells, asset.attribution]) + " |")
    return "\n".join(lines) + "\n"
