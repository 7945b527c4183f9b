"""Cross-sectional panels (docs/panel.md) against pandas.

The references below are written with pandas alone, from the rules in docs/panel.md:
``pd.concat`` of the sorted symbols for the rows, a groupby count of symbols with a present
target for ``min_cs``, and a rank of the documented splitmix64/FNV-1a hash for
``max_cs_samples``. The seed's own five tests come first, unchanged apart from ``collect()``
returning a pyarrow Table.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tickforge
from tickforge import streaming_concat

M64 = (1 << 64) - 1


# ---------------------------------------------------------------------------------------------
# The seed's tests
# ---------------------------------------------------------------------------------------------


def test_streaming_concat_basic():
    mtf_data = {
        "AAPL": pd.DataFrame({"close": [1.0, 2.0], "ts": [1, 2]}),
        "GOOGL": pd.DataFrame({"close": [3.0, 4.0], "ts": [1, 2]}),
    }
    lf = streaming_concat(mtf_data)
    df = lf.collect().to_pandas()
    assert len(df) == 4
    assert "symbol" in df.columns
    assert set(df["symbol"]) == {"AAPL", "GOOGL"}


def test_streaming_concat_deterministic():
    mtf_data_1 = {"AAPL": pd.DataFrame({"x": [1.0]}), "GOOGL": pd.DataFrame({"x": [2.0]})}
    mtf_data_2 = {"GOOGL": pd.DataFrame({"x": [2.0]}), "AAPL": pd.DataFrame({"x": [1.0]})}
    df1 = streaming_concat(mtf_data_1).collect().to_pandas()
    df2 = streaming_concat(mtf_data_2).collect().to_pandas()
    pd.testing.assert_frame_equal(df1, df2)


def test_streaming_concat_float32():
    mtf_data = {"AAPL": pd.DataFrame({"close": np.array([1.0, 2.0], dtype=np.float64)})}
    df = streaming_concat(mtf_data, use_float32=True).collect().to_pandas()
    assert df["close"].dtype == np.float32


def test_streaming_concat_skips_missing_target():
    mtf_data = {
        "AAPL": pd.DataFrame({"close": [1.0], "target": [0.1]}),
        "GOOGL": pd.DataFrame({"close": [2.0]}),
    }
    lf = streaming_concat(mtf_data, target_column="target")
    df = lf.collect().to_pandas()
    assert len(df) == 1
    assert df["symbol"].iloc[0] == "AAPL"
    assert lf.skipped == [{"symbol": "GOOGL", "reason": "no target column 'target'"}]


def test_streaming_concat_releases_memory():
    mtf_data = {"AAPL": pd.DataFrame({"close": [1.0]})}
    streaming_concat(mtf_data, release_after_convert=True)
    assert mtf_data["AAPL"] is None


# ---------------------------------------------------------------------------------------------
# Generated data and pandas references
# ---------------------------------------------------------------------------------------------


def make_frames(n_symbols: int, seed: int, *, ragged: bool = True) -> dict[str, pd.DataFrame]:
    """Per-symbol frames: ragged sorted timestamps (repeats, gaps), null/NaN targets, mixed dtypes."""
    rng = np.random.default_rng(seed)
    frames = {}
    names = [f"S{i:03d}" for i in range(n_symbols)]
    rng.shuffle(names)  # insertion order differs from sorted order
    for i, name in enumerate(names):
        n = int(rng.integers(20, 80))
        steps = rng.integers(0, 3, n) if ragged else np.ones(n, dtype=np.int64)
        ts = 1_700_000_000_000_000_000 + (int(rng.integers(0, 5)) + np.cumsum(steps)) * 60_000_000_000
        target = rng.normal(size=n)
        target[rng.random(n) < 0.15] = np.nan
        df = pd.DataFrame(
            {
                "ts": pd.to_datetime(ts, unit="ns"),
                "f1": rng.normal(size=n),
                "f2": rng.normal(size=n).astype(np.float32),
                "count": rng.integers(0, 100, n),
                "target": target,
            }
        )
        df.loc[rng.random(n) < 0.1, "f1"] = np.nan
        if i % 3 == 0:
            df["extra"] = rng.normal(size=n)  # missing in the other symbols: NaN there
        frames[name] = df
    return frames


def pandas_concat(frames: dict[str, pd.DataFrame], use_float32: bool = True) -> pd.DataFrame:
    """The seed's pandas path: concat of the sorted symbols, then float64 -> float32."""
    parts = [frames[s].assign(symbol=s) for s in sorted(frames)]
    df = pd.concat(parts, ignore_index=True)
    if use_float32:
        for c in df.columns:
            if df[c].dtype == np.float64 and c not in ("ts", "symbol"):
                df[c] = df[c].astype(np.float32)
    return df


def splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & M64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def fnv1a64(s: str) -> int:
    h = 0xCBF29CE484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001B3) & M64
    return h


def selection_hash(seed: int, t: int, symbol: str) -> int:
    return splitmix64(splitmix64(splitmix64(seed) ^ (t & M64)) ^ fnv1a64(symbol))


def pandas_filters(df: pd.DataFrame, min_cs, max_cs, seed: int, target="target", time="ts"):
    """min_cs and max_cs_samples as docs/panel.md states them, in pandas."""
    t = df[time].astype("int64")
    present = df[target].notna() & t.notna()
    pairs = pd.DataFrame({"t": t[present], "symbol": df["symbol"][present]}).drop_duplicates()
    n = pairs.groupby("t")["symbol"].nunique()
    keep = t.map(n).fillna(0) >= (min_cs or 0)
    keep &= t.isin(n.index)
    if max_cs:
        pairs = pairs[pairs["t"].isin(n.index[n >= (min_cs or 0)])].copy()
        pairs["h"] = [selection_hash(seed, int(a), b) for a, b in zip(pairs["t"], pairs["symbol"])]
        pairs = pairs.sort_values(["t", "h", "symbol"])
        pairs["rank"] = pairs.groupby("t").cumcount()
        chosen = pairs[pairs["rank"] < max_cs]
        chosen_keys = set(zip(chosen["t"], chosen["symbol"]))
        keep &= present & pd.Series(
            [(a, b) in chosen_keys for a, b in zip(t, df["symbol"])], index=df.index
        )
    return df[keep].reset_index(drop=True)


def time_sorted(df: pd.DataFrame, time="ts") -> pd.DataFrame:
    return df.sort_values([time, "symbol"], kind="stable").reset_index(drop=True)


def write_dir(frames: dict[str, pd.DataFrame], out: Path, row_group_size: int = 17) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for s, df in frames.items():
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), out / f"{s}.parquet",
                       row_group_size=row_group_size)
    return out


def copy_frames(frames):
    return {k: v.copy() for k, v in frames.items()}


# ---------------------------------------------------------------------------------------------
# Equality with pandas
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("use_float32", [True, False])
@pytest.mark.parametrize("source", ["dict", "dir"])
def test_equals_pandas_concat(tmp_path, use_float32, source):
    frames = make_frames(12, seed=1)
    expected = pandas_concat(frames, use_float32)
    data = copy_frames(frames) if source == "dict" else write_dir(frames, tmp_path / "in")
    got = streaming_concat(data, use_float32=use_float32).to_pandas()
    pd.testing.assert_frame_equal(got, expected)


def test_tables_and_paths_in_a_dict(tmp_path):
    frames = make_frames(4, seed=2)
    names = sorted(frames)
    pq.write_table(pa.Table.from_pandas(frames[names[0]], preserve_index=False), tmp_path / "a.parquet")
    data = {
        names[0]: tmp_path / "a.parquet",
        names[1]: pa.Table.from_pandas(frames[names[1]], preserve_index=False),
        names[2]: frames[names[2]].copy(),
        names[3]: None,  # ignored, as in the seed
    }
    got = streaming_concat(data).to_pandas()
    expected = pandas_concat({k: frames[k] for k in names[:3]})
    pd.testing.assert_frame_equal(got, expected)


def test_named_index_becomes_a_column():
    df = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index([10, 20], name="ts"))
    got = streaming_concat({"A": df}).to_pandas()
    assert list(got.columns) == ["ts", "x", "symbol"]
    assert got["ts"].tolist() == [10, 20]


@pytest.mark.parametrize("source", ["dict", "dir"])
def test_time_order_equals_sorted_concat(tmp_path, source):
    frames = make_frames(10, seed=3)
    expected = time_sorted(pandas_concat(frames))
    data = copy_frames(frames) if source == "dict" else write_dir(frames, tmp_path / "in")
    got = streaming_concat(data, order="time", batch_rows=50).to_pandas()
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("order", ["symbol", "time"])
@pytest.mark.parametrize("source", ["dict", "dir"])
@pytest.mark.parametrize("min_cs,max_cs,seed", [(4, None, 0), (None, 3, 0), (5, 2, 42), (1, 1, 7)])
def test_filters_equal_pandas_reference(tmp_path, order, source, min_cs, max_cs, seed):
    frames = make_frames(15, seed=4)
    expected = pandas_filters(pandas_concat(frames), min_cs, max_cs, seed)
    if order == "time":
        expected = time_sorted(expected)
    data = copy_frames(frames) if source == "dict" else write_dir(frames, tmp_path / "in")
    panel = streaming_concat(data, target_column="target", min_cs=min_cs, max_cs_samples=max_cs,
                             seed=seed, order=order, batch_rows=64)
    got = panel.to_pandas()
    assert len(got) > 0
    pd.testing.assert_frame_equal(got, expected)
    report = panel.report
    assert report["time_column"] == "ts"
    assert report["rows_out"] == len(expected)


def test_selection_is_independent_of_other_timestamps_and_symbols_order():
    frames = make_frames(10, seed=5)
    full = streaming_concat(copy_frames(frames), target_column="target", max_cs_samples=3,
                            seed=9).to_pandas()
    # Keep only even minutes: the choice at those minutes must not change.
    halved = {k: v[(v["ts"].astype("int64") // 60_000_000_000) % 2 == 0] for k, v in frames.items()}
    part = streaming_concat(halved, target_column="target", max_cs_samples=3, seed=9).to_pandas()
    even = full[(full["ts"].astype("int64") // 60_000_000_000) % 2 == 0].reset_index(drop=True)
    pd.testing.assert_frame_equal(part, even)


def test_seed_changes_the_selection():
    frames = make_frames(10, seed=6, ragged=False)
    a = streaming_concat(copy_frames(frames), target_column="target", max_cs_samples=2, seed=1).to_pandas()
    b = streaming_concat(copy_frames(frames), target_column="target", max_cs_samples=2, seed=2).to_pandas()
    assert a.groupby("ts").size().max() <= 2
    assert not a[["ts", "symbol"]].equals(b[["ts", "symbol"]])


# ---------------------------------------------------------------------------------------------
# Outputs, projection, release, config
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["symbol", "time"])
def test_reader_and_sink_parquet(tmp_path, order):
    frames = make_frames(8, seed=7)
    src = write_dir(frames, tmp_path / "in")
    expected = pandas_concat(frames)
    if order == "time":
        expected = time_sorted(expected)
    panel = streaming_concat(src, order=order, batch_rows=40)
    reader = panel.to_reader()
    assert isinstance(reader, pa.RecordBatchReader)
    batches = list(reader)
    assert max(b.num_rows for b in batches) <= 40
    pd.testing.assert_frame_equal(pa.Table.from_batches(batches).to_pandas(), expected)
    report = panel.sink_parquet(tmp_path / "out" / "panel.parquet")
    assert report["rows_out"] == len(expected)
    pd.testing.assert_frame_equal(pq.read_table(tmp_path / "out" / "panel.parquet").to_pandas(), expected)
    leftovers = [p.name for p in (tmp_path / "out").iterdir()]
    assert leftovers == ["panel.parquet"]  # no temporary or spill files left behind


def test_column_projection(tmp_path):
    frames = make_frames(5, seed=8)
    src = write_dir(frames, tmp_path / "in")
    got = streaming_concat(src, columns=["f2", "ts"], target_column="target", min_cs=2).to_pandas()
    assert list(got.columns) == ["f2", "ts", "symbol"]
    full = pandas_filters(pandas_concat(frames), 2, None, 0)
    pd.testing.assert_frame_equal(got, full[["f2", "ts", "symbol"]])


def test_metadata_columns_stay_float64():
    df = pd.DataFrame({"price": [1.5], "x": [2.5]})
    got = streaming_concat({"A": df}, metadata_columns=["price"]).to_pandas()
    assert got["price"].dtype == np.float64 and got["x"].dtype == np.float32


def test_release_keeps_dict_entries_when_not_asked():
    data = {"A": pd.DataFrame({"x": [1.0]})}
    panel = streaming_concat(data, release_after_convert=False)
    assert data["A"] is not None
    assert len(panel.collect()) == 1 and len(panel.collect()) == 1  # readable again


def test_released_panel_reads_once():
    panel = streaming_concat({"A": pd.DataFrame({"x": [1.0]})})
    assert len(panel.collect()) == 1
    with pytest.raises(tickforge.TickforgeError, match="released"):
        panel.collect()


def test_pipeline_yaml(tmp_path):
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text(
        "intelligent_training:\n  lazy_loading:\n    enabled: true\n    probe_top_n: 100\n"
        "    use_float32: false\n    streaming_collect: true\n"
    )
    frames = {"A": pd.DataFrame({"x": [1.0]})}
    assert streaming_concat(copy_frames(frames), config=cfg).to_pandas()["x"].dtype == np.float64
    # An explicit keyword wins over the file.
    got = streaming_concat(copy_frames(frames), config=cfg, use_float32=True).to_pandas()
    assert got["x"].dtype == np.float32
    bad = tmp_path / "bad.yaml"
    bad.write_text("panel:\n  min_sc: 3\n")
    with pytest.raises(tickforge.TickforgeError, match="min_sc"):
        streaming_concat(copy_frames(frames), config=bad)


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


def test_unreadable_parquet_names_the_file(tmp_path):
    src = write_dir(make_frames(3, seed=9), tmp_path / "in")
    (src / "ZZZ.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(tickforge.TickforgeError, match="ZZZ.parquet"):
        streaming_concat(src).collect()


def test_schema_conflict_names_the_file(tmp_path):
    frames = make_frames(3, seed=10)
    src = write_dir(frames, tmp_path / "in")
    bad = frames[sorted(frames)[0]].copy()
    bad["f1"] = "text"
    pq.write_table(pa.Table.from_pandas(bad, preserve_index=False), src / "ZZZ.parquet")
    with pytest.raises(tickforge.TickforgeError, match=r"ZZZ\.parquet: column 'f1'"):
        streaming_concat(src).collect()


def test_symbol_column_must_match(tmp_path):
    df = pd.DataFrame({"x": [1.0, 2.0], "symbol": ["A", "B"]})
    with pytest.raises(tickforge.TickforgeError, match="row 1: column 'symbol' holds 'B'"):
        streaming_concat({"A": df}).collect()
    df = pd.DataFrame({"x": [1.0, 2.0], "symbol": ["A", None]})
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp_path / "A.parquet")
    with pytest.raises(tickforge.TickforgeError, match=r"A\.parquet: row 1: column 'symbol' is null"):
        streaming_concat(tmp_path).collect()


def test_time_order_needs_sorted_symbols():
    df = pd.DataFrame({"ts": [3, 1], "x": [1.0, 2.0]})
    with pytest.raises(tickforge.TickforgeError, match="sorted by 'ts'"):
        streaming_concat({"A": df}, order="time").collect()


def test_filters_need_a_time_column():
    with pytest.raises(tickforge.TickforgeError, match="time column"):
        streaming_concat({"A": pd.DataFrame({"x": [1.0]})}, min_cs=1).collect()


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def find_cli() -> Path | None:
    """The native command (``tickforge.native_cli()``), or None when it is not built."""
    cli = tickforge.native_cli()
    return cli if cli.is_file() and os.access(cli, os.X_OK) else None


def test_cli_panel_build(tmp_path):
    cli = find_cli()
    if cli is None:
        pytest.skip("the tickforge command is not built")
    frames = make_frames(6, seed=11)
    src = write_dir(frames, tmp_path / "in")
    out = tmp_path / "panel.parquet"
    proc = subprocess.run([str(cli), "panel", "build", "--input", str(src), "--out", str(out),
                           "--target", "target", "--min-cs", "3", "--order", "time"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    expected = time_sorted(pandas_filters(pandas_concat(frames), 3, None, 0))
    pd.testing.assert_frame_equal(pq.read_table(out).to_pandas(), expected)
    bad = subprocess.run([str(cli), "panel", "build", "--input", str(tmp_path / "nope"), "--out",
                          str(out)], capture_output=True, text=True)
    assert bad.returncode != 0 and "nope" in bad.stderr
