"""Run Manim's own ``manim`` command line, printing errors as plain Python tracebacks.

Manim prints failures as rich-formatted, box-drawn tracebacks wrapped at the terminal
width; the repair loop needs the plain traceback (file, line, exception) to point the
Coder at the failing line. The layout recorder is installed before the scene is imported.
Everything else is Manim's CLI unchanged.
"""

import sys
import traceback

import c2v_record
from manim import error_console


def _print_plain_exception(*_args: object, **_kwargs: object) -> None:
    traceback.print_exc(file=sys.stderr)


error_console.print_exception = _print_plain_exception  # type: ignore[method-assign]

if __name__ == "__main__":
    # Before the scene module is imported: every Scene subclass is recorded for the lint.
    c2v_record.install()
    from manim.__main__ import main

    sys.exit(main())
