"""PostgreSQL provisioned by the plugin: bulk COPY, queries, and a restart mid-test."""

from __future__ import annotations

import psycopg
import pytest
from plowline.conformance.services import PostgresEndpoint, ServiceHandle
from plowline.conformance.services.pytest_plugin import require_control

ROWS = 100_000


@pytest.mark.postgres
def test_copy_100k_rows_then_query(
    postgres: ServiceHandle[PostgresEndpoint], pg_database: PostgresEndpoint
) -> None:
    print(postgres.describe())
    with psycopg.connect(pg_database.dsn) as conn:
        conn.execute(
            "CREATE TABLE events (id bigint PRIMARY KEY, name text NOT NULL, value float8)"
        )
        with conn.cursor() as cur, cur.copy("COPY events (id, name, value) FROM STDIN") as copy:
            for i in range(ROWS):
                copy.write_row((i, f"event-{i % 97}", i * 0.5))
        conn.commit()

        count, id_sum = conn.execute("SELECT count(*), sum(id) FROM events").fetchone() or (0, 0)
        assert count == ROWS
        assert id_sum == ROWS * (ROWS - 1) // 2

        by_name: dict[str, int] = dict(
            conn.execute("SELECT name, count(*) FROM events GROUP BY name ORDER BY name").fetchall()
        )
        assert len(by_name) == 97
        assert by_name["event-0"] == len(range(0, ROWS, 97))
        top = conn.execute("SELECT id FROM events ORDER BY value DESC LIMIT 3").fetchall()
        assert [row[0] for row in top] == [ROWS - 1, ROWS - 2, ROWS - 3]


@pytest.mark.postgres
def test_each_test_gets_its_own_empty_database(
    postgres: ServiceHandle[PostgresEndpoint], pg_database: PostgresEndpoint
) -> None:
    assert pg_database.dbname != postgres.endpoint.dbname
    with psycopg.connect(pg_database.dsn) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)


@pytest.mark.postgres
def test_restart_keeps_committed_rows(
    postgres: ServiceHandle[PostgresEndpoint], pg_database: PostgresEndpoint
) -> None:
    require_control(postgres)
    with psycopg.connect(pg_database.dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (n int)")
        conn.execute("INSERT INTO kept SELECT generate_series(1, 1000)")

    survivor = psycopg.connect(pg_database.dsn, autocommit=True)
    try:
        with postgres.stopped():
            assert not postgres.running
            with pytest.raises(psycopg.OperationalError):
                psycopg.connect(pg_database.dsn, connect_timeout=2)
        # The old connection died with the server; a new one sees everything committed.
        with pytest.raises(psycopg.OperationalError):
            survivor.execute("SELECT 1")
    finally:
        survivor.close()
    with psycopg.connect(pg_database.dsn) as conn:
        assert conn.execute("SELECT count(*), sum(n) FROM kept").fetchone() == (1000, 500_500)
