"""Golden graph-diff files: compare a pass's diff with tests/golden/NAME.txt, or rewrite it on request."""

from __future__ import annotations

from pathlib import Path

GOLDEN_DIRECTORY = Path(__file__).parent / "golden"


def assert_matches_golden(name: str, text: str, update: bool) -> None:
    path = GOLDEN_DIRECTORY / f"{name}.txt"
    if update:
        path.write_text(text)
        return
    assert path.is_file(), f"{path} is missing; run pytest --update-golden and review the new file"
    expected = path.read_text()
    assert text == expected, (
        f"graph diff for {name} changed; if intended, run pytest --update-golden and review:\n"
        f"--- expected\n{expected}--- got\n{text}"
    )
