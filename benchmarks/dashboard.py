"""What the public dashboard shows, what it weighs, and how fast it first draws, on a built site.

    .venv/bin/python benchmarks/dashboard.py [--site var/site] [--rounds 5]

Shown share: of the measure cells with someone in them (not blank), how many are numbers rather
than `suppressed`, per mart, for the per-year and the pooled tables, statewide and breakdowns apart.
Page weight: every file of the site (page, scripts, styles, embedded data, downloadable CSVs).
First render: headless Chromium (Debian's, as the browser test uses) from navigation start until the
page marks itself ready (every chart of the opening views drawn); the median of `--rounds` loads.
Last line: `pooled_statewide_shown=<x> pooled_breakdowns_shown=<y> page_mb=<z> first_render_s=<t>`.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shown_shares(data: Path) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(mart, "pooled" | "yearly", "statewide" | "breakdowns") -> (shown, with someone in them)."""
    counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for path in sorted(data.glob("*.csv")):
        meta = json.loads(path.with_suffix(".json").read_text())
        columns = [c for kind in ("counts", "rates", "medians") for c in meta["measures"][kind]]
        kind = "pooled" if "__pooled__" in path.name else "yearly"
        scope = "statewide" if path.stem.endswith("__statewide") else "breakdowns"
        with path.open(newline="") as f:
            for row in csv.DictReader(f):
                for column in columns:
                    if row[column] == "":
                        continue
                    for mart in (meta["mart"], "all"):
                        counts[(mart, kind, scope)][0] += row[column] != "suppressed"
                        counts[(mart, kind, scope)][1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(counts.items())}


def first_render(index: Path, rounds: int) -> list[float]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1800"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    seconds = []
    try:
        for _ in range(rounds):
            started = time.perf_counter()
            driver.get(index.as_uri())
            WebDriverWait(driver, 60).until(
                lambda d: d.find_element("tag name", "body").get_attribute("data-ready")
            )
            seconds.append(time.perf_counter() - started)
    finally:
        driver.quit()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "var" / "site")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    site = args.site.resolve()
    shares = shown_shares(site / "data")
    for (mart, kind, scope), (shown, total) in shares.items():
        print(f"{mart:20} {kind:7} {scope:11} shown {shown:6,}/{total:6,} = {shown / total:6.1%}")
    weight = sum(p.stat().st_size for p in site.rglob("*") if p.is_file() and "screenshots" not in p.parts)
    print(f"page weight: {weight / 1e6:.2f} MB ({len(list((site / 'data').glob('*.csv')))} tables)")
    renders = first_render(site / "index.html", args.rounds)
    print("first render (s): " + ", ".join(f"{s:.2f}" for s in renders))

    def share(kind: str, scope: str) -> str:
        shown, total = shares.get(("all", kind, scope), (0, 0))
        return f"{shown / total:.3f}" if total else "none"

    render = statistics.median(renders)
    print(
        f"pooled_statewide_shown={share('pooled', 'statewide')} pooled_breakdowns_shown="
        f"{share('pooled', 'breakdowns')} page_mb={weight / 1e6:.2f} first_render_s={render:.2f}"
    )


if __name__ == "__main__":
    main()
