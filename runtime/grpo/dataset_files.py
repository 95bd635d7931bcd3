"""A prompt dataset from a file or a saved dataset directory, for `rewrite train --dataset` and Python callers.

JSON lines (.jsonl), JSON (.json: a list of records, or a record of columns), Parquet (.parquet) and CSV (.csv)
files are read with `datasets.load_dataset`; a directory written by `Dataset.save_to_disk` or
`DatasetDict.save_to_disk` with `datasets.load_from_disk`. The prompt column is renamed to "prompt", the name
the trainer reads (TRL's); every other column is kept and reaches the reward functions.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from runtime.grpo.errors import GRPODatasetError

if TYPE_CHECKING:
    import datasets

PROMPT_COLUMN = "prompt"
BUILDERS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}
_SAVED_DATASET_FILES = ("dataset_info.json", "dataset_dict.json")  # what save_to_disk writes, one per kind


def load_dataset_file(
    path: str | Path, split: str | None = None, prompt_column: str = PROMPT_COLUMN
) -> datasets.Dataset:
    """The rows of `path` with `prompt_column` renamed to "prompt".

    `split`: for a file, a split expression of `datasets` on its one split, "train" (e.g. "train[:100]"; None:
    all of it); for a saved `DatasetDict`, the name of a split (None: "train", or the only split). Raises
    `GRPODatasetError` for a missing path, an unknown extension, a file `datasets` cannot read, a missing split
    or column (listing those there are), or no rows.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise GRPODatasetError(f"dataset {path} does not exist: pass a .jsonl, .json, .parquet or .csv file, or a "
                               "directory written by save_to_disk.")
    dataset = _load_directory(path, split) if path.is_dir() else _load_file(path, split)
    if prompt_column not in dataset.column_names:
        raise GRPODatasetError(
            f"dataset {path} has no column {prompt_column!r}; its columns are {', '.join(dataset.column_names)}: "
            "pass the one that holds the prompts as --prompt-column (prompt_column=...)."
        )
    if prompt_column != PROMPT_COLUMN:
        if PROMPT_COLUMN in dataset.column_names:
            raise GRPODatasetError(
                f"dataset {path} has both a {prompt_column!r} and a {PROMPT_COLUMN!r} column: the prompts must be "
                f"in one column named {PROMPT_COLUMN!r}; drop or rename the other one."
            )
        dataset = dataset.rename_column(prompt_column, PROMPT_COLUMN)
    if len(dataset) == 0:
        raise GRPODatasetError(f"dataset {path}{_split_label(split)} has no rows.")
    return dataset


def _load_file(path: Path, split: str | None) -> datasets.Dataset:
    builder = BUILDERS.get(path.suffix.lower())
    if builder is None:
        raise GRPODatasetError(
            f"dataset {path}: unknown extension {path.suffix or '(none)'!r}; use one of "
            f"{', '.join(BUILDERS)}, or a directory written by save_to_disk."
        )
    if path.stat().st_size == 0:
        raise GRPODatasetError(f"dataset {path} is empty.")
    if split is not None and split.split("[")[0] != "train":
        raise GRPODatasetError(f"dataset {path} is one file, whose only split is 'train' (a slice such as "
                               f"'train[:100]' works), not {split!r}.")
    import datasets

    with _quiet_datasets():
        try:
            return datasets.load_dataset(builder, data_files=str(path.resolve()), split=split or "train")
        except ValueError as error:
            if "corresponds to no data" in str(error):  # what datasets says of a file or slice without rows
                raise GRPODatasetError(f"dataset {path}{_split_label(split)} has no rows.") from error
            raise GRPODatasetError(f"cannot read dataset {path} as {builder}: {_root_cause(error)}") from error
        except Exception as error:  # datasets wraps parser errors (pyarrow, pandas) in its own
            raise GRPODatasetError(f"cannot read dataset {path} as {builder}: {_root_cause(error)}") from error


def _load_directory(path: Path, split: str | None) -> datasets.Dataset:
    if not any((path / name).is_file() for name in _SAVED_DATASET_FILES):
        raise GRPODatasetError(
            f"dataset {path} is a directory but not one written by save_to_disk (it has no "
            f"{' or '.join(_SAVED_DATASET_FILES)}): pass a data file ({', '.join(BUILDERS)}) instead."
        )
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except Exception as error:  # a damaged or partial directory
        raise GRPODatasetError(f"cannot read the saved dataset {path}: {_root_cause(error)}") from error
    if isinstance(loaded, datasets.Dataset):
        if split is not None:
            raise GRPODatasetError(f"dataset {path} is a single Dataset without splits: leave out the split "
                                   f"(--dataset-split {split}).")
        return loaded
    splits = list(loaded)
    if split is None:
        if "train" in loaded:
            return loaded["train"]
        if len(splits) == 1:
            return loaded[splits[0]]
        raise GRPODatasetError(f"dataset {path} has the splits {', '.join(splits)}: choose one with --dataset-split "
                               "(split=...).")
    if split not in loaded:
        raise GRPODatasetError(f"dataset {path} has no split {split!r}; its splits are {', '.join(splits)}.")
    return loaded[split]


def _split_label(split: str | None) -> str:
    return "" if split is None else f" (split {split!r})"


def _root_cause(error: BaseException) -> str:
    """The message of the innermost exception behind `error` (datasets' own says only that generation failed)."""
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


@contextmanager
def _quiet_datasets():
    """No "Generating train split" bars, and no parser error logged by datasets (our error carries its message);
    the caller's settings are restored afterwards."""
    from datasets.utils import logging as datasets_logging

    bars_were_enabled = datasets_logging.is_progress_bar_enabled()
    verbosity = datasets_logging.get_verbosity()
    datasets_logging.disable_progress_bar()
    datasets_logging.set_verbosity(datasets_logging.CRITICAL)
    try:
        yield
    finally:
        datasets_logging.set_verbosity(verbosity)
        if bars_were_enabled:
            datasets_logging.enable_progress_bar()
