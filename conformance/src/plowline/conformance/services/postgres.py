"""A throw-away PostgreSQL cluster from Debian's packages: initdb + postgres in a temp dir.

Runs as the `postgres` OS user when we are root (PostgreSQL refuses to run as root), trust
auth on 127.0.0.1 only, a free port, fsync off (data is thrown away anyway), and its unix
socket inside the temp dir so it never collides with a system cluster.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
from pathlib import Path

from plowline.conformance.services.config import ServiceKind, Settings
from plowline.conformance.services.endpoints import PostgresEndpoint
from plowline.conformance.services.errors import MissingDependencyError, ServiceStartError
from plowline.conformance.services.health import postgres_problem
from plowline.conformance.services.local import LocalProcessService
from plowline.conformance.services.ports import LOOPBACK, pick_free_port
from plowline.conformance.services.state import StateStore

PACKAGE = "postgresql"
OS_USER = "postgres"
DEBIAN_ROOT = Path("/usr/lib/postgresql")


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path.parent.name)) or (0,)


def find_pg_bin(explicit: Path | None = None, debian_root: Path = DEBIAN_ROOT) -> Path:
    """The bin dir of the newest PostgreSQL: explicit, else /usr/lib/postgresql/*/bin, else PATH."""
    if explicit is not None:
        if (explicit / "initdb").exists():
            return explicit
        raise MissingDependencyError(
            str(explicit / "initdb"), PACKAGE, "PLOWLINE_PG_BIN names no initdb"
        )
    candidates = sorted(
        (
            p
            for p in debian_root.glob("*/bin")
            if (p / "initdb").exists() and (p / "postgres").exists()
        ),
        key=_version_key,
    )
    if candidates:
        return candidates[-1]
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    raise MissingDependencyError(
        "initdb", PACKAGE, "a throw-away PostgreSQL cluster needs initdb and postgres"
    )


def server_version(bin_dir: Path) -> str:
    out = subprocess.run(
        [str(bin_dir / "postgres"), "--version"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    ).stdout
    match = re.search(r"(\d+(?:\.\d+)*)", out)
    return match.group(1) if match else "unknown"


class LocalPostgres(LocalProcessService[PostgresEndpoint]):
    kind = ServiceKind.POSTGRES
    stop_signal = signal.SIGINT  # "fast shutdown": SIGTERM would wait for clients to leave

    def __init__(
        self, settings: Settings, store: StateStore, tmpdir: Path, *, detached: bool = False
    ) -> None:
        self.bin_dir = find_pg_bin(settings.pg_bin)
        self.backend = f"PostgreSQL {server_version(self.bin_dir)}"
        super().__init__(
            PostgresEndpoint(host=LOOPBACK, port=pick_free_port()),
            store=store,
            tmpdir=tmpdir,
            start_timeout=min(settings.start_timeout, 60.0),
            detached=detached,
        )
        self.data_dir = tmpdir / "data"

    def run_as(self) -> str | None:
        return OS_USER

    def prepare(self) -> None:
        """initdb the cluster (as the postgres user when root); about half a second."""
        as_root = os.geteuid() == 0
        if as_root:
            try:
                account = pwd.getpwnam(OS_USER)
            except KeyError:
                raise MissingDependencyError(
                    f"OS user {OS_USER!r}", PACKAGE, "PostgreSQL refuses to run as root"
                ) from None
            os.chown(self.tmpdir, account.pw_uid, account.pw_gid)
            self.log_path.touch()
            os.chown(self.log_path, account.pw_uid, account.pw_gid)
        result = subprocess.run(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
                "--no-instructions",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            user=OS_USER if as_root else None,
            group=OS_USER if as_root else None,
            extra_groups=[] if as_root else None,
            cwd=self.tmpdir,
        )
        if result.returncode != 0:
            raise ServiceStartError(
                self.backend, "initdb failed", (result.stdout + result.stderr)[-4000:]
            )

    def argv(self) -> list[str]:
        settings = {
            "listen_addresses": LOOPBACK,
            "port": str(self.endpoint.port),
            "unix_socket_directories": str(self.tmpdir),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "log_min_messages": "warning",
        }
        argv = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir)]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        return argv

    def repick_ports(self) -> None:
        self.endpoint = PostgresEndpoint(
            host=LOOPBACK, port=pick_free_port(exclude={self.endpoint.port})
        )

    def problem(self) -> str | None:
        return postgres_problem(self.endpoint)
