"""The end-to-end demo `make demo` runs: generate multi-symbol, multi-day MBP-10 DBN files,
convert them to Parquet with the `tickforge` command, and show what was written."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

import tickforge

OUT = Path("demo-output")


def run(*args: str) -> None:
    print("$", " ".join(args), flush=True)
    subprocess.run(args, check=True)


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    cli = str(Path(sys.executable).with_name("tickforge"))
    start = time.perf_counter()
    run(cli, "synth", "dbn", "--symbols", "6", "--days", "3", "--rows-per-day", "300000",
        "--seed", "42", "--out", str(OUT / "dbn"))
    files = sorted(str(p) for p in (OUT / "dbn").glob("*.dbn.zst"))
    run(cli, "dbn", "inspect", files[0])
    run(cli, "dbn", "to-parquet", *files, "--out", str(OUT / "parquet"))

    print("\nwritten:")
    for path in sorted((OUT / "parquet").glob("*.parquet")):
        meta = pq.read_metadata(path)
        print(f"  {path}  {meta.num_rows:,} rows, {meta.num_columns} columns, "
              f"{meta.num_row_groups} row groups, {path.stat().st_size / 2**20:.1f} MiB")
    table = pq.read_table(sorted((OUT / "parquet").glob("*.parquet"))[0],
                          columns=["ts_recv", "symbol", "action", "side", "price",
                                   "bid_px_00", "ask_px_00", "bid_sz_00", "ask_sz_00"])
    print("\nfirst rows of the first day:")
    print(table.slice(0, 8).to_pandas().to_string(index=False))
    print("\nrows per symbol on that day:")
    counts = table.group_by("symbol").aggregate([("symbol", "count")]).sort_by("symbol")
    for symbol, n in zip(counts["symbol"].to_pylist(), counts["symbol_count"].to_pylist()):
        print(f"  {symbol:<8} {n:>9,}")
    print(f"\ndemo finished in {time.perf_counter() - start:.1f} s; outputs in {OUT}/")


if __name__ == "__main__":
    main()
