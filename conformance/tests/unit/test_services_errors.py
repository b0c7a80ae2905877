"""Missing programs and unreachable registries give errors that say what to install or check."""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from plowline.conformance.services.aws import find_localstack_python
from plowline.conformance.services.config import Settings
from plowline.conformance.services.errors import DownloadError, MissingDependencyError
from plowline.conformance.services.kafka import check_java, ensure_jars, find_java, parse_java_major
from plowline.conformance.services.postgres import find_pg_bin


def test_missing_dependency_names_the_package() -> None:
    error = MissingDependencyError("initdb", "postgresql", "a cluster needs it")
    assert error.package == "postgresql"
    assert "apt-get install -y postgresql" in str(error)
    assert "initdb not found" in str(error)


def fake_pg(root: Path, version: str) -> None:
    bin_dir = root / version / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("initdb", "postgres"):
        (bin_dir / name).write_text("#!/bin/sh\n")


def test_newest_postgresql_is_chosen(tmp_path: Path) -> None:
    for version in ("9.6", "15", "10"):
        fake_pg(tmp_path, version)
    assert find_pg_bin(debian_root=tmp_path) == tmp_path / "15" / "bin"


def test_missing_initdb_names_postgresql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingDependencyError, match="'postgresql'"):
        find_pg_bin(debian_root=tmp_path / "none")
    with pytest.raises(MissingDependencyError, match="PLOWLINE_PG_BIN"):
        find_pg_bin(explicit=tmp_path)


def test_missing_java_names_the_jdk_package(tmp_path: Path) -> None:
    with pytest.raises(MissingDependencyError, match="openjdk-17-jre-headless"):
        find_java({"PATH": str(tmp_path)})


def test_old_java_is_refused(tmp_path: Path) -> None:
    java = tmp_path / "java"
    java.write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    java.chmod(0o755)
    with pytest.raises(MissingDependencyError, match=r"found 11 .*openjdk-17-jre-headless"):
        check_java(java)


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_392"', 8),
        ('openjdk version "21" 2023-09-19', 21),
        ("no version here", None),
    ],
)
def test_java_version_parsing(output: str, major: int | None) -> None:
    assert parse_java_major(output) == major


@given(st.integers(min_value=9, max_value=99), st.integers(0, 99), st.integers(0, 99))
def test_java_major_is_the_first_number_from_9_on(major: int, minor: int, patch: int) -> None:
    assert parse_java_major(f'openjdk version "{major}.{minor}.{patch}"\nmore') == major


def test_localstack_refuses_an_old_python(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path, localstack_python=Path(sys.executable))
    with pytest.raises(MissingDependencyError, match=r"Python >= 3\.13"):
        find_localstack_python(settings)


needs_mvn = pytest.mark.skipif(
    shutil.which("mvn") is None, reason="needs Maven on PATH (Debian: maven)"
)


@needs_mvn
def test_unreachable_maven_repository_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    url = f"http://127.0.0.1:{closed}/maven2"
    settings = Settings(
        cache_dir=tmp_path, maven_repo_url=url, request_timeout=5, download_timeout=120
    )
    with pytest.raises(DownloadError, match=rf"could not resolve Apache Kafka .* from {url}"):
        ensure_jars(settings)
    assert not (tmp_path / "kafka" / settings.kafka_version / "libs").exists()


@needs_mvn
def test_registry_that_never_answers_times_out(tmp_path: Path) -> None:
    with socket.socket() as blackhole:  # accepts connections, never replies
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(16)
        url = f"http://127.0.0.1:{blackhole.getsockname()[1]}/maven2"
        settings = Settings(
            cache_dir=tmp_path, maven_repo_url=url, request_timeout=60, download_timeout=4
        )
        with pytest.raises(DownloadError, match=r"took over 4 s \(PLOWLINE_DOWNLOAD_TIMEOUT\)"):
            ensure_jars(settings)
