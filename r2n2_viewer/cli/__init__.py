"""The ``r2n2`` command line.

One module per sub-command (or pair of related ones), each with a ``register(sub)``
that adds its parser through :func:`common.add_command` and a ``run(args)`` that
does the work. Heavy imports (torch, Qt, PyVista) happen inside ``run`` only, so
``r2n2 --help`` and argument errors answer at once. A new sub-command is a new
module listed in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .common import CLIError, HelpFormatter

COMMANDS = ("view", "reconstruct", "render", "convert", "synth", "import-sh3d", "pack", "train",
            "train-segmenter", "eval")


def _version() -> str:
    from .. import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="r2n2", formatter_class=HelpFormatter,
        description="3D-R2N2 reconstruction, training and viewing. "
        "`r2n2 COMMAND --help` describes each command.",
    )
    parser.add_argument("--version", action="version", version=f"r2n2 {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name.replace('-', '_')}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit status: 0 on success; 2 with one line on stderr
    for a mistake or a failure; 130 when interrupted (Ctrl+C)."""
    prog = "r2n2"
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # --help, --version or a usage error, already printed
            return exc.code if isinstance(exc.code, int) else 2
        prog = f"r2n2 {args.command}"
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except (CLIError, OSError, ValueError) as exc:
        print(f"{prog}: error: {describe(exc)}", file=sys.stderr)
        return 2


def describe(exc: BaseException) -> str:
    """One line for an error: an OSError names its file and the reason, not an errno."""
    if isinstance(exc, OSError) and exc.strerror:
        where = exc.filename if exc.filename is not None else ""
        return f"{where}: {exc.strerror}" if where else exc.strerror
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def viewer_main() -> int:
    """The ``r2n2-viewer`` command: ``r2n2 view`` with the same arguments."""
    return main(["view", *sys.argv[1:]])
