"""What the wheel promises, checked on the build under test: one version everywhere, and every
symbol the extension module and the command need defined by the pyarrow they load.

tests/test_wheel.py repeats both on the built manylinux wheel in a fresh environment.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pyarrow as pa
import pytest

import tickforge
from conftest import REPO_ROOT
from elf_check import ARROW_SONAME, check_symbols


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


def pyarrow_library_dir() -> Path:
    return Path(pa.get_library_dirs()[0]).resolve()


def test_one_version_for_module_command_and_metadata():
    version = cmake_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert tickforge.__version__ == version
    exe = tickforge.native_cli()
    if not exe.exists():
        pytest.skip(f"native command not found: {exe} (set TICKFORGE_CLI)")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"tickforge {version}"


def check_against_pyarrow(elf: Path, host: Path | None = None) -> None:
    """Assert every symbol ``elf`` needs is defined where the loader looks, and that its Arrow
    libraries are those of the running pyarrow, with the SONAME of its major release."""
    report = check_symbols(elf, host)
    assert not report.missing, f"{elf}: {len(report.missing)} undefined symbols: {report.missing[:20]}"
    assert report.arrow_libraries, f"{elf} loads no Arrow library: {report.libraries}"
    major = pa.__version__.split(".")[0]
    for soname, path in report.arrow_libraries.items():
        assert ARROW_SONAME.match(soname)[2] == f"{major}00", soname
        assert path.resolve().parent == pyarrow_library_dir(), (soname, path)
    # Hundreds of Arrow and Parquet entry points come from pyarrow's libraries.
    assert report.from_arrow > 100, report.from_arrow


def test_extension_symbols_resolve_against_pyarrow():
    check_against_pyarrow(Path(tickforge._tickforge.__file__), host=Path(sys.executable))


def test_command_symbols_resolve_against_pyarrow():
    exe = tickforge.native_cli()
    if not exe.exists():
        pytest.skip(f"native command not found: {exe} (set TICKFORGE_CLI)")
    check_against_pyarrow(exe)


def test_symbol_check_reports_what_is_missing(tmp_path):
    # A program that needs a symbol nothing defines must show up as missing, or the checks
    # above could pass without looking.
    source = tmp_path / "needs.cc"
    source.write_text('extern "C" int tickforge_not_defined_anywhere();\n'
                      "int main() { return tickforge_not_defined_anywhere(); }\n")
    lib = tmp_path / "libstub.so"
    stub = tmp_path / "stub.cc"
    stub.write_text('extern "C" int tickforge_not_defined_anywhere() { return 0; }\n')
    subprocess.run(["g++", "-shared", "-fPIC", "-o", str(lib), str(stub)], check=True)
    exe = tmp_path / "needs"
    subprocess.run(["g++", "-o", str(exe), str(source), f"-L{tmp_path}", "-lstub",
                    f"-Wl,-rpath,{tmp_path}"], check=True)
    assert check_symbols(exe).missing == []
    stub.write_text('extern "C" int something_else() { return 0; }\n')  # same SONAME, symbol gone
    subprocess.run(["g++", "-shared", "-fPIC", "-o", str(lib), str(stub)], check=True)
    assert check_symbols(exe).missing == ["tickforge_not_defined_anywhere"]
