"""`dealersim new FAMILY NAME`: a template that passes `check --strict`, with a passing playthrough test."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from simulator.cli import cli
from simulator.loader import load_scenario
from simulator.playtest import load_tests, run_tests

from .conftest import ROOT


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("family", ["first_visit", "stock_push", "diversion", "negotiation", "cross"])
def test_fresh_template_passes_strict_check_and_its_tests(tmp_path, monkeypatch, family, principle_ids):
    monkeypatch.chdir(tmp_path)
    result = invoke("new", family, "spring_visit")
    assert result.exit_code == 0, result.output
    path = tmp_path / "scenarios" / family / "spring_visit.toml"
    assert f"wrote scenarios/{family}/spring_visit.toml" in result.output
    checked = invoke("check", "--strict", str(path))
    assert checked.exit_code == 0, checked.output
    assert "0 error(s), 0 warning(s)" in checked.output
    loaded = load_scenario(path, principle_ids).loaded
    assert loaded.scenario.id == f"{family}.spring_visit" and loaded.scenario.family == family
    tests = load_tests(path.with_name("spring_visit.test.toml"), principle_ids)
    results = run_tests(tests)
    assert results and all(r.passed for r in results), [d.render() for r in results for d in r.failures]


def test_template_is_commented_and_bilingual_and_points_at_the_schema(tmp_path):
    assert invoke("new", "stock_push", "x", "--out", str(tmp_path)).exit_code == 0
    text = (tmp_path / "x.toml").read_text("utf-8")
    first = text.splitlines()[0]
    assert first.startswith("#:schema ") and first.endswith("docs/scenario.schema.json")
    assert (tmp_path / first.removeprefix("#:schema ")).resolve() == (ROOT / "docs" / "scenario.schema.json").resolve()
    assert sum(line.lstrip().startswith("#") for line in text.splitlines()) >= 15
    assert "王老板" in text and "Mr Wang" in text


def test_name_is_sanitised(tmp_path):
    result = invoke("new", "diversion", "Spring Visit-2!", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "written as 'spring_visit_2'" in result.output
    assert (tmp_path / "spring_visit_2.toml").is_file()
    assert invoke("new", "diversion", "2nd try", "--out", str(tmp_path)).exit_code == 0
    assert (tmp_path / "s_2nd_try.toml").is_file()  # ids start with a letter


def test_refuses_to_overwrite_DS0604(tmp_path):
    assert invoke("new", "stock_push", "mine", "--out", str(tmp_path)).exit_code == 0
    (tmp_path / "mine.toml").write_text("# my work\n", "utf-8")
    again = invoke("new", "stock_push", "mine", "--out", str(tmp_path))
    assert again.exit_code == 1 and "DS0604" in again.output
    assert (tmp_path / "mine.toml").read_text("utf-8") == "# my work\n"


@pytest.mark.parametrize(
    "args, words",
    [(("stock_pus", "x"), "did you mean 'stock_push'"), (("stock_push", "季末压货"), "no letters a–z")],
)
def test_bad_family_or_name(tmp_path, args, words):
    result = invoke("new", *args, "--out", str(tmp_path))
    assert result.exit_code == 1 and "DS0603" in result.output and words in result.output
    assert list(tmp_path.iterdir()) == []
