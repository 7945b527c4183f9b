"""The engine's option defaults, read from its C++ option structs (their only copy), and the
docstring footer that shows them."""

from __future__ import annotations

import json
import math

from . import _tickforge


def option_defaults(name: str) -> dict:
    """Return the engine's defaults of one option set: image, label, loader, panel, ingest,
    scan, compact, write, synth_dbn, synth_binance or book."""
    return json.loads(_tickforge.option_defaults(name))


def document_defaults(target, name: str) -> None:
    """Append the defaults of option set `name` to the docstring of `target`."""
    lines = [f"        {key} = {value!r}" for key, value in option_defaults(name).items()]
    target.__doc__ += "\n\n    Defaults::\n\n" + "\n".join(lines) + "\n"


def options_json(options) -> str:
    """Return options as the JSON the engine reads. JSON has no NaN or infinity, so such a value
    is a ValueError naming its key (the engine's parser would only say 'invalid literal')."""
    try:
        return json.dumps(options, allow_nan=False)
    except ValueError:
        raise ValueError(f"{', '.join(_non_finite(options))}: options must be finite numbers") from None


def _non_finite(value, key: str = "options"):
    if isinstance(value, float) and not math.isfinite(value):
        yield f"{key}={value!r}"
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _non_finite(v, str(k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _non_finite(v, f"{key}[{i}]")
