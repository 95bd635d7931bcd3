"""`GRPOConfig` on a command line: one `--dashed-name` option per field, and the config back from parsed args."""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Callable
from typing import Any

from runtime.grpo.config import GRPOConfig, option_name


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one `--dashed-name` option per `GRPOConfig` field, with its help, default and choices.

    Booleans get `--name` / `--no-name`; list fields take one or more values; optional scalars also accept `none`.
    Values are only type-converted here; `config_from_args` validates them.
    """
    field_types = typing.get_type_hints(GRPOConfig)
    for config_field in dataclasses.fields(GRPOConfig):
        option = {
            "dest": config_field.name,
            "default": _field_default(config_field),
            # argparse %-formats help texts
            "help": config_field.metadata["help"].replace("%", "%%"),
        }
        if "choices" in config_field.metadata:
            option["choices"] = config_field.metadata["choices"]
        option.update(_parsing_options(field_types[config_field.name]))
        parser.add_argument(option_name(config_field.name), **option)


def _field_default(config_field: dataclasses.Field) -> Any:
    if config_field.default_factory is not dataclasses.MISSING:
        return config_field.default_factory()
    return config_field.default


def _parsing_options(field_type: Any) -> dict[str, Any]:
    """argparse keywords that turn command-line strings into a value of `field_type`."""
    if field_type is bool:
        return {"action": argparse.BooleanOptionalAction}
    arguments = typing.get_args(field_type)
    if typing.get_origin(field_type) is list:
        return {"type": arguments[0], "nargs": "+"}
    if type(None) in arguments:
        (inner_type,) = (argument for argument in arguments if argument is not type(None))
        inner_options = _parsing_options(inner_type)
        if "nargs" in inner_options:  # an optional list keeps None by leaving the option out
            return inner_options
        return {**inner_options, "type": _none_or(inner_options["type"])}
    return {"type": field_type}


def _none_or(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert_or_none(text: str) -> Any:
        return None if text.lower() == "none" else convert(text)

    convert_or_none.__name__ = convert.__name__  # argparse names the type in its error messages
    return convert_or_none


def config_from_args(args: argparse.Namespace) -> GRPOConfig:
    """Build (and validate) a `GRPOConfig` from arguments added by `add_config_arguments`; other keys are ignored."""
    values = {
        config_field.name: getattr(args, config_field.name) for config_field in dataclasses.fields(GRPOConfig)
    }
    return GRPOConfig(**values)
