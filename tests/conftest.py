"""Shared pytest helpers: where the test data lives, the native command, and a hang guard for
native code."""

from __future__ import annotations

import faulthandler
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def cli() -> str:
    """The path of the tickforge command of this install; skip when it is not built."""
    import tickforge

    path = tickforge.native_cli()
    if not path.exists():
        pytest.skip("the tickforge command is not built")
    return str(path)


def run(*args, check=True) -> subprocess.CompletedProcess:
    """Run `tickforge ARGS...`; with check, a non-zero exit fails the test with its output."""
    proc = subprocess.run([cli(), *map(str, args)], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def locate_testdata() -> Path:
    """Return the test data directory: $TICKFORGE_TESTDATA, else <repo>/../shared/testdata.

    A relative $TICKFORGE_TESTDATA is taken relative to the repository root.
    """
    env = os.environ.get("TICKFORGE_TESTDATA")
    if env:
        path = Path(env)
        if not path.is_absolute():
            path = REPO_ROOT / path
    else:
        path = REPO_ROOT.parent / "shared" / "testdata"
    return path.resolve()


def require_testdata(*parts: str) -> Path:
    """Return testdata_dir()/parts, or skip the calling test with a clear message if absent."""
    base = locate_testdata()
    path = base.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"test data not found: {path} (set TICKFORGE_TESTDATA to the testdata directory; "
            f"default is <repo>/../shared/testdata)"
        )
    return path


@pytest.fixture(scope="session")
def testdata() -> Path:
    """The test data directory; skips the test when it is absent."""
    return require_testdata()


@pytest.fixture
def hang_guard():
    """Arm a watchdog that dumps all stacks and kills the process if a test hangs.

    Native code that holds the GIL cannot be interrupted from Python, so a hang would stall
    the whole run silently; this turns it into a loud failure with a traceback instead.
    Call the returned function with a number of seconds to (re)arm it.
    """

    def arm(seconds: float = 120.0) -> None:
        faulthandler.dump_traceback_later(seconds, exit=True, file=sys.stderr)

    arm()
    yield arm
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray cluster of 2 CPUs for the whole test run, started on first use."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install tickforge[ray])")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})
    yield ray
    ray.shutdown()
