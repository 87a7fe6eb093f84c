"""The rich console every `r4d` verb prints through: wrapped to the window for a person at a terminal, never
wrapped or cropped when the output goes to a file or a pipe, so paths and ids stay whole for scripts."""

from __future__ import annotations

from rich.console import Console

PIPE_WIDTH = 10_000  # wide enough for any path or table row; tables still size columns to their content


def cli_console() -> Console:
    console = Console(soft_wrap=True)
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    return console
