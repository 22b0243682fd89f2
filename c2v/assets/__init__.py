"""Visual assets: icons for the elements a storyboard names, resolved, checked, cached, credited.

The narrow interface is :meth:`AssetResolver.resolve` (element name in, :class:`ResolvedAsset`
or :class:`AssetMiss` out, never an exception), built from :func:`resolve_asset_settings`.
Sources in order: the local content-addressed cache, the bundled Fluent Emoji Flat subset
(offline), the Iconify API, IconFinder (with a key). :func:`attribution_markdown` writes the
credits of a published case.
"""

from c2v.assets.attribution import attribution_markdown
from c2v.assets.models import (
    AssetFormat,
    AssetMiss,
    AssetResult,
    AssetSource,
    Candidate,
    MissReason,
    ResolvedAsset,
    SourceChoice,
    normalise_element,
)
from c2v.assets.resolver import AssetResolver
from c2v.assets.settings import AssetSettings, resolve_asset_settings
from c2v.models import License

__all__ = [
    "AssetFormat",
    "AssetMiss",
    "AssetResolver",
    "AssetResult",
    "AssetSettings",
    "AssetSource",
    "Candidate",
    "License",
    "MissReason",
    "ResolvedAsset",
    "SourceChoice",
    "attribution_markdown",
    "normalise_element",
    "resolve_asset_settings",
]
