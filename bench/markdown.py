"""The run's table as Markdown in the README's columns, to paste into its Performance section:
bench-results/<run>.md beside the run's JSON, and bench-results/latest.md."""

from __future__ import annotations

import os
import time
from pathlib import Path


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<=", "≤").replace(">=", "≥")


def write_markdown(bench, json_path: Path) -> Path:
    command = "make bench" + (" QUICK=1" if bench.quick else "")
    if bench.db != "sqlite":
        command += f' BENCH_ARGS="--db {bench.db}"'
    lines = [
        f"`{command}`, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, {bench.db}:",
        "",
        "| figure | ours | floor | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in bench.rows:
        floor = f"{_number(row.floor)} {row.unit}" if row.floor is not None else "–"
        ratio = f"{row.ratio:.2f}×" if row.ratio is not None else "–"
        met = {True: "met", False: "**missed**", None: "–"}[row.ok]
        figure = row.figure + (f" ({row.note})" if row.note else "")
        lines.append(
            f"| {_cell(figure)} | {_number(row.ours)} {row.unit} | {floor} | {ratio} | "
            f"{_cell(row.target)} | {met} |"
        )
    text = "\n".join(lines) + "\n"
    path = json_path.with_suffix(".md")
    path.write_text(text)
    (json_path.parent / "latest.md").write_text(text)
    return path
