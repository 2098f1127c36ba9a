"""Flag defaults read from SHELFSIGHT_* environment variables, checked like the flags themselves.

argparse checks a flag's value with its `type`, but not a default computed before parsing: a bare
`int(os.environ[...])` stops a training run with a Python traceback. Here a bad value stops it with
one line naming the variable, its value and what is wrong with it. No torch import, so the checks
can be tested on a machine without PyTorch.
"""

from __future__ import annotations

import argparse
import os
from typing import Callable, TypeVar

T = TypeVar("T")


def whole(minimum: int) -> Callable[[str], int]:
    """A parser (also usable as an argparse `type`) for whole numbers >= minimum."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is less than {minimum}, the least it may be")
        return value

    return parse


def one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    """A parser for one of `choices` (for a variable whose flag has argparse `choices`)."""

    def parse(text: str) -> str:
        if text not in choices:
            raise argparse.ArgumentTypeError(f"must be one of {', '.join(choices)}")
        return text

    return parse


def env_default(ap: argparse.ArgumentParser, name: str, default: T, parse: Callable[[str], T]) -> T:
    """The value of environment variable `name` parsed with `parse`, or `default` when it is unset or
    empty; a value `parse` rejects ends the program with exit status 2 and one line on stderr, as
    argparse does for a bad flag (without the usage text: the command line was not at fault)."""
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        return parse(raw)
    except (ValueError, argparse.ArgumentTypeError) as e:
        ap.exit(2, f"{ap.prog}: error: environment variable {name}={raw!r}: {e}\n")
