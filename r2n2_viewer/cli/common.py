"""What every sub-command shares: the error type, the help layout, validating argument
types and the ``--weights/--device/--threshold`` options.

Nothing here imports torch: ``r2n2 --help`` and argument errors stay fast.
"""

from __future__ import annotations

import argparse
import re
import textwrap
from collections.abc import Callable
from typing import Any

DEFAULT_THRESHOLD = 0.4


class CLIError(Exception):
    """A user mistake: printed as one line, exit status 2."""


class HelpFormatter(argparse.HelpFormatter):
    """Descriptions wrapped paragraph by paragraph; every option with a meaningful
    default shows it."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n\n".join(
            textwrap.fill(" ".join(par.split()), width, initial_indent=indent,
                          subsequent_indent=indent)
            for par in text.split("\n\n")
        )

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            "%(default)" in text
            or "default:" in text
            or action.default in (None, False, argparse.SUPPRESS)
            or not action.option_strings
            or action.required
        ):
            return text
        return f"{text} (default: %(default)s)" if text else "(default: %(default)s)"


def add_command(
    sub: Any, name: str, help: str, description: str,
    run: Callable[[argparse.Namespace], int], parents: tuple[argparse.ArgumentParser, ...] = (),
) -> argparse.ArgumentParser:
    """A sub-command parser with the shared help layout; ``run(args)`` carries it out."""
    p = sub.add_parser(name, help=help, description=description, parents=list(parents),
                       formatter_class=HelpFormatter)
    p.set_defaults(func=run)
    return p


# --- argument types (argparse turns their ValueError/ArgumentTypeError into one usage line)
def threshold(text: str) -> float:
    """A probability strictly between 0 and 1: the occupancy threshold."""
    from ..geometry import check_threshold

    try:
        return check_threshold(float(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


def device(text: str) -> str:
    """``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` (availability is checked later)."""
    if not _DEVICE.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"unknown device {text!r}; use auto, cpu, cuda, cuda:N or mps")
    return text


# --- shared option groups ------------------------------------------------------------
def model_options(threshold_option: bool = True) -> argparse.ArgumentParser:
    """Parent parser: ``--weights``, ``--device`` and (optionally) ``--threshold``."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("model")
    g.add_argument("--weights", default="default", metavar="W",
                   help="checkpoint (.safetensors), official .npy, or 'default' "
                   "(the bundled model)")
    g.add_argument("--device", default="auto", type=device,
                   help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps")
    if threshold_option:
        g.add_argument("--threshold", default=DEFAULT_THRESHOLD, type=threshold, metavar="P",
                       help="P(occupied) at or above which a voxel is solid")
    return p
