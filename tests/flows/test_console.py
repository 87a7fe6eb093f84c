"""CLI output is never wrapped when it is not a terminal: a long path or id stays on one line for scripts."""

import io

from rich.table import Table

from flows.console import cli_console


def test_paths_and_tables_stay_whole_in_a_pipe():
    console = cli_console()
    console.file = io.StringIO()  # what a pipe gets
    path = "/data/releases/" + "very-long-directory-name/" * 12 + "r4d-bench/1.0.0/media/clips/" + "ab" * 32 + ".webm"
    console.print(f"missing: {path}")
    table = Table()
    table.add_column("item")
    table.add_row("k" * 150)
    console.print(table)
    lines = console.file.getvalue().splitlines()
    assert f"missing: {path}" in lines and any("k" * 150 in line for line in lines)
