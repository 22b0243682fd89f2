"""The ``c2v`` command line: the group, its command families, and one line per failure.

Each family is a module with ``register(cli)`` that adds its commands to the group
(:mod:`c2v.app.generate`: generate, demo, render; :mod:`c2v.app.batch`: batch, status,
submit; :mod:`c2v.app.doctor`: doctor; :mod:`c2v.evaluation.commands`: eval, report;
:mod:`c2v.assets.commands`: assets; :mod:`c2v.service.commands`: serve, keys); a new family
is one more entry of ``FAMILIES``.
Usage errors exit with code 2, runtime errors with 1; either way the user sees one line,
never a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import click

from c2v.app import batch, doctor, generate
from c2v.assets.commands import register as register_assets
from c2v.errors import C2VError, one_line
from c2v.evaluation.commands import register as register_evaluation
from c2v.service.commands import register as register_service

#: Every command family; ``c2v --help`` lists their commands by name.
FAMILIES: list[Callable[[click.Group], None]] = [
    generate.register,
    doctor.register,
    batch.register,
    register_evaluation,
    register_assets,
    register_service,
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="c2v")
def cli() -> None:
    """Turn a knowledge point into an educational video with LLM-written Manim code."""


for add_family in FAMILIES:
    add_family(cli)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: map every failure to one line and an exit code."""
    try:
        cli.main(args=argv, prog_name="c2v", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("c2v: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except C2VError as exc:
        click.echo(f"c2v: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("c2v: interrupted; finished work is kept, run the same command to resume", err=True)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("C2V_DEBUG"):
            raise
        click.echo(
            f"c2v: internal error: {one_line(exc)}",
            err=True,
        )
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()
