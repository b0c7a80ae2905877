"""The state file and the cleanup of leftovers from crashed runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from plowline.conformance.services.procs import ProcessRef, group_members, pid_alive, spawn
from plowline.conformance.services.state import (
    InstanceRecord,
    StateStore,
    clean_stale,
    new_tempdir,
)


def dead_pid() -> ProcessRef:
    """A pid that existed a moment ago and has exited (and was reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    ref = ProcessRef.of(proc.pid)
    proc.wait()
    return ref


def record(
    tmpdir: Path, pid: ProcessRef, owner: ProcessRef | None, *, paused: bool = False
) -> InstanceRecord:
    return InstanceRecord(
        id=f"test-{tmpdir.name}",
        kind="kafka",
        backend="fake",
        pid=pid.pid,
        start_ticks=pid.start_ticks,
        tmpdir=str(tmpdir),
        log_path=str(tmpdir / "log"),
        endpoint={"address": "127.0.0.1:1"},
        env={"PLOWLINE_KAFKA_BOOTSTRAP": "127.0.0.1:1"},
        owner_pid=owner.pid if owner else None,
        owner_start_ticks=owner.start_ticks if owner else None,
        paused=paused,
    )


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "state" / "state.json")


@pytest.fixture
def temp_root(tmp_path: Path) -> Path:
    root = tmp_path / "tmp"
    root.mkdir()
    return root


def sleeper(tmpdir: Path) -> subprocess.Popen[bytes]:
    return spawn([sys.executable, "-c", "import time; time.sleep(120)"], log_path=tmpdir / "log")


def test_records_round_trip(store: StateStore, temp_root: Path) -> None:
    tmpdir = new_tempdir("kafka", temp_root)
    rec = record(tmpdir, ProcessRef.of(os.getpid()), None)
    store.add(rec)
    assert store.load() == [rec]
    store.remove(rec.id)
    assert store.load() == []


def test_corrupt_state_file_is_set_aside(store: StateStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text("{ not json")
    assert store.load() == []
    assert list(store.path.parent.glob("state.corrupt-*"))


def test_service_whose_owner_died_is_stopped_and_removed(
    store: StateStore, temp_root: Path
) -> None:
    tmpdir = new_tempdir("kafka", temp_root)
    child = sleeper(tmpdir)
    store.add(record(tmpdir, ProcessRef.of(child.pid), dead_pid()))

    cleaned = clean_stale(store, temp_root)

    child.wait(timeout=10)
    assert any("its owner exited" in line for line in cleaned)
    assert store.load() == []
    assert not tmpdir.exists()


def test_live_owned_and_detached_services_are_kept(store: StateStore, temp_root: Path) -> None:
    owned_dir, detached_dir = new_tempdir("kafka", temp_root), new_tempdir("aws", temp_root)
    owned, detached = sleeper(owned_dir), sleeper(detached_dir)
    try:
        store.add(record(owned_dir, ProcessRef.of(owned.pid), ProcessRef.of(os.getpid())))
        store.add(record(detached_dir, ProcessRef.of(detached.pid), None))
        assert clean_stale(store, temp_root) == []
        assert len(store.load()) == 2
        assert owned_dir.exists()
        assert detached_dir.exists()
    finally:
        for child in (owned, detached):
            child.kill()
            child.wait()


def test_paused_service_of_a_live_owner_keeps_its_data(store: StateStore, temp_root: Path) -> None:
    tmpdir = new_tempdir("postgres", temp_root)
    store.add(record(tmpdir, dead_pid(), ProcessRef.of(os.getpid()), paused=True))
    assert clean_stale(store, temp_root) == []
    assert tmpdir.exists()


def test_dead_service_record_and_its_dir_are_removed(store: StateStore, temp_root: Path) -> None:
    tmpdir = new_tempdir("postgres", temp_root)
    store.add(record(tmpdir, dead_pid(), None))
    cleaned = clean_stale(store, temp_root)
    assert any("its process is gone" in line for line in cleaned)
    assert not tmpdir.exists()


def test_orphaned_helpers_of_a_dead_leader_are_killed(store: StateStore, temp_root: Path) -> None:
    # The leader dies abruptly and leaves a helper in its group (as Kinesis' emulator could).
    tmpdir = new_tempdir("aws", temp_root)
    leader = spawn(["sh", "-c", "sleep 120 & echo started; wait"], log_path=tmpdir / "log")
    deadline = time.monotonic() + 10
    while len(group_members(leader.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    ref = ProcessRef.of(leader.pid)
    store.add(record(tmpdir, ref, None))
    os.kill(leader.pid, signal.SIGKILL)
    leader.wait()
    assert group_members(leader.pid)  # the helper survived its leader

    clean_stale(store, temp_root)

    deadline = time.monotonic() + 10
    while group_members(leader.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert group_members(leader.pid) == []
    assert not tmpdir.exists()


def test_orphaned_temp_dirs_follow_their_owner_pid(store: StateStore, temp_root: Path) -> None:
    gone = dead_pid()
    orphan = temp_root / f"plowline-svc-kafka-{gone.pid}-abc123"
    orphan.mkdir()
    (orphan / "data").mkdir()
    ours = new_tempdir("kafka", temp_root)  # owner: this live process
    unrelated = temp_root / "someone-else"
    unrelated.mkdir()

    cleaned = clean_stale(store, temp_root)

    assert not orphan.exists()
    assert any(str(orphan) in line for line in cleaned)
    assert ours.exists()
    assert unrelated.exists()
    assert pid_alive(os.getpid())


def test_another_stores_live_service_keeps_its_temp_dir(tmp_path: Path, temp_root: Path) -> None:
    """The starter (pid in the name) is gone; the in-use marker names a live service."""
    starter = dead_pid()
    mine, theirs = (
        StateStore(tmp_path / "a" / "state.json"),
        StateStore(tmp_path / "b" / "state.json"),
    )
    live_dir = temp_root / f"plowline-svc-postgres-{starter.pid}-live"
    dead_dir = temp_root / f"plowline-svc-postgres-{starter.pid}-dead"
    live_dir.mkdir()
    dead_dir.mkdir()
    service = sleeper(live_dir)
    try:
        theirs.add(record(live_dir, ProcessRef.of(service.pid), None))
        theirs.add(record(dead_dir, dead_pid(), None))
        theirs.remove(f"test-{dead_dir.name}")  # a dir left behind by a service that died

        cleaned = clean_stale(mine, temp_root)

        assert live_dir.exists()
        assert not dead_dir.exists()
        assert cleaned == [f"orphaned temp dir {dead_dir}; removed"]
    finally:
        service.kill()
        service.wait()
