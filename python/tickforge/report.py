"""A store's report as one self-contained HTML page (``python -m tickforge report STORE --out report.html``).

The page needs no network: its images are PNGs rendered with matplotlib and embedded as base64,
its style is inline, it has no script. It shows

- the datasets (type, rows, files, symbols) of the snapshot,
- per dataset a coverage heat map, symbol x day, of the rows each day holds (days without rows
  in red; days whose files have gap defects marked with a cross),
- the quality flags the commits recorded (docs/quality.md): counts and example (file, row),
- per labeled dataset (type ``labeled`` or a ``classification_label`` column) its class
  distribution and a few depth images of its rows.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import html
import io
import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Sequence

import numpy as np

from .store import PathLike, Store

# The checks the heat map marks as gaps inside a day.
GAP_CHECKS = ("missing_interval", "id_gap", "sequence_gap")
LABEL_COLUMN = "classification_label"
_PARTITION = re.compile(r"(?:^|/)([^/=]+)=([^/]+)")


def _png(fig) -> str:
    """Return the figure as an <img> with its PNG inline, and close it."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="figure" src="data:image/png;base64,{data}">'


def _partition(path: str) -> dict:
    return dict(_PARTITION.findall(path))


def _day(part: dict) -> dt.date | None:
    try:
        return dt.date(int(part["year"]), int(part["month"]), int(part["day"]))
    except (KeyError, ValueError):
        return None


def coverage_figure(name: str, by_file: dict, max_symbols: int = 60):
    """Return the heat map of rows per (symbol, day) of one dataset, or None without dated files."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    rows: dict[tuple[str, dt.date], int] = defaultdict(int)
    gaps: dict[tuple[str, dt.date], int] = defaultdict(int)
    for path, entry in by_file.items():
        part = _partition(path)
        day = _day(part)
        if day is None:
            continue
        key = (part.get("symbol", "?"), day)
        rows[key] += int(entry["rows"])
        gaps[key] += sum(int(entry["checks"].get(c, 0)) for c in GAP_CHECKS)
    if not rows:
        return None
    symbols = sorted({s for s, _ in rows})[:max_symbols]
    first, last = min(d for _, d in rows), max(d for _, d in rows)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    grid = np.zeros((len(symbols), len(days)))
    for (symbol, day), n in rows.items():
        if symbol in symbols:
            grid[symbols.index(symbol), (day - first).days] = n
    fig, ax = plt.subplots(figsize=(min(16, 2 + 0.25 * len(days)), 1 + 0.3 * len(symbols)))
    masked = np.ma.masked_less_equal(grid, 0)
    cmap = plt.get_cmap("viridis").with_extremes(bad="#d62728")  # red: no rows that day
    positive = grid[grid > 0]
    norm = LogNorm(vmin=max(1, positive.min()), vmax=max(2, positive.max())) if positive.size else None
    image = ax.imshow(masked, aspect="auto", cmap=cmap, norm=norm, interpolation="nearest")
    for (symbol, day), n in gaps.items():
        if n and symbol in symbols:
            ax.plot((day - first).days, symbols.index(symbol), marker="x", color="white", markersize=6)
    ax.set_yticks(range(len(symbols)), symbols)
    step = max(1, len(days) // 15)
    ax.set_xticks(range(0, len(days), step), [days[i].isoformat() for i in range(0, len(days), step)],
                  rotation=45, ha="right")
    ax.set_title(f"{name}: rows per symbol and day (red: none, x: gaps inside the day)")
    fig.colorbar(image, ax=ax, label="rows")
    return fig


def _examples(check: dict, n: int = 3) -> str:
    return "<br>".join(html.escape(f"{e['file']} row {e['row']}") for e in check["examples"][:n])


def quality_table(quality: dict) -> str:
    lines = ["<table><tr><th>dataset</th><th>check</th><th>count</th><th>first examples</th></tr>"]
    any_flag = False
    for name, dataset in quality["datasets"].items():
        for check, result in sorted(dataset["checks"].items()):
            any_flag = True
            lines.append(f"<tr><td>{html.escape(name)}</td><td>{html.escape(check)}</td>"
                         f"<td class=n>{result['count']:,}</td><td>{_examples(result)}</td></tr>")
    lines.append("</table>")
    if not any_flag:
        return "<p>No quality flags in the live files.</p>"
    return "\n".join(lines)


def class_figure(name: str, labels: np.ndarray):
    import matplotlib.pyplot as plt

    values, counts = np.unique(labels, return_counts=True)
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar([str(v) for v in values], counts, color="#1f77b4")
    ax.set_xlabel("class")
    ax.set_ylabel("rows")
    ax.set_title(f"{name}: class distribution ({len(labels):,} labeled rows)")
    return fig


def depth_figure(title: str, image: np.ndarray):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.imshow(image, aspect="auto", cmap="magma", origin="lower", interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("time")
    ax.set_ylabel("price level")
    return fig


def _depth_images(root: Path, files: list[str], count: int) -> list[tuple[str, np.ndarray]]:
    """Depth images of a labeled dataset's files: the engine's render (DESIGN.md §3.4), else
    the sizes of the book levels over the file's last rows."""
    import pyarrow.parquet as pq

    from . import render

    out = []
    for path in files[:count]:
        full = root / path
        try:
            image = np.asarray(render(full))
            if image.ndim == 3:
                image = image[0]
            out.append((f"{path} (last sample)", image))
            continue
        except Exception:  # not renderable as a labeled dataset file: draw its book instead
            pass
        schema = pq.read_schema(full)
        bids = sorted(n for n in schema.names if n.startswith("bid_sz_"))
        asks = sorted(n for n in schema.names if n.startswith("ask_sz_"))
        if not bids or not asks:
            continue
        table = pq.read_table(full, columns=bids + asks)
        table = table.slice(max(0, table.num_rows - 400))
        sizes = np.stack([table[c].to_numpy(zero_copy_only=False).astype(float) for c in bids[::-1] + asks])
        out.append((f"{path}: level sizes, bids below asks", np.log1p(sizes)))
    return out


def build_report(store: Store | PathLike, out: PathLike, *, version: int | None = None, images: int = 3) -> Path:
    """Write the store's report to ``out`` (atomically: a temporary file renamed) and return its path."""
    import matplotlib

    matplotlib.use("Agg")
    if not isinstance(store, Store):
        store = Store(store, create=False)
    root = Path(store.root)
    info = store.info(version)
    quality = store.quality(version=info["version"], by_file=True)
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        f"<title>tickforge report: {html.escape(str(root))}</title>",
        "<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}td.n{text-align:right}"
        "img{max-width:100%;margin:0.5em 0}h2{border-bottom:1px solid #ccc}</style></head><body>",
        f"<h1>tickforge store report</h1><p>{html.escape(str(root))}: version {info['version']}"
        f" ({html.escape(str(info.get('operation', '')))} at {html.escape(str(info.get('committed_at', '')))})</p>",
        "<h2>Datasets</h2><table><tr><th>dataset</th><th>type</th><th>rows</th><th>files</th><th>symbols</th></tr>",
    ]
    for name, d in info["datasets"].items():
        parts.append(f"<tr><td>{html.escape(name)}</td><td>{html.escape(d['type'])}</td><td class=n>{d['rows']:,}</td>"
                     f"<td class=n>{d['files']:,}</td><td class=n>{len(d['symbols'])}</td></tr>")
    parts.append("</table><h2>Coverage</h2>")
    for name in info["datasets"]:
        figure = coverage_figure(name, quality["datasets"][name].get("by_file", {}))
        parts.append(_png(figure) if figure is not None else f"<p>{html.escape(name)}: no dated partitions.</p>")
    parts.append("<h2>Quality flags</h2>")
    parts.append(quality_table(quality))
    labeled = [n for n, d in info["datasets"].items()
               if d["type"] == "labeled" or any(c[0] == LABEL_COLUMN for c in d["columns"])]
    parts.append("<h2>Labeled datasets</h2>")
    if not labeled:
        parts.append("<p>No labeled dataset in this store.</p>")
    for name in labeled:
        parts.append(f"<h3>{html.escape(name)}</h3>")
        labels = store.read(name, [LABEL_COLUMN], version=info["version"])[LABEL_COLUMN].to_numpy(zero_copy_only=False)
        labels = labels[~np.isnan(labels.astype(float))] if labels.dtype.kind == "f" else labels
        parts.append(_png(class_figure(name, labels)))
        files = sorted(quality["datasets"][name].get("by_file", {}))
        for title, image in _depth_images(root, files, images):
            parts.append(_png(depth_figure(title, image)))
    parts.append("</body></html>\n")
    out = Path(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text("\n".join(parts), encoding="utf-8")
    os.replace(tmp, out)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tickforge report", description=__doc__.split("\n")[0])
    parser.add_argument("store", help="store directory")
    parser.add_argument("--out", required=True, help="HTML file to write")
    parser.add_argument("--version", type=int, default=None, help="snapshot version (default: newest)")
    parser.add_argument("--images", type=int, default=3, help="depth images per labeled dataset")
    args = parser.parse_args(argv)
    path = build_report(args.store, args.out, version=args.version, images=args.images)
    print(f"{path}: report of {args.store}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
