"""What the wheel promises, checked on the build under test: one version everywhere."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

import tickforge
from conftest import REPO_ROOT


def cmake_version() -> str:
    """Return the version the wheel's metadata takes: pyproject's regex over its input file."""
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"], "the version is written only in CMakeLists.txt"
    assert "version" in pyproject["project"]["dynamic"]
    (entry,) = [e for e in pyproject["tool"]["dynamic-metadata"] if e.get("field") == "version"]
    assert entry["provider"] == "scikit_build_core.metadata.regex"
    assert entry["input"] == "CMakeLists.txt"
    text = (REPO_ROOT / entry["input"]).read_text()
    match = re.search(entry["regex"], text, re.MULTILINE)
    assert match, f"{entry['regex']!r} finds nothing in {entry['input']}"
    # The same line CMake reads: project(tickforge VERSION x.y.z ...) feeds util/version.h.
    assert re.search(rf"^project\(tickforge VERSION {re.escape(match['value'])}[ )]", text, re.MULTILINE)
    return match["value"]


def test_one_version_for_module_command_and_metadata():
    version = cmake_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert tickforge.__version__ == version
    exe = tickforge.native_cli()
    if not exe.exists():
        pytest.skip(f"native command not found: {exe} (set TICKFORGE_CLI)")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"tickforge {version}"
