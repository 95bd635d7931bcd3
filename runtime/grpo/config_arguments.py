"""`GRPOConfig` on a command line: one `--dashed-name` option per field, and the config back from parsed args.

Each option also answers to TRL's spelling, the field name with underscores (`--learning_rate`), hidden from
`--help`; a boolean's underscore spelling takes an optional value, as transformers' HfArgumentParser
(`--gradient_checkpointing false`), and has a `--no_<name>` form.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Callable
from typing import Any

from runtime.grpo.config import GRPOConfig
from runtime.grpo.config_checks import option_name, parse_json_object
from runtime.grpo.errors import GRPOConfigError


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one `--dashed-name` option per `GRPOConfig` field, with its help, default and choices, and its hidden
    `--underscore_name` alias.

    Booleans get `--name` / `--no-name`; list fields take one or more values; dict fields take JSON text; optional
    scalars and dicts also accept `none`. Values are only type-converted here; `config_from_args` validates them.
    """
    field_types = typing.get_type_hints(GRPOConfig)
    for config_field in dataclasses.fields(GRPOConfig):
        parsing = _parsing_options(field_types[config_field.name])
        if "choices" in config_field.metadata:
            parsing["choices"] = config_field.metadata["choices"]
        parser.add_argument(
            option_name(config_field.name),
            dest=config_field.name,
            default=_field_default(config_field),
            help=config_field.metadata["help"].replace("%", "%%"),  # argparse %-formats help texts
            **parsing,
        )
        if "_" in config_field.name:
            _add_underscore_aliases(parser, config_field.name, parsing)


def _add_underscore_aliases(parser: argparse.ArgumentParser, name: str, parsing: dict[str, Any]) -> None:
    """`--name_with_underscores` for the option of field `name`; it sets nothing unless given."""
    hidden = {"dest": name, "default": argparse.SUPPRESS, "help": argparse.SUPPRESS}
    if parsing.get("action") is argparse.BooleanOptionalAction:
        parser.add_argument(f"--{name}", nargs="?", const=True, type=_boolean, **hidden)
        parser.add_argument(f"--no_{name}", action="store_false", **hidden)
    else:
        parser.add_argument(f"--{name}", **parsing, **hidden)


def _field_default(config_field: dataclasses.Field) -> Any:
    if config_field.default_factory is not dataclasses.MISSING:
        return config_field.default_factory()
    return config_field.default


def _parsing_options(field_type: Any) -> dict[str, Any]:
    """argparse keywords that turn command-line strings into a value of `field_type`."""
    if field_type is bool:
        return {"action": argparse.BooleanOptionalAction}
    origin, arguments = typing.get_origin(field_type), typing.get_args(field_type)
    if origin is list:
        return {"type": arguments[0], "nargs": "+"}
    if origin is dict:
        return {"type": _json_object}
    if arguments:  # a union: X | None, or str | list[str]
        members = [argument for argument in arguments if argument is not type(None)]
        lists = [member for member in members if typing.get_origin(member) is list]
        if lists:  # one or more values; an optional list keeps None by leaving the option out
            return _parsing_options(lists[0])
        (inner_type,) = members
        inner_options = _parsing_options(inner_type)
        if "action" in inner_options:  # bool | None: --name, --no-name, or left out for None
            return inner_options
        return {**inner_options, "type": _none_or(inner_options["type"])}
    return {"type": field_type}


def _none_or(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert_or_none(text: str) -> Any:
        return None if text.lower() == "none" else convert(text)

    convert_or_none.__name__ = convert.__name__  # argparse names the type in its error messages
    return convert_or_none


def _json_object(text: str) -> dict[str, Any]:
    try:
        return parse_json_object(text, "the value")
    except GRPOConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def config_from_args(args: argparse.Namespace) -> GRPOConfig:
    """Build (and validate) a `GRPOConfig` from arguments added by `add_config_arguments`; other keys are ignored."""
    values = {
        config_field.name: getattr(args, config_field.name) for config_field in dataclasses.fields(GRPOConfig)
    }
    return GRPOConfig(**values)
