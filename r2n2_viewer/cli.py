"""The `r2n2` command line: view, reconstruct, render, convert, synth, train, eval, bench.

Each sub-command lives in its own small function pair ``_add_<name>`` / ``_run_<name>``
so that the heavy logic stays in the modules it belongs to.
"""

from __future__ import annotations

import argparse
import sys


class CLIError(Exception):
    """A user mistake: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="r2n2", description="3D-R2N2 reconstruction, training and viewing."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


COMMANDS: list = []  # functions (subparsers) -> None, appended below


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("r2n2: interrupted", file=sys.stderr)
        return 130
    except (CLIError, OSError, ValueError) as exc:
        print(f"r2n2 {args.command}: error: {exc}", file=sys.stderr)
        return 2


def viewer_main() -> int:
    return main(["view", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
