"""`plowline services up/status/down` for real, and cleanup after a crashed owner.

Each test uses its own cache dir (so its own state file) and PostgreSQL, the quickest
service, so they stay fast; the same code paths serve Kafka and LocalStack.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from plowline.conformance.services.procs import pid_alive

CRASHING_OWNER = """
import time
from plowline.conformance.services import Provisioner, ServiceKind, Settings
handle = Provisioner(Settings.from_env()).provision(ServiceKind.POSTGRES)
print(handle.pid, handle.tmpdir, handle.endpoint.dsn, flush=True)
time.sleep(600)
"""


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PLOWLINE_")}
    environment.update(
        {"PLOWLINE_CACHE_DIR": str(tmp_path / "cache"), "PLOWLINE_SERVICES_DOCKER": "never"}
    )
    yield environment
    plowline(environment, "down", "--all")  # whatever a failed assertion left running


def plowline(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plowline.conformance.cli", "services", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


@pytest.mark.postgres
def test_up_status_down_leaves_nothing_behind(env: dict[str, str]) -> None:
    up = plowline(env, "up", "postgres")
    assert up.returncode == 0, up.stderr
    print(up.stderr)
    exports = dict(re.findall(r"^export (\w+)=(\S+)$", up.stdout, flags=re.MULTILINE))
    dsn = exports["PLOWLINE_POSTGRES_DSN"]
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    pid = int(re.search(r"pid (\d+)", up.stderr).group(1))  # type: ignore[union-attr]
    tmpdir = Path(re.search(r"temp dir (\S+)\)", up.stderr).group(1))  # type: ignore[union-attr]
    assert tmpdir.exists()

    again = plowline(env, "up", "postgres")  # idempotent: the running one is reused
    assert "already running" in again.stderr
    assert again.stdout == up.stdout

    status = plowline(env, "status")
    assert status.returncode == 0
    assert "healthy" in status.stdout
    assert plowline(env, "env").stdout == up.stdout

    down = plowline(env, "down")
    assert down.returncode == 0
    assert "stopped postgres" in down.stdout
    assert not pid_alive(pid)
    assert not tmpdir.exists()
    assert "no services recorded" in plowline(env, "status").stdout


@pytest.mark.postgres
def test_leftovers_of_a_crashed_owner_are_cleaned_on_next_start(env: dict[str, str]) -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", CRASHING_OWNER], stdout=subprocess.PIPE, text=True, env=env
    )
    assert owner.stdout is not None
    pid_text, tmpdir_text, _dsn = owner.stdout.readline().split()
    pid, tmpdir = int(pid_text), Path(tmpdir_text)
    owner.kill()  # the owner crashes: no chance to stop its PostgreSQL
    owner.wait()
    owner.stdout.close()
    assert pid_alive(pid)
    assert "(exited: stale)" in plowline(env, "status").stdout

    up = plowline(env, "up", "postgres")
    assert up.returncode == 0, up.stderr
    assert f"(pid {pid}): its owner exited; cleaned up" in up.stderr
    deadline = time.monotonic() + 30
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pid_alive(pid)
    assert not tmpdir.exists()
    assert plowline(env, "down").returncode == 0


@pytest.mark.postgres
def test_another_cache_dirs_start_never_removes_a_live_services_data(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Two users of one machine (two cache dirs, two state files) share the temp root.

    The first's PostgreSQL was started by a short-lived `up` command, so the pid in its temp
    dir's name is gone; the second's cleanup must still see that the dir is in use.
    """
    first = plowline(env, "up", "postgres")
    assert first.returncode == 0, first.stderr
    pid = int(re.search(r"pid (\d+)", first.stderr).group(1))  # type: ignore[union-attr]
    tmpdir = Path(re.search(r"temp dir (\S+)\)", first.stderr).group(1))  # type: ignore[union-attr]
    dsn = dict(re.findall(r"^export (\w+)=(\S+)$", first.stdout, flags=re.MULTILINE))[
        "PLOWLINE_POSTGRES_DSN"
    ]
    other = {**env, "PLOWLINE_CACHE_DIR": str(tmp_path / "other-user-cache")}
    try:
        second = plowline(other, "up", "postgres")
        assert second.returncode == 0, second.stderr
        assert str(tmpdir) not in second.stderr
        assert tmpdir.exists()
        assert pid_alive(pid)
        with psycopg.connect(dsn) as conn:  # the first user's PostgreSQL still answers
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        plowline(other, "down", "--all")
