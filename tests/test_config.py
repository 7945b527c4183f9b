"""The one config layer as users meet it: defaults come from the engine's option structs only,
unknown keys name the file and the nearest known key, and --help, docstrings and
option_defaults() agree."""

from __future__ import annotations

import json
import subprocess

import pyarrow as pa
import pytest
import yaml

import tickforge

NAMES = ["image", "label", "loader", "panel", "ingest", "scan", "compact", "write", "synth_dbn", "synth_binance"]


@pytest.mark.parametrize("name", NAMES)
def test_option_defaults_are_json_of_every_key(name):
    defaults = tickforge.option_defaults(name)
    assert isinstance(defaults, dict) and defaults


def test_option_defaults_unknown_name():
    with pytest.raises(ValueError, match="no options named 'nope'"):
        tickforge.option_defaults("nope")


def test_label_help_lists_the_engine_defaults():
    """`tickforge label fit --help` prints the config keys as YAML that reads back as the defaults."""
    out = subprocess.run([str(tickforge.native_cli()), "label", "fit", "--help"], capture_output=True, text=True,
                         check=True).stdout
    block = out.split("their defaults:\n", 1)[1]
    assert yaml.safe_load(block) == tickforge.option_defaults("label")


def test_panel_help_lists_the_engine_defaults():
    out = subprocess.run([str(tickforge.native_cli()), "panel", "build", "--help"], capture_output=True, text=True,
                         check=True).stdout
    block = out.split("their defaults:\n", 1)[1]
    assert yaml.safe_load(block) == tickforge.option_defaults("panel")


@pytest.mark.parametrize("function,name", [(tickforge.render, "image"), (tickforge.streaming_concat, "panel"),
                                           (tickforge.synth_dbn, "synth_dbn"), (tickforge.synth_binance, "synth_binance")])
def test_docstrings_show_the_engine_defaults(function, name):
    for key, value in tickforge.option_defaults(name).items():
        assert f"{key} = {value!r}" in function.__doc__, key


def test_unknown_label_key_names_the_file_and_suggests(tmp_path):
    config = tmp_path / "label.yaml"
    config.write_text("nbin: 21\n")
    with pytest.raises(tickforge.TickforgeError) as info:
        tickforge.label_fit([tmp_path / "none.dbn"], tmp_path / "t.json", config=config)
    message = str(info.value)
    assert str(config) in message and "unknown key 'nbin'" in message and "did you mean 'nbins'" in message


def test_mistyped_value_names_key_and_type(tmp_path):
    config = tmp_path / "label.yaml"
    config.write_text("nbins: many\n")
    with pytest.raises(tickforge.TickforgeError, match=r"key 'nbins': expected an integer, got \"many\""):
        tickforge.label_fit([tmp_path / "none.dbn"], tmp_path / "t.json", config=config)


def _frames():
    return {s: pa.table({"ts": pa.array([1, 2, 3], pa.int64()), "x": pa.array([1.0, 2.0, 3.0])}) for s in "BA"}


def test_panel_config_file_wins_over_unset_keywords(tmp_path):
    """A keyword left out does not override the config file (it used to send its own default)."""
    config = tmp_path / "pipeline.yaml"
    config.write_text("panel:\n  order: time\n")
    rows = tickforge.streaming_concat(_frames(), config=config).collect()
    assert rows.column("symbol").to_pylist() == ["A", "B"] * 3  # time order
    rows = tickforge.streaming_concat(_frames(), config=config, order="symbol").collect()
    assert rows.column("symbol").to_pylist() == ["A"] * 3 + ["B"] * 3


def test_panel_keyword_unknown_key_suggests(tmp_path):
    config = tmp_path / "pipeline.yaml"
    config.write_text("panel:\n  min_sc: 3\n")
    with pytest.raises(tickforge.TickforgeError, match="did you mean 'min_cs'"):
        tickforge.streaming_concat(_frames(), config=config)


def test_loader_options_fill_in_only_unset_keys(tmp_path):
    from tickforge import _tickforge

    got = json.loads(_tickforge.loader_config(json.dumps({"batch_size": 8, "shuffle": "local"})))
    assert got == dict(tickforge.option_defaults("loader"), batch_size=8, shuffle="local")
    config = tmp_path / "loader.yaml"
    config.write_text("batch_size: 4\nseed: 3\n")
    got = json.loads(_tickforge.loader_config(json.dumps({"config": str(config), "seed": 5})))
    assert (got["batch_size"], got["seed"]) == (4, 5)  # the file, then the arguments over it
    config.write_text("batch_szie: 4\n")
    with pytest.raises(tickforge.TickforgeError, match=r"loader.yaml: unknown key 'batch_szie' \(did you mean 'batch_size'"):
        _tickforge.loader_config(json.dumps({"config": str(config)}))


def test_synth_cli_help_shows_the_struct_defaults():
    out = subprocess.run([str(tickforge.native_cli()), "synth", "binance", "--help"], capture_output=True, text=True,
                         check=True).stdout
    defaults = tickforge.option_defaults("synth_binance")
    assert f"--start TEXT={defaults['start']}" in out and f"--symbols TEXT={defaults['symbols']}" in out
    out = subprocess.run([str(tickforge.native_cli()), "synth", "dbn", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert f"--start-date TEXT={tickforge.option_defaults('synth_dbn')['start_date']}" in out


def test_synth_binance_options_reach_the_generator(tmp_path):
    paths = tickforge.synth_binance(tmp_path, symbols=["ETHUSDT"], kinds="aggtrades", start="2024-03-02")
    assert [p.name for p in paths] == ["ETHUSDT-aggTrades-2024-03-02.csv"]
    with pytest.raises(tickforge.TickforgeError, match="key 'kinds'"):
        tickforge.synth_binance(tmp_path, kinds=["candles"])
