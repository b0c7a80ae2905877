"""plowline.spec.generate: rendering, writing and drift detection of the generated tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from plowline.spec import generate, tables
from plowline.spec.data import data_root

PARAMS_MD = Path("protocol", "parameters.md")
FIELDS_MD = Path("enriched", "fields.md")


@pytest.fixture
def spec_copy(tmp_path: Path) -> Path:
    for folder in ("protocol", "enriched"):
        shutil.copytree(data_root() / folder, tmp_path / folder)
    return tmp_path


def _table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| `")]


def test_committed_files_are_in_sync() -> None:
    assert generate.check() == []


def test_parameters_md_has_header_and_one_row_per_parameter() -> None:
    text = generate.render_parameters()
    first, second = text.splitlines()[:2]
    assert "GENERATED from parameters.yaml" in first
    assert "do not edit" in first
    assert generate.REGENERATE in second
    rows = _table_rows(text.split("## Parse rules")[1].split("## Event\n")[1])
    names = [row.split("|")[1].strip().strip("`") for row in rows]
    assert names == [p.name for p in tables.parameters()]
    assert "| `pv` | `page_view` |" in text
    for title in generate.GROUP_TITLES.values():
        assert f"## {title}\n" in text


def test_parameter_row_shows_encoding_alias_and_criterion() -> None:
    text = generate.render_parameters()
    cx = next(r for r in text.splitlines() if r.startswith("| `cx` |"))
    assert "`base64url_json` (base64url_json)" in cx
    assert "contexts/jsonschema/1-0-*" in cx
    ev_ca = next(r for r in text.splitlines() if r.startswith("| `ev_ca` |"))
    assert "Alias of `se_ca`." in ev_ca
    assert "| deprecated | — |" in ev_ca


def test_fields_md_lists_131_rows_in_order() -> None:
    text = generate.render_fields()
    assert text.startswith("<!-- GENERATED from fields.yaml")
    rows = [line for line in text.splitlines() if line[:2] == "| " and line[2:3].isdigit()]
    assert len(rows) == 131
    assert rows[0].startswith("| 0 | `app_id` |")
    assert rows[130].startswith("| 130 | `true_tstamp` |")
    page_url = rows[29]
    assert "| 4096 (10000) |" in page_url


def test_write_then_check_on_a_copy(spec_copy: Path) -> None:
    assert generate.check(spec_copy) == []
    assert generate.write(spec_copy) == []  # nothing changed, nothing written


def test_editing_yaml_without_regenerating_is_drift(spec_copy: Path) -> None:
    path = spec_copy / "protocol" / "parameters.yaml"
    path.write_text(path.read_text().replace("Application id.", "The application id."))
    problems = generate.check(spec_copy)
    assert len(problems) == 1
    assert "parameters.md" in problems[0]
    assert "out of date" in problems[0]
    assert generate.write(spec_copy) == [spec_copy / PARAMS_MD]
    assert generate.check(spec_copy) == []
    assert "The application id." in (spec_copy / PARAMS_MD).read_text()


def test_missing_generated_file_is_reported(spec_copy: Path) -> None:
    (spec_copy / FIELDS_MD).unlink()
    problems = generate.check(spec_copy)
    assert problems == [
        f"{spec_copy / FIELDS_MD}: missing; generate it with `{generate.REGENERATE}`"
    ]


def test_hand_edit_of_generated_file_is_drift(spec_copy: Path) -> None:
    path = spec_copy / FIELDS_MD
    path.write_text(path.read_text() + "extra line\n")
    assert any("fields.md" in p for p in generate.check(spec_copy))


def test_main_check_and_write(spec_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert generate.main(["--check", "--root", str(spec_copy)]) == 0
    (spec_copy / PARAMS_MD).write_text("stale\n")
    assert generate.main(["--check", "--root", str(spec_copy)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert generate.main(["--root", str(spec_copy)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert generate.main(["--check", "--root", str(spec_copy)]) == 0


@given(st.text())
def test_property_cells_never_break_a_table_row(text: str) -> None:
    cell = generate._cell(text)
    assert "\n" not in cell
    assert "\r" not in cell
    # every pipe is escaped
    assert "|" not in cell.replace("\\|", "")


def test_cell_of_none_is_empty() -> None:
    assert generate._cell(None) == ""
    assert generate._cell("a | b\nc") == "a \\| b c"


def test_fields_module_equals_fields_yaml() -> None:
    from plowline.spec import enriched_fields

    spec = tables.enriched_fields()
    assert [f.name for f in enriched_fields.FIELDS] == [f.name for f in spec]
    for generated, source in zip(enriched_fields.FIELDS, spec, strict=True):
        assert (generated.index, generated.type, generated.nullable, generated.postgres) == (
            source.index,
            source.type,
            source.nullable,
            source.postgres,
        )
        assert (generated.max_length, generated.length_limit) == (
            source.max_length,
            source.length_limit,
        )
    assert enriched_fields.FIELD_INDEX["event_id"] == 6


def test_fields_module_drift_is_reported(tmp_path: Path) -> None:
    """A checkout whose generated module no longer matches fields.yaml fails the check."""
    for folder in ("protocol", "enriched"):
        shutil.copytree(data_root() / folder, tmp_path / folder)
    module = tmp_path / "python" / "src" / "plowline" / "spec" / "enriched_fields.py"
    module.parent.mkdir(parents=True)
    module.write_text(generate.render_fields_module(tmp_path), encoding="utf-8")
    assert generate.check(tmp_path) == []
    module.write_text(module.read_text(encoding="utf-8").replace('"app_id"', '"app"'))
    assert any("enriched_fields.py: out of date" in p for p in generate.check(tmp_path))
