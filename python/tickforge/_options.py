"""The engine's option defaults, read from its C++ option structs (their only copy), and the
docstring footer that shows them."""

from __future__ import annotations

import json

from . import _tickforge


def option_defaults(name: str) -> dict:
    """Return the engine's defaults of one option set: image, label, loader, panel, ingest,
    scan, compact, write, synth_dbn, synth_binance or book."""
    return json.loads(_tickforge.option_defaults(name))


def document_defaults(target, name: str) -> None:
    """Append the defaults of option set `name` to the docstring of `target`."""
    lines = [f"        {key} = {value!r}" for key, value in option_defaults(name).items()]
    target.__doc__ += "\n\n    Defaults::\n\n" + "\n".join(lines) + "\n"
