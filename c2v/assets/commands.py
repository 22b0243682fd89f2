"""``c2v assets search WORDS``: what an element name resolves to, and the bundled candidates."""

from __future__ import annotations

import json
from pathlib import Path

import click

from c2v.assets.models import AssetMiss, SourceChoice
from c2v.llm.settings import CONFIG_ENV

SOURCE_OPTION = click.option(
    "--assets-source",
    "--assets_source",
    "assets_source",
    type=click.Choice([c.value for c in SourceChoice]),
    default=SourceChoice.auto.value,
    show_default=True,
    help="Where icons come from: the bundled set, Iconify, IconFinder (needs a key), or all in order.",
)


@click.group("assets")
def assets_group() -> None:
    """Icons for the visual elements a storyboard names."""


@assets_group.command("search")
@click.argument("words", nargs=-1, required=True)
@SOURCE_OPTION
@click.option(
    "--limit", type=click.IntRange(1, 50), default=5, show_default=True, help="Bundled candidates shown."
)
@click.option(
    "--api-config",
    "--api_config",
    "api_config",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar=CONFIG_ENV,
    default=None,
    help="Code2Video's api_config.json, for iconfinder.api_key.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object: the answer and the candidates.")
def search(
    words: tuple[str, ...], assets_source: str, limit: int, api_config: Path | None, as_json: bool
) -> None:
    """Show what the element WORDS resolves to (fetching and caching it) and the ranked bundled matches."""
    from c2v.assets.resolver import AssetResolver  # noqa: PLC0415 - the HTTP client only when asked
    from c2v.assets.settings import resolve_asset_settings  # noqa: PLC0415
    from c2v.core.logs import configure_logging  # noqa: PLC0415

    configure_logging()

    element = " ".join(words)
    settings = resolve_asset_settings(assets_source, api_config)
    with AssetResolver(settings) as resolver:
        candidates = resolver.search(element, limit)
        answer = resolver.resolve(element)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "answer": answer.model_dump(mode="json"),
                    "candidates": [c.model_dump(mode="json") for c in candidates],
                },
                indent=2,
            )
        )
        return
    if isinstance(answer, AssetMiss):
        click.echo(f"{answer.element!r}: no asset ({answer.reason.value}): {answer.detail}")
    else:
        cached = ", from the cache" if answer.from_cache else ""
        raster = ", rasterised" if answer.rasterised else ""
        click.echo(f"{answer.element!r} -> {answer.icon_id} ({answer.source.value}{cached}{raster})")
        click.echo(f"  file:    {answer.path} ({answer.width}x{answer.height} {answer.format.value})")
        click.echo(f"  licence: {answer.license.title}; credit: {answer.attribution}")
    if candidates:
        click.echo("bundled candidates:")
        for c in candidates:
            click.echo(f"  {c.score:5.1f}  {c.icon_id}  ({', '.join(c.matched)})")


def register(cli: click.Group) -> None:
    """Add ``c2v assets ...`` to the command line group ``cli``."""
    cli.add_command(assets_group)
