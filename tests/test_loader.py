"""Malformed scenarios: every one gives a diagnostic with a stable code at the right line, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.loader import MAX_BYTES, load_scenario, load_text

from .conftest import DATA, MINI

MALFORMED = sorted((DATA / "malformed").glob("*.toml"))


def expectation(path: Path) -> tuple[str, int]:
    m = re.match(r"# expect: (DS\d{4}) line (\d+)", path.read_text("utf-8"))
    assert m, f"{path.name} lacks its '# expect: CODE line N' header"
    return m.group(1), int(m.group(2))


def test_corpus_is_large_and_varied():
    codes = {expectation(p)[0] for p in MALFORMED}
    assert len(MALFORMED) >= 25
    assert len(codes) >= 25


@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: p.stem)
def test_malformed_file_reports_code_at_line(path: Path, principle_ids):
    code, line = expectation(path)
    result = load_scenario(path, principle_ids)
    hits = [d for d in result.diagnostics if d.code == code]
    assert hits, f"expected {code}, got {[d.render() for d in result.diagnostics]}"
    assert hits[0].line == line
    assert hits[0].file == str(path)
    assert hits[0].message and hits[0].hint
    if hits[0].severity == "error":
        assert not result.ok


def test_did_you_mean_on_misspelled_key(principle_ids):
    result = load_scenario(DATA / "malformed" / "unknown_choice_field.toml", principle_ids)
    assert "did you mean 'effects'" in result.diagnostics[0].message


def test_condition_error_column_points_inside_the_string(principle_ids):
    path = DATA / "malformed" / "cond_syntax.toml"
    diag = next(d for d in load_scenario(path, principle_ids).diagnostics if d.code == "DS0301")
    line = path.read_text("utf-8").splitlines()[diag.line - 1]
    assert line[diag.col - 1 : diag.col + 1] == "&&"


def test_valid_scenario_loads_without_diagnostics(principle_ids):
    result = load_scenario(MINI, principle_ids)
    assert result.ok
    assert result.diagnostics == []
    assert result.loaded.scenario.first_step == "call"


def test_missing_file():
    result = load_scenario("no/such/scenario.toml")
    assert [d.code for d in result.diagnostics] == ["DS0001"]


def test_not_utf8_points_at_the_byte():
    raw = MINI.read_bytes().replace("王老板库存不多".encode(), "王老板库存不多".encode("gbk"))
    result = load_text(raw, "gbk.toml")
    diag = result.diagnostics[0]
    assert diag.code == "DS0002"
    assert diag.line == 6


def test_too_large_file_is_refused_before_parsing():
    result = load_text(b"#" * (MAX_BYTES + 1), "big.toml")
    assert [d.code for d in result.diagnostics] == ["DS0005"]


def test_bom_is_accepted(principle_ids):
    result = load_text(b"\xef\xbb\xbf" + MINI.read_bytes(), "bom.toml", principle_ids)
    assert result.ok


MINI_TEXT = MINI.read_text("utf-8")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(raw: bytes):
    result = load_text(raw, "fuzz.toml")
    assert not result.ok
    assert all(re.fullmatch(r"DS\d{4}", d.code) for d in result.diagnostics)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(MINI_TEXT) - 1), st.integers(0, 40), st.text(max_size=12))
def test_mutated_scenario_never_raises(start: int, length: int, insert: str):
    text = MINI_TEXT[:start] + insert + MINI_TEXT[start + length :]
    result = load_text(text, "mutant.toml")
    if not result.ok:
        errors = [d for d in result.diagnostics if d.severity == "error"]
        assert errors
        assert all(d.line >= 1 for d in errors)
