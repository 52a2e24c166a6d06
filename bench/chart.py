"""The scale curve as a small chart, bench-results/scale-curve.png (the README shows a copy)."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "bench-results"


def scale_chart(
    jobs: list[tuple[int, float]], refresh: list[tuple[int, float]], quick: bool, db: str
) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display on a server or in CI
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2), dpi=100)
    for axis, points, colour, title, xlabel, ylabel in (
        (left, jobs, "tab:blue", "Jobs tab, page of 50", "projects", "ms (in-process median)"),
        (right, refresh, "tab:orange", "Refresh Cost Codes, empty project", "company codes", "ms"),
    ):
        sizes = [n for n, _ in points]
        axis.plot(sizes, [ms for _, ms in points], marker="o", color=colour)
        for n, ms in points:
            axis.annotate(f"{ms:,.0f} ms" if ms >= 100 else f"{ms:.1f} ms", (n, ms),
                          textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
        axis.set_xscale("log")
        axis.set_xticks(sizes, [f"{n:,}" for n in sizes])
        axis.minorticks_off()
        axis.set_ylim(bottom=0, top=max(ms for _, ms in points) * 1.25)
        axis.set_title(title, fontsize=10)
        axis.set_xlabel(xlabel)
        axis.set_ylabel(ylabel)
        axis.grid(alpha=0.3)
    size = "quick" if quick else "full"
    figure.suptitle(f"How cost grows with size (make bench, {size}, {db})", fontsize=10)
    figure.tight_layout()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "scale-curve.png"
    figure.savefig(path)
    plt.close(figure)
    return path
