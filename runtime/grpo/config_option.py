"""One `GRPOConfig` field declared in one call: its default and its help text, and the values it accepts where it
has a list of them (what `config_arguments` gives argparse and `config_checks` checks)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any


def option(default: Any, help: str, *, choices: Sequence[str] | None = None) -> Any:
    """`dataclasses.field(default=default, metadata={"help": help})`, with `metadata["choices"] = choices` when given.

    `default` must be immutable (dataclasses refuses a list, dict or set default).
    """
    metadata = {"help": help} if choices is None else {"help": help, "choices": choices}
    return dataclasses.field(default=default, metadata=metadata)
