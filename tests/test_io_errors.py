"""I/O failures as a user meets them: on a full disk every writer's error names the file it was
writing and the operating system's reason, leaves no partial output, and keeps what was there."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

import tickforge


@pytest.fixture
def full_disk(tmp_path):
    """A 2 MiB tmpfs (mounting needs root and the right to mount; skipped where refused)."""
    mount = tmp_path / f"tmpfs-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip() or done.returncode}); "
                    "the /dev/full C++ test covers the error path")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture(scope="module")
def dbn_files(tmp_path_factory) -> list[Path]:
    return tickforge.synth_dbn(tmp_path_factory.mktemp("io-dbn"), symbols=2, days=1, rows_per_day=60_000, seed=3)


def test_dbn_to_parquet_on_a_full_disk_names_file_and_reason(full_disk, dbn_files):
    out = full_disk / "parquet"
    done = subprocess.run([str(tickforge.native_cli()), "dbn", "to-parquet", *map(str, dbn_files), "--out", str(out)],
                          capture_output=True, text=True)
    assert done.returncode != 0
    assert str(out) in done.stderr and "No space left on device" in done.stderr, done.stderr
    assert not [p for p in out.rglob("*") if p.is_file()]  # no half-written file, visible or hidden


def test_python_error_carries_the_reason(full_disk, dbn_files):
    with pytest.raises(tickforge.TickforgeError, match="No space left on device") as info:
        tickforge.dbn_to_parquet(dbn_files, full_disk / "py")
    assert str(full_disk / "py") in str(info.value)


def test_store_ingest_on_a_full_disk_keeps_the_previous_snapshot(full_disk, dbn_files, tmp_path):
    store = full_disk / "store"
    small = tickforge.synth_dbn(tmp_path / "small", symbols=1, days=1, rows_per_day=2_000, seed=4)
    tickforge.Store(store).ingest([str(p) for p in small])
    before = tickforge.Store(store).read("mbp10").num_rows
    with pytest.raises(tickforge.TickforgeError, match="No space left on device"):
        tickforge.Store(store).ingest([str(p) for p in dbn_files] * 3)
    assert tickforge.Store(store).read("mbp10").num_rows == before
