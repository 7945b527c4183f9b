"""Check a built program or extension module against the shared libraries it will load.

The engine links Arrow C++ from the user's pyarrow (any release with the same SONAME), so the
question a wheel has to answer is: does every symbol the extension and the command need exist
in the libraries the dynamic loader will pick for them? ``ldd`` says which libraries those are
(it follows RUNPATH and $ORIGIN as the loader does); ``nm -D`` lists what each one defines.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

# pyarrow's C++ libraries: libarrow.so.2600, libarrow_dataset.so.2600, libparquet.so.2600, ...
ARROW_SONAME = re.compile(r"^lib(arrow|parquet)\w*\.so\.(\d+)$")
_LDD_LINE = re.compile(r"^\s*(\S+) => (not found|\S+)")
_LDD_LOADER = re.compile(r"^\s*(/\S+) \(0x")  # the dynamic loader, which defines __tls_get_addr


def loaded_libraries(elf: Path) -> dict[str, Path]:
    """Return soname -> path for every library the loader loads for ``elf``; fail on a missing one."""
    out = subprocess.run(["ldd", str(elf)], capture_output=True, text=True, check=True).stdout
    libraries: dict[str, Path] = {}
    missing = []
    for line in out.splitlines():
        loader = _LDD_LOADER.match(line)
        if loader:
            libraries[Path(loader.group(1)).name] = Path(loader.group(1))
            continue
        m = _LDD_LINE.match(line)
        if not m:
            continue  # linux-vdso
        if m.group(2) == "not found":
            missing.append(m.group(1))
        else:
            libraries[m.group(1)] = Path(m.group(2))
    if missing:
        raise AssertionError(f"{elf}: the loader finds no {', '.join(missing)}:\n{out}")
    return libraries


def _dynamic_symbols(path: Path, defined: bool) -> list[tuple[str, str, str]]:
    """Return (type, name, version) for the dynamic symbols of ``path`` (version '' if none)."""
    flag = "--defined-only" if defined else "--undefined-only"
    out = subprocess.run(["nm", "-D", flag, str(path)], capture_output=True, text=True, check=True).stdout
    symbols = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        kind, symbol = parts[-2], parts[-1]
        name, _, version = symbol.replace("@@", "@").partition("@")
        symbols.append((kind, name, version))
    return symbols


@dataclass
class SymbolReport:
    """What ``check_symbols`` found for one ELF file."""

    libraries: dict[str, Path]
    needed: int = 0  # strong undefined symbols of the file
    missing: list[str] = field(default_factory=list)  # of those, defined by no loaded object
    from_arrow: int = 0  # of those, defined by pyarrow's libraries
    arrow_libraries: dict[str, Path] = field(default_factory=dict)


def check_symbols(elf: Path, host: Path | None = None) -> SymbolReport:
    """Resolve every strong undefined dynamic symbol of ``elf`` against the libraries the loader
    loads for it, and for an extension module also ``host`` (the interpreter that imports it,
    which supplies the Python C API) and its libraries."""
    libraries = loaded_libraries(elf)
    providers = list(libraries.values())
    if host is not None:
        providers += [host, *loaded_libraries(host).values()]
    arrow = {soname: path for soname, path in libraries.items() if ARROW_SONAME.match(soname)}

    by_name: set[str] = set()
    by_version: set[tuple[str, str]] = set()
    arrow_names: set[str] = set()
    for path in providers:
        for _, name, version in _dynamic_symbols(path, defined=True):
            by_name.add(name)
            by_version.add((name, version))
            if path in arrow.values():
                arrow_names.add(name)

    report = SymbolReport(libraries=libraries, arrow_libraries=arrow)
    for kind, name, version in _dynamic_symbols(elf, defined=False):
        if kind != "U":
            continue  # weak references may stay unresolved
        report.needed += 1
        found = (name, version) in by_version if version else name in by_name
        if not found:
            report.missing.append(f"{name}@{version}" if version else name)
        elif name in arrow_names:
            report.from_arrow += 1
    return report
