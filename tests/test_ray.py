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


# -- ingest and book building as Ray tasks ------------------------------------------------------

def store_rows(root, dataset: str = "klines") -> pa.Table:
    """Every row of a dataset in a fixed order: a snapshot's contents, whatever its files."""
    table = tickforge.Store(root, create=False).read(dataset)
    return table.sort_by([(c, "ascending") for c in table.column_names])


def staging_jobs(root) -> list[str]:
    staging = Path(root) / "_tickforge" / "staging"
    return sorted(p.name for p in staging.iterdir() if p.name.startswith("job-")) if staging.exists() else []


@pytest.fixture(scope="module")
def dumps(tmp_path_factory) -> list[Path]:
    """Daily 1m klines and aggTrades of two symbols over two days: eight files; plus a copy of one
    in another folder, so one partition gets rows from two tasks (all duplicates)."""
    out = tmp_path_factory.mktemp("dumps")
    files = tickforge.synth_binance(out / "data", symbols=2, days=2, kinds=["klines", "aggtrades"],
                                    aggtrades_per_minute=2)
    (out / "copy").mkdir()
    copy = out / "copy" / files[1].name
    copy.write_bytes(files[1].read_bytes())
    return sorted(files) + [copy]


def test_ingest_on_ray_equals_a_local_ingest(ray_cluster, dumps, tmp_path):
    local = tickforge.Store(tmp_path / "local")
    on_ray = tmp_path / "ray"
    # Both stores hold the first file already: the partitions it fills take the writer's path.
    local.ingest(dumps[0])
    tickforge.Store(on_ray).ingest(dumps[0])
    expected = local.ingest(dumps)
    got = tray.ingest(on_ray, dumps, max_in_flight=3)
    assert got["tasks"] == len(dumps)
    for key in ("version", "rows_in", "rows_written", "rows_duplicate"):
        assert got[key] == expected[key], key
    assert got["rows_duplicate"] > 0
    for dataset in ("klines", "aggtrades"):
        assert store_rows(on_ray, dataset).equals(store_rows(tmp_path / "local", dataset)), dataset
    assert staging_jobs(on_ray) == []
    # The same files again add nothing and make no version, as locally.
    again = tray.ingest(on_ray, dumps)
    assert again["version"] == got["version"] and again["rows_written"] == 0


def test_ingest_takes_file_uris_for_files_folders_and_the_store(ray_cluster, dumps, tmp_path):
    folder = next(p for p in dumps[0].parents if p.name == "data")
    local = tickforge.Store(tmp_path / "local")
    expected = local.ingest([folder, dumps[-1]])
    got = tray.ingest((tmp_path / "ray").as_uri(), [folder.as_uri(), dumps[-1].as_uri()])
    assert got["tasks"] == len(dumps)
    assert got["rows_written"] == expected["rows_written"]
    for dataset in ("klines", "aggtrades"):
        assert store_rows(tmp_path / "ray", dataset).equals(store_rows(tmp_path / "local", dataset))


def test_a_task_killed_after_writing_is_retried_and_the_store_equals_a_clean_run(ray_cluster, dumps, tmp_path):
    marker = tmp_path / "killed"

    def die_once(task: str, manifest: str, started: float) -> None:
        # The first attempt of task 2 has written its files and manifest, then its worker dies;
        # only ever inside a Ray worker, never in the test's own process.
        if ray.get_runtime_context().worker.mode != ray.WORKER_MODE:
            return
        if task == "000002" and not marker.exists():
            marker.write_text(json.loads(manifest)["dir"])
            os._exit(1)

    clean = tray.ingest(tmp_path / "clean", dumps)
    got = tray.ingest(tmp_path / "ray", dumps, _after_stage=die_once)
    assert marker.exists()  # the kill happened; Ray ran the task again
    assert got["rows_written"] == clean["rows_written"] and got["rows_duplicate"] == clean["rows_duplicate"]
    for dataset in ("klines", "aggtrades"):
        assert store_rows(tmp_path / "ray", dataset).equals(store_rows(tmp_path / "clean", dataset))
    # The dead attempt's folder went with the job's; its files were never listed.
    assert staging_jobs(tmp_path / "ray") == []
    files = tickforge.Store(tmp_path / "ray").files("klines")
    assert len({f["path"] for f in files}) == len(files)


def test_an_unreadable_file_fails_the_job_and_commits_nothing(ray_cluster, dumps, tmp_path):
    bad = tmp_path / "BTCUSDT-1m-2024-03-01.csv"
    bad.write_text("1709251200000,not a price\n")
    root = tmp_path / "ray"
    tickforge.Store(root).ingest(dumps[0])
    with pytest.raises(Exception, match=bad.name):
        tray.ingest(root, [*dumps, bad], max_in_flight=2)
    assert tickforge.Store(root).info()["version"] == 1
    assert staging_jobs(root) == []
    got = tray.ingest(root, [*dumps, bad], skip_bad_files=True)
    assert [b["path"] for b in got["bad_files"]] == [str(bad)]
    assert bad.name in got["bad_files"][0]["error"]
    local = tickforge.Store(tmp_path / "local")
    local.ingest(dumps)
    for dataset in ("klines", "aggtrades"):
        assert store_rows(root, dataset).equals(store_rows(tmp_path / "local", dataset))


def test_a_driver_killed_before_the_commit_leaves_the_store_as_it_was(ray_cluster, dumps, tmp_path):
    root = tmp_path / "ray"
    tickforge.Store(root).ingest(dumps[0])
    before = store_rows(root, "aggtrades")
    script = textwrap.dedent(f"""
        import os, ray
        import tickforge.ray as tray
        ray.init(address={ray.get_runtime_context().gcs_address!r}, log_to_driver=False)
        run = tray._run_tasks
        def run_then_die(*args, **kwargs):
            run(*args, **kwargs)  # every task staged its file ...
            os._exit(9)           # ... and the driver dies before its commit
        tray._run_tasks = run_then_die
        tray.ingest({str(root)!r}, {[str(p) for p in dumps]!r})
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 9, done.stderr[-3000:]
    store = tickforge.Store(root)
    assert store.info()["version"] == 1
    assert store_rows(root, "aggtrades").equals(before)
    assert len(staging_jobs(root)) == 1  # its leftovers, until a vacuum
    store.write("extra", klines("ZZZ", 9), type="klines")  # another commit leaves them alone
    assert len(staging_jobs(root)) == 1
    store.vacuum(older_than=0)
    assert staging_jobs(root) == []


def test_build_books_on_ray_equals_the_local_build(ray_cluster, tmp_path):
    inputs = tickforge.synth_mbo(tmp_path / "mbo", symbols=2, days=3, messages_per_day=3000)
    assert len(inputs) == 3
    local = tickforge.build_books(inputs, tmp_path / "local", levels=5)
    got = tray.build_books(inputs, (tmp_path / "ray").as_uri(), levels=5, max_in_flight=2)
    assert [g.pop("output") for g in got] == [str(tmp_path / "ray" / Path(lo.pop("output")).name) for lo in local]
    assert got == local
    names = sorted(p.name for p in (tmp_path / "local").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "ray").iterdir()) and len(names) == 3
    for name in names:
        assert pq_read(tmp_path / "ray" / name).equals(pq_read(tmp_path / "local" / name)), name
    bad = tmp_path / "nope.dbn"
    bad.write_bytes(b"DBN\x02 not really")
    with pytest.raises(Exception, match="nope.dbn"):
        tray.build_books([*inputs, bad], tmp_path / "bad")


def pq_read(path: Path) -> pa.Table:
    import pyarrow.parquet as pq
    return pq.read_table(path)


def test_read_store_takes_a_file_uri_and_refuses_other_filesystems(ray_cluster, history):
    got = pa.concat_tables(ray.get(tray.read_store(history.as_uri(), "klines", version=2).to_arrow_refs()))
    want = tickforge.Store(history).read("klines", version=2)
    assert sort(got).equals(sort(want))
    # The store's commit renames files in place: a store must be on a mounted filesystem.
    with pytest.raises(ValueError, match="mounted"):
        tray.read_store("mock:///store", "klines")


def test_inputs_on_a_non_local_arrow_filesystem_are_listed_and_copied_through_it(dumps, tmp_path, monkeypatch):
    """The ingest's input side through Arrow's filesystem layer alone: a SubTreeFileSystem over
    the dumps' folder, under a made-up scheme, stands for s3:// or gs:// (a Ray worker is a
    process of its own, so this runs the two steps a task runs, in this process)."""
    import pyarrow.fs as pafs

    base = next(p for p in dumps[0].parents if p.name == "data").parent
    subtree = pafs.SubTreeFileSystem(str(base), pafs.LocalFileSystem())
    local_from_uri = tray._filesystem

    def from_uri(location):
        text = os.fspath(location)
        return (subtree, text[len("sub://"):]) if text.startswith("sub://") else local_from_uri(text)

    monkeypatch.setattr(tray, "_filesystem", from_uri)
    listed = tray._expand(["sub://data"])
    want = sorted(p.relative_to(base).as_posix() for p in dumps if base / "data" in p.parents)
    assert len(want) == len(dumps) - 1  # all but the copy in another folder
    assert listed == [f"sub://{name}" for name in want]
    copies = []
    for source in listed:
        with tray._readable_here(source) as path:
            assert not path.startswith(str(base))  # a copy in a temporary folder, its name kept
            assert Path(path).name == Path(source).name
            assert Path(path).read_bytes() == (base / source[len("sub://"):]).read_bytes()
            copies.append(path)
    assert not any(Path(p).exists() for p in copies)  # removed after use
