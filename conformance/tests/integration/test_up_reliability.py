"""`plowline up` under hostile use, as a real process over real HTTP: what `--persist` may
touch, the messages for a store it cannot use, kill -9 with senders running, a full queue,
reset under load, and Ctrl-C to the whole process group."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from plowline.conformance.up.testing import run_up


def test_persist_in_a_folder_that_cannot_exist_names_the_folder() -> None:
    done = run_up("--persist", "/proc/nope/x.sqlite")
    assert done.returncode == 2, done.stderr
    assert "cannot listen" not in done.stderr
    assert "/proc/nope" in done.stderr
    assert "--persist" in done.stderr
    assert "Traceback" not in done.stderr


def test_persist_on_a_directory_is_refused_and_the_directory_untouched(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "src").mkdir(parents=True)
    (checkout / "src" / "main.py").write_text("print('hello')\n")
    done = run_up("--persist", str(checkout))
    assert done.returncode == 2, done.stderr
    assert "folder" in done.stderr
    assert str(checkout) in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkout"]
    assert (checkout / "src" / "main.py").read_text() == "print('hello')\n"


def test_persist_on_a_file_that_is_not_a_store_is_refused_and_untouched(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, not a database\n" * 20)
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE customers (name TEXT)")
    conn.execute("INSERT INTO customers VALUES ('ada')")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    for path, reason in ((notes, "not a SQLite file"), (other, "not a plowline up store")):
        done = run_up("--persist", str(path))
        assert done.returncode == 2, done.stderr
        assert reason in done.stderr
        assert "Traceback" not in done.stderr
    assert notes.read_text() == "my notes, not a database\n" * 20
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "other.sqlite"]
