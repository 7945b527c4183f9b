"""`tickforge synth mbo`: generated MBO files read by Databento's own decoder, replayed by the
reference book of tests/test_book.py (imported, not rewritten) and by tickforge's book, which
must agree row for row with no anomaly; deterministic bytes; the flow's promises checked here
on the decoded records (live orders only, F_LAST per event, positive sizes, a snapshot first).
"""

from __future__ import annotations

import subprocess
from collections import Counter

import pytest

import tickforge

from test_book import F_LAST, F_SNAPSHOT, _decode, assert_same_rows, reference_rows, tickforge_rows

dbn = pytest.importorskip("databento_dbn")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth-mbo")
    return tickforge.synth_mbo(out, symbols=3, publishers=3, days=2, messages_per_day=40_000, seed=7)


def test_files_decode_with_databento_dbn(files):
    assert [p.name for p in files] == ["glbx-mdp3-20240401.mbo.dbn.zst", "glbx-mdp3-20240402.mbo.dbn.zst"]
    for path in files:
        metadata, records = _decode(path)
        assert str(metadata.schema).lower().endswith("mbo")
        assert metadata.dataset == "GLBX.MDP3"
        assert sorted(metadata.symbols) == sorted(["M6AM4", "M6EM4", "6AM4"])
        books = {(r.instrument_id, r.publisher_id) for r in records}
        assert len(books) == 9
        flow = [r for r in records if not int(r.flags) & F_SNAPSHOT]
        assert len(flow) == 40_000
        # The snapshot comes first: one Clear per book, then its orders.
        snapshot = records[: len(records) - len(flow)]
        assert all(int(r.flags) & F_SNAPSHOT for r in snapshot)
        assert Counter(str(r.action) for r in snapshot)["R"] == 9
        actions = Counter(str(r.action) for r in flow)
        assert set(actions) == {"A", "C", "M", "T", "F", "R"}, actions
        assert actions["R"] == 1
        ts = [r.ts_recv for r in records]
        assert ts == sorted(ts)


def test_every_cancel_modify_and_fill_names_a_live_order(files):
    live = {}  # (book, order id) -> size
    for path in files:
        _, records = _decode(path)
        for i, r in enumerate(records):
            key = ((r.instrument_id, r.publisher_id), r.order_id)
            action = str(r.action)
            if action == "R":
                live = {k: v for k, v in live.items() if k[0] != key[0]}
                continue
            assert r.size > 0, (path.name, i, r)
            if action == "A":
                assert key not in live
                live[key] = r.size
            elif action in ("C", "M", "F"):
                assert key in live, f"{path.name} record {i}: {action} of an order that is not resting"
                if action == "M":
                    live[key] = r.size
                elif action == "C":
                    assert r.size <= live[key]
                    live[key] -= r.size
                    if live[key] == 0:
                        del live[key]
            # An event's last record carries F_LAST: a Trade and a Fill are followed by more.
            if action in ("T", "F"):
                assert not int(r.flags) & F_LAST
            if action in ("A", "M") and not int(r.flags) & F_SNAPSHOT:
                assert int(r.flags) & F_LAST
        assert int(records[-1].flags) & F_LAST


def test_tickforge_book_equals_the_reference_book_with_no_anomaly(files):
    for path in files:
        metadata, records = _decode(path)
        expected, anomalies = reference_rows(metadata, records)
        assert not anomalies
        assert_same_rows(tickforge_rows(tickforge.read_book(path)), expected, path.name)
        summary = tickforge.replay_book(path)
        assert summary["anomaly_total"] == 0 and summary["crossed"] == 0
        assert summary["books"] == 9 and summary["trailing"] == 0


def test_same_seed_same_bytes_and_the_cli(tmp_path, files):
    again = tickforge.synth_mbo(tmp_path / "again", symbols=3, publishers=3, days=2, messages_per_day=40_000, seed=7)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in files]
    other = tickforge.synth_mbo(tmp_path / "other", symbols=3, publishers=3, days=1, messages_per_day=40_000, seed=8)
    assert other[0].read_bytes() != files[0].read_bytes()
    exe = tickforge.native_cli()
    if not exe.exists():
        pytest.skip(f"native command not found: {exe} (set TICKFORGE_CLI)")
    proc = subprocess.run([str(exe), "synth", "mbo", "--symbols", "3", "--publishers", "3", "--days", "1",
                           "--messages-per-day", "40000", "--seed", "7", "--out", str(tmp_path / "cli")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "cli" / files[0].name).read_bytes() == files[0].read_bytes()
    assert "records" in proc.stdout


def test_options_are_checked_and_documented(tmp_path):
    defaults = tickforge.option_defaults("synth_mbo")
    assert set(defaults) == {"symbols", "publishers", "days", "messages_per_day", "seed", "start_date", "dataset",
                             "zstd"}
    assert f"messages_per_day = {defaults['messages_per_day']}" in tickforge.synth_mbo.__doc__
    with pytest.raises(tickforge.TickforgeError, match="publishers must be between 1 and"):
        tickforge.synth_mbo(tmp_path, publishers=0)
    raw = tickforge.synth_mbo(tmp_path, messages_per_day=10, zstd=False, start_date="2024-05-06")
    assert raw[0].name == "glbx-mdp3-20240506.mbo.dbn"
