"""tickforge on Ray: store snapshots as Ray Datasets, Ray Datasets as commits, and the loader in
Ray Train and torchrun workers (2 CPU processes, gloo).

One local Ray cluster (``ray.init(num_cpus=2)``) serves the whole test run: the session fixture
in conftest.py starts it on first use and shuts it down at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import tickforge

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install tickforge[ray])")
import tickforge.ray as tray  # noqa: E402

T, TPB, B = 20, 10, 16


def klines(symbol: str, day: int, minutes: int = 60, start_price: float = 100.0) -> pa.Table:
    base = (19_700 + day) * 86_400_000  # ms since epoch of that day
    ts = base + np.arange(minutes, dtype=np.int64) * 60_000
    close = start_price + np.cumsum(np.sin(np.arange(minutes) + day))
    return pa.table({"timestamp": ts, "open": close, "high": close + 1, "low": close - 1, "close": close,
                     "volume": np.full(minutes, 2.5), "symbol": [symbol] * minutes,
                     "exchange": ["binance"] * minutes, "timeframe": ["1m"] * minutes})


def sort(table: pa.Table) -> pa.Table:
    keys = [(c, "ascending") for c in ("symbol", "timestamp") if c in table.column_names]
    return table.sort_by(keys)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """A klines store of three commits: days 1-2 of A and B, day 3 of A, then a compaction."""
    root = tmp_path_factory.mktemp("raystore") / "store"
    store = tickforge.Store(root)
    store.write("klines", pa.concat_tables([klines(s, d) for s in "AB" for d in (1, 2)]), type="klines")
    store.write("klines", klines("A", 3), type="klines")
    store.compact("klines", target_rows=10_000, min_files=1)
    assert store.info()["version"] == 3
    return root


def test_read_store_equals_the_native_scan_at_every_version(ray_cluster, history):
    store = tickforge.Store(history)
    for version in (1, 2, 3):
        got = tray.read_store(history, "klines", version=version).to_arrow_refs()
        got = pa.concat_tables(ray.get(got))
        want = store.read("klines", version=version)
        assert got.schema == want.schema
        assert sort(got).equals(sort(want)), version
    assert tray.read_store(history, "klines", version=1).count() == 240


def test_read_store_projects_prunes_and_filters(ray_cluster, history):
    store = tickforge.Store(history)
    filters = [("symbol", "=", "A"), ("timestamp", ">=", (19_702 * 86_400_000) + 30 * 60_000)]
    plan = store.plan("klines", filters=filters, version=2)
    assert all(f["partition"]["symbol"] == "A" for f in plan["files"])
    assert len(plan["files"]) < plan["files_total"]  # B's files and A's day 1 are pruned
    ds = tray.read_store(history, "klines", version=2, columns=["timestamp", "close", "symbol"], filters=filters)
    got = pa.concat_tables(ray.get(ds.to_arrow_refs()))
    want = store.read("klines", ["timestamp", "close", "symbol"], filters, version=2)
    assert got.column_names == ["timestamp", "close", "symbol"]
    assert sort(got).equals(sort(want))
    # Independent check of the filter: A's rows of day 2 from minute 30 on, and day 3's.
    assert got.num_rows == 30 + 60
    assert pc.all(pc.equal(got["symbol"], "A")).as_py()


def test_read_store_never_sees_uncommitted_or_later_files(ray_cluster, history, tmp_path):
    store = tickforge.Store(history)
    before = store.read("klines", version=3).num_rows
    # A stray Parquet file inside the dataset's folder is not part of any snapshot.
    import pyarrow.parquet as pq

    stray = next((Path(history) / "klines").rglob("*.parquet")).parent / "stray.parquet"
    pq.write_table(klines("A", 9), stray)
    try:
        assert tray.read_store(history, "klines", version=3).count() == before
    finally:
        stray.unlink()
    with pytest.raises(Exception, match="no dataset|unknown dataset|nope"):
        tray.read_store(history, "nope")


def test_write_store_is_one_commit_and_round_trips(ray_cluster, tmp_path):
    root = tmp_path / "store"
    data = pa.concat_tables([klines(s, d) for s in "XYZ" for d in (1, 2, 3)])
    ds = ray.data.from_arrow(data).repartition(5)
    info = tray.write_store(ds, root, "klines", type="klines")
    store = tickforge.Store(root)
    assert info["version"] == 1 and store.info()["version"] == 1
    assert info["rows_in"] == info["rows_written"] == data.num_rows
    assert sort(store.read("klines", data.column_names)).cast(data.schema).equals(sort(data))
    # Again: the store's natural key drops every repeated row, and nothing new is no commit.
    again = tray.write_store(ds, root, "klines", type="klines")
    assert again["rows_written"] == 0 and again["rows_duplicate"] == data.num_rows
    assert store.info()["version"] == 1
    with pytest.raises(ValueError, match="empty"):
        tray.write_store(ray.data.from_arrow(data.slice(0, 0)), root, "klines", type="klines")


# ---------------------------------------------------------------------------------------------
# The loader in distributed training
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def labeled(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("raylabeled")
    tickforge.synth_dbn(base / "raw", symbols=2, days=2, rows_per_day=6_000, seed=5)
    tickforge.label_run(base / "raw", base / "out", lookback_rows=50, lookforward_input=50,
                        lookforward_offset=10, nbins=3, min_symbol_samples=50)
    return base / "out"


# The same worker body serves Ray Train and torchrun: it trains one DDP step per batch on the
# rank's shard, checks exact resume from a mid-epoch state_dict, and writes what it saw.
WORKER = textwrap.dedent("""
    import json, os
    import torch
    import torch.distributed as dist

    def run(loader_factory, rank, out_dir, make_checkpoint=None):
        loader = loader_factory()
        model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(402 * {T}, 3))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        seen, state, rest = [], None, []
        for i, (x, y, index) in enumerate(loader):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x.flatten(1)), y.long())
            loss.backward()
            optimizer.step()
            samples = list(zip(index["symbol"], [int(r) for r in index["row"]]))
            seen += samples
            if i == 1:
                state = loader.state_dict()
            elif i > 1:
                rest.append(samples)
        resumed = loader_factory()
        resumed.load_state_dict(state)
        again = [list(zip(ix["symbol"], [int(r) for r in ix["row"]])) for _, _, ix in resumed]
        with open(os.path.join(out_dir, f"rank{{rank}}.json"), "w") as f:
            json.dump({{"batches": len(loader), "seen": seen, "resumed_equal": again == rest,
                        "state": state}}, f)
        if make_checkpoint is not None:
            make_checkpoint(state)
""").format(T=T)


def check_ranks(out_dir: Path, world_size: int):
    ranks = [json.loads((out_dir / f"rank{r}.json").read_text()) for r in range(world_size)]
    assert len({r["batches"] for r in ranks}) == 1 and ranks[0]["batches"] > 2
    for r in ranks:
        assert len(r["seen"]) == r["batches"] * B
        assert r["resumed_equal"]
    sets = [set(map(tuple, r["seen"])) for r in ranks]
    assert not (sets[0] & sets[1]), "ranks served the same sample"
    return ranks


def test_loader_in_ray_train_torch_trainer(ray_cluster, labeled, tmp_path):
    pytest.importorskip("torch")
    from ray.train import Checkpoint, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    out = tmp_path / "ranks"
    out.mkdir()
    namespace: dict = {}
    exec(WORKER, namespace)

    def loop(config):
        import tempfile

        import ray.train

        from tickforge.ray import loader_for_worker

        def factory():
            return loader_for_worker(config["dir"], B, "volume", time_bins=T, ticks_per_bin=TPB,
                                     return_index=True, seed=3)

        def checkpoint(state):
            with tempfile.TemporaryDirectory() as d:
                with open(os.path.join(d, "loader_state.json"), "w") as f:
                    json.dump(state, f)
                ray.train.report({"rank": ray.train.get_context().get_world_rank()},
                                 checkpoint=Checkpoint.from_directory(d))

        config["run"](factory, ray.train.get_context().get_world_rank(), config["out"], checkpoint)

    trainer = TorchTrainer(
        loop, train_loop_config={"dir": str(labeled), "out": str(out), "run": namespace["run"]},
        scaling_config=ScalingConfig(num_workers=2, use_gpu=False, resources_per_worker={"CPU": 1}),
        run_config=RunConfig(storage_path=str(tmp_path / "ray_results"), name="loader"))
    result = trainer.fit()
    assert result.error is None
    ranks = check_ranks(out, 2)
    with result.checkpoint.as_directory() as d:
        saved = json.loads((Path(d) / "loader_state.json").read_text())
    assert saved in [r["state"] for r in ranks]


def test_loader_under_torchrun(labeled, tmp_path):
    pytest.importorskip("torch")
    script = tmp_path / "worker.py"
    script.write_text(WORKER + textwrap.dedent(f"""
        import tickforge
        dist.init_process_group("gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
        factory = lambda: tickforge.RepresentDataLoader({str(labeled)!r}, {B}, "volume", time_bins={T},
                                                        ticks_per_bin={TPB}, return_index=True, seed=3,
                                                        rank=rank, world_size=world)
        run(factory, rank, {str(tmp_path)!r})
        dist.destroy_process_group()
    """))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    check_ranks(tmp_path, 2)
