"""Progress of the long commands and functions (issue 13).

The CLI draws one progress line on stderr only when it is a terminal (run here under a
pseudo-terminal from the ``pty`` module), and ``--json`` prints the final summary as one JSON
object. The Python functions take ``progress=``: a callable gets one dict per update with
counts that never go down and end at the totals; a callable that raises stops the work with
that very exception and leaves no output. Row counts are checked against Databento's own
decoder (``databento.DBNStore``) and against the Parquet footers pyarrow reads.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import tickforge

# Small windows, so small files give labels (as tests/test_label.py does).
SMALL = {"lookback_rows": 50, "lookforward_input": 30, "lookforward_offset": 5, "jump_size": 7,
         "min_symbol_samples": 100}
SETS = [f"--set={k}={v}" for k, v in SMALL.items()]
KEYS = {"stage", "files_done", "files_total", "rows_done", "rows_total", "bytes_done", "bytes_total", "seconds",
        "final"}


class Stop(Exception):
    """What the test callbacks raise; it must come back out of the engine as it went in."""


@pytest.fixture(scope="module")
def dbn_files(tmp_path_factory):
    return tickforge.synth_dbn(tmp_path_factory.mktemp("progress-dbn"), symbols=2, days=3, rows_per_day=3000,
                               seed=5, zstd=False)


@pytest.fixture(scope="module")
def dbn_rows(dbn_files):
    """Records per file, as Databento's decoder counts them."""
    databento = pytest.importorskip("databento")
    return [len(databento.DBNStore.from_file(p).to_ndarray()) for p in dbn_files]


@pytest.fixture(scope="module")
def cli():
    path = tickforge.native_cli()
    if not path.exists():
        pytest.skip("the tickforge command is not built")
    return path


def run_on_pty(args) -> tuple[int, str, str]:
    """Run `args` with stderr on a pseudo-terminal; return (exit code, stdout, what the terminal got)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(a) for a in args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    out = proc.stdout.read().decode()
    proc.wait()
    os.close(master)
    return proc.returncode, out, b"".join(chunks).decode(errors="replace")


def run_piped(args) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True)


def progress_lines(terminal: str) -> list[str]:
    """The states the progress line showed: the text between carriage returns."""
    return [part.replace("\x1b[K", "").strip() for part in terminal.replace("\r\n", "\n").split("\r") if part.strip()]


def assert_monotone(updates: list[dict]) -> None:
    """Within each stage, counts never go down and only the last update is final."""
    for u in updates:
        assert set(u) == KEYS
    by_stage: dict[str, list[dict]] = {}
    for u in updates:
        by_stage.setdefault(u["stage"], []).append(u)
    for stage, seen in by_stage.items():
        for key in ("files_done", "rows_done", "bytes_done", "seconds"):
            values = [u[key] for u in seen]
            assert values == sorted(values), (stage, key, values)
        assert [u["final"] for u in seen] == [False] * (len(seen) - 1) + [True], stage
        last = seen[-1]
        for what in ("files", "rows", "bytes"):
            assert last[f"{what}_done"] == last[f"{what}_total"], (stage, what, last)


def stages(updates: list[dict]) -> list[str]:
    out: list[str] = []
    for u in updates:
        if not out or out[-1] != u["stage"]:
            out.append(u["stage"])
    return out


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------


def test_label_run_draws_one_line_on_a_terminal(cli, dbn_files, dbn_rows, tmp_path):
    code, out, terminal = run_on_pty([cli, "label", "run", "--input", *dbn_files, "--out", tmp_path / "out", *SETS])
    assert code == 0, terminal
    lines = progress_lines(terminal)
    split = [line for line in lines if line.startswith("label split")]
    build = [line for line in lines if line.startswith("label build")]
    assert split and build and any(line.startswith("label fit") for line in lines), lines
    assert "[0/3 files]" in split[0]
    assert split[-1].startswith(f"label split  [3/3 files] {tickforge_count(sum(dbn_rows))} rows"), split[-1]
    assert "rows/s" in split[-1]
    # The line is rewritten in place, and a newline leaves the terminal clean at the end.
    assert terminal.count("\r\n") >= 1 and terminal.endswith("\n")
    assert "\x1b[K" in terminal
    assert "rows in" in out  # the summary still goes to stdout


def tickforge_count(n: int) -> str:
    """The CLI's compact count (cli/format.h FormatCount), written again here."""
    for limit, unit in ((1e3, ""), (1e6, "k"), (1e9, "M")):
        if n < limit:
            return f"{n}" if not unit else f"{n / (limit / 1e3):.1f}{unit}"
    return f"{n / 1e9:.1f}G"


def test_no_progress_when_stderr_is_not_a_terminal(cli, dbn_files, tmp_path):
    proc = run_piped([cli, "label", "run", "--input", *dbn_files, "--out", tmp_path / "out", *SETS])
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr and "files]" not in proc.stderr and "label split" not in proc.stderr
    proc = run_piped([cli, "store", "ingest", tmp_path / "store", *dbn_files])
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def test_label_run_json_counts_the_rows_of_the_files(cli, dbn_files, dbn_rows, tmp_path):
    proc = run_piped([cli, "label", "run", "--input", *dbn_files, "--out", tmp_path / "out", *SETS, "--json"])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["totals"]["rows_in"] == sum(dbn_rows)
    assert sum(s["rows_in"] for s in doc["symbols"].values()) == sum(dbn_rows)
    written = sum(pq.ParquetFile(tmp_path / "out" / s["output"]).metadata.num_rows
                  for s in doc["symbols"].values() if "output" in s)
    assert doc["totals"]["valid"] == written  # a dataset holds every valid row of its symbol
    fit = run_piped([cli, "label", "fit", "--input", *dbn_files, "--out", tmp_path / "t.json", *SETS, "--json"])
    assert fit.returncode == 0, fit.stderr
    assert json.loads(fit.stdout) == json.loads((tmp_path / "t.json").read_text())


def test_store_ingest_progress_and_json(cli, dbn_files, dbn_rows, tmp_path):
    code, out, terminal = run_on_pty([cli, "store", "ingest", tmp_path / "store", *dbn_files, "--json"])
    assert code == 0, terminal
    lines = [line for line in progress_lines(terminal) if line.startswith("store ingest")]
    assert lines and lines[-1].startswith(f"store ingest  [3/3 files] {tickforge_count(sum(dbn_rows))} rows")
    assert terminal.endswith("\n")
    doc = json.loads(out)
    assert doc["rows_in"] == sum(dbn_rows)


def test_dbn_to_parquet_json(cli, dbn_files, dbn_rows, tmp_path):
    proc = run_piped([cli, "dbn", "to-parquet", *dbn_files, "--out", tmp_path, "--json"])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["rows"] == sum(dbn_rows)
    assert [f["rows"] for f in doc["files"]] == dbn_rows
    assert [pq.ParquetFile(f["output"]).metadata.num_rows for f in doc["files"]] == dbn_rows
    code, _, terminal = run_on_pty([cli, "dbn", "to-parquet", *dbn_files, "--out", tmp_path / "again"])
    assert code == 0, terminal
    assert progress_lines(terminal)[-1].startswith("dbn to-parquet  [3/3 files]")


@pytest.fixture(scope="module")
def mbo_files(tmp_path_factory):
    return tickforge.synth_mbo(tmp_path_factory.mktemp("progress-mbo"), symbols=2, publishers=1, days=2,
                               messages_per_day=5000, seed=3)


def test_book_build_json_and_progress(cli, mbo_files, tmp_path):
    proc = run_piped([cli, "book", "build", *mbo_files, "--out", tmp_path, "--json"])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    rows = [pq.ParquetFile(f["output"]).metadata.num_rows for f in doc["files"]]
    assert [f["rows"] for f in doc["files"]] == rows
    assert doc["rows"] == sum(rows) > 0
    code, _, terminal = run_on_pty([cli, "book", "build", *mbo_files, "--out", tmp_path / "again"])
    assert code == 0, terminal
    last = progress_lines(terminal)[-1]
    assert last.startswith(f"book build  [{len(mbo_files)}/{len(mbo_files)} files] {tickforge_count(sum(rows))} rows")


def labeled_by_symbol(dbn_files, root: Path) -> list[Path]:
    """Label the files; return the datasets linked as SYMBOL.parquet (the panel's input names)."""
    report = tickforge.label_run(dbn_files, root / "labeled", **SMALL)
    (root / "by_symbol").mkdir()
    inputs = []
    for name, entry in report["symbols"].items():
        if "output" in entry:
            inputs.append(root / "by_symbol" / f"{name}.parquet")
            inputs[-1].symlink_to(root / "labeled" / entry["output"])
    assert len(inputs) == 2
    return inputs


def test_panel_build_json_and_progress(cli, dbn_files, tmp_path):
    inputs = labeled_by_symbol(dbn_files, tmp_path)
    rows_in = sum(pq.ParquetFile(p).metadata.num_rows for p in inputs)
    proc = run_piped([cli, "panel", "build", "--input", *inputs, "--out", tmp_path / "panel.parquet", "--json"])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["rows_out"] == rows_in == pq.ParquetFile(tmp_path / "panel.parquet").metadata.num_rows
    code, _, terminal = run_on_pty([cli, "panel", "build", "--input", *inputs, "--out", tmp_path / "p2.parquet"])
    assert code == 0, terminal
    assert progress_lines(terminal)[-1].startswith(f"panel build  {tickforge_count(rows_in)} rows")


# ---------------------------------------------------------------------------------------------
# Python progress= callbacks
# ---------------------------------------------------------------------------------------------


def test_label_run_callback_sees_each_stage_to_its_totals(dbn_files, dbn_rows, tmp_path):
    updates: list[dict] = []
    report = tickforge.label_run(dbn_files, tmp_path / "out", progress=updates.append, **SMALL)
    assert stages(updates) == ["split", "fit", "build"]
    assert_monotone(updates)
    split = [u for u in updates if u["stage"] == "split"]
    assert split[0]["files_total"] == 3 and split[0]["rows_done"] == 0
    assert split[0]["bytes_total"] == sum(Path(p).stat().st_size for p in dbn_files)
    assert split[-1]["rows_done"] == sum(dbn_rows) == report["totals"]["rows_in"]
    build = [u for u in updates if u["stage"] == "build"][-1]
    assert build["files_done"] == len(report["symbols"])
    assert build["rows_done"] == report["totals"]["valid"]
    fit = [u for u in updates if u["stage"] == "fit"][-1]
    thresholds = json.loads((tmp_path / "out" / "thresholds.json").read_text())
    assert fit["rows_done"] == thresholds["sample_size"]


def test_label_store_callback(dbn_files, dbn_rows, tmp_path):
    updates: list[dict] = []
    tickforge.label_store("fit", inputs=dbn_files, out=tmp_path / "t.json", progress=updates.append, **SMALL)
    assert stages(updates) == ["split", "fit"]
    assert_monotone(updates)
    assert [u for u in updates if u["stage"] == "split"][-1]["rows_done"] == sum(dbn_rows)


def test_store_ingest_callback(dbn_files, dbn_rows, tmp_path):
    updates: list[dict] = []
    store = tickforge.Store(tmp_path / "store")
    info = store.ingest(dbn_files, progress=updates.append)
    assert stages(updates) == ["ingest"]
    assert_monotone(updates)
    last = updates[-1]
    assert last["files_done"] == 3
    assert last["rows_done"] == sum(dbn_rows) == info["rows_in"]
    assert last["bytes_done"] == sum(Path(p).stat().st_size for p in dbn_files)


def test_dbn_to_parquet_callback(dbn_files, dbn_rows, tmp_path):
    updates: list[dict] = []
    tickforge.dbn_to_parquet(dbn_files, tmp_path, progress=updates.append)
    assert stages(updates) == ["to-parquet"]
    assert_monotone(updates)
    assert updates[-1]["rows_done"] == sum(dbn_rows)
    assert updates[-1]["bytes_done"] == sum(Path(p).stat().st_size for p in dbn_files)


def test_build_books_and_panel_callbacks(mbo_files, dbn_files, tmp_path):
    updates: list[dict] = []
    summaries = tickforge.build_books(mbo_files, tmp_path / "books", progress=updates.append)
    assert_monotone(updates)
    assert updates[-1]["rows_done"] == sum(pq.ParquetFile(s["output"]).metadata.num_rows for s in summaries)
    inputs = labeled_by_symbol(dbn_files, tmp_path)
    panel_updates: list[dict] = []
    panel = tickforge.streaming_concat({p.stem: pq.read_table(p) for p in inputs})
    panel.sink_parquet(tmp_path / "panel.parquet", progress=panel_updates.append)
    assert stages(panel_updates) == ["build"]
    assert_monotone(panel_updates)
    assert panel_updates[-1]["rows_done"] == pq.ParquetFile(tmp_path / "panel.parquet").metadata.num_rows


# ---------------------------------------------------------------------------------------------
# A callback that raises stops the work and leaves nothing
# ---------------------------------------------------------------------------------------------


def raise_when(predicate):
    def callback(update):
        if predicate(update):
            raise Stop(update["stage"])
    return callback


def parquet_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.parquet")) if root.exists() else []


@pytest.mark.parametrize("stage", ["split", "fit", "build"])
def test_label_run_stops_with_the_callbacks_exception(dbn_files, tmp_path, stage):
    out = tmp_path / "out"
    stop = raise_when(lambda u: u["stage"] == stage and (stage == "fit" or u["files_done"] > 0))
    with pytest.raises(Stop, match=stage):
        tickforge.label_run(dbn_files, out, progress=stop, **SMALL)
    assert parquet_files(out) == []
    # Nothing else either (no report, no scratch folder); the thresholds a run fitted before
    # its build stopped stay, as on any failure of the build.
    left = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert left == (["thresholds.json"] if stage == "build" else [])


def test_store_ingest_stops_with_nothing_committed(dbn_files, tmp_path):
    store = tickforge.Store(tmp_path / "store")
    with pytest.raises(Stop):
        store.ingest(dbn_files, progress=raise_when(lambda u: u["files_done"] >= 1))
    assert store.info()["version"] == 0
    assert parquet_files(tmp_path / "store") == []
    # The store still works after the stop.
    assert store.ingest(dbn_files)["version"] == 1


def test_dbn_to_parquet_and_book_build_stop_leave_no_files(dbn_files, mbo_files, tmp_path):
    with pytest.raises(Stop):
        tickforge.dbn_to_parquet(dbn_files, tmp_path / "dbn", progress=raise_when(lambda u: u["files_done"] >= 2))
    assert parquet_files(tmp_path / "dbn") == []
    with pytest.raises(Stop):
        tickforge.build_books(mbo_files, tmp_path / "books", progress=raise_when(lambda u: u["files_done"] >= 1))
    assert parquet_files(tmp_path / "books") == []


def test_panel_write_stops_leaving_no_file(dbn_files, tmp_path):
    inputs = labeled_by_symbol(dbn_files, tmp_path)
    panel = tickforge.streaming_concat({p.stem: pq.read_table(p) for p in inputs})
    with pytest.raises(Stop):
        panel.sink_parquet(tmp_path / "panel.parquet", progress=raise_when(lambda u: u["final"]))
    assert not (tmp_path / "panel.parquet").exists()


def test_progress_must_be_a_callable_or_true(dbn_files, tmp_path):
    with pytest.raises(TypeError, match="progress"):
        tickforge.dbn_to_parquet(dbn_files, tmp_path, progress="yes")


# ---------------------------------------------------------------------------------------------
# progress=True: a tqdm bar
# ---------------------------------------------------------------------------------------------


def test_progress_true_without_tqdm_says_how_to_get_it(dbn_files, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match="pip install tqdm"):
        tickforge.dbn_to_parquet(dbn_files, tmp_path, progress=True)
    assert parquet_files(tmp_path) == []


def test_progress_true_shows_a_tqdm_bar_per_stage(dbn_files, tmp_path, capsys):
    pytest.importorskip("tqdm", reason="tqdm is not installed (requirements-dev.txt)")
    tickforge.label_run(dbn_files, tmp_path / "out", progress=True, **SMALL)
    err = capsys.readouterr().err
    for stage in ("split", "fit", "build"):
        assert stage in err
    assert "3/3" in err
