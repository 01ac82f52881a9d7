"""docs/DIAGNOSTICS.md and the registered codes stay in step, and every code can be triggered.

- every code in simulator/data/diagnostics.toml has a section in the doc (with its anchor, its
  severity and a fix), and the doc names no code that is not registered;
- where a section's example is a file in tests/data/malformed/, the output it shows is exactly what
  `dealersim check` prints for that file today;
- every DS00xx–DS04xx code is triggered by a real file (the malformed corpus, or bytes here);
- the codes no other test triggers (DS0507, DS0602, DS0900) are triggered here, and every
  registered code is asserted by some test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.diagnostics import codes
from simulator.loader import MAX_BYTES, load_scenario, load_text

from .conftest import DATA, MINI, ROOT

DOC = ROOT / "docs" / "DIAGNOSTICS.md"
DOC_TEXT = DOC.read_text("utf-8")
MALFORMED = sorted((DATA / "malformed").glob("*.toml"))


def sections() -> dict[str, str]:
    """Code -> the text of its section (from its anchor to the next one)."""
    parts = re.split(r'^<a id="(ds\d{4})"></a>\n', DOC_TEXT, flags=re.M)
    return {parts[i].upper(): parts[i + 1] for i in range(1, len(parts), 2)}


def header_code(path: Path) -> str:
    m = re.match(r"# expect: (DS\d{4}) line \d+", path.read_text("utf-8"))
    assert m, path
    return m.group(1)


# ---------------------------------------------------------------- the doc and the registry


def test_every_registered_code_has_a_section_and_no_other_code_is_mentioned():
    registered = set(codes())
    documented = set(sections())
    assert registered - documented == set(), "codes missing from docs/DIAGNOSTICS.md"
    mentioned = set(re.findall(r"\bDS\d{4}\b", DOC_TEXT))
    assert mentioned - registered == set(), "docs/DIAGNOSTICS.md mentions codes that are not registered"


@pytest.mark.parametrize("code", sorted(codes()))
def test_section_gives_severity_title_message_and_fix(code):
    text = sections()[code]
    info = codes()[code]
    heading = text.splitlines()[0]
    assert heading == f"### {code} — {info.title}", heading
    assert f"**Severity:** {info.severity}" in text
    assert "**Fix:**" in text or "**Reserved.**" in text
    # the message the tool prints, with the code at its head
    assert re.search(rf"```text\n{code} {info.severity}", text), f"{code}: no example output"


EXAMPLE = re.compile(r"\(\.\./(tests/data/malformed/[\w.]+\.toml)\).*?`dealersim check` says:\s*```text\n(.*?)```", re.S)


def _shown_in(block: str, printed: str) -> bool:
    """Each line of the doc's block is printed; a line ending in '…' is only the start of one."""
    lines = printed.splitlines()
    for want in block.splitlines():
        if want.endswith(" …"):
            if not any(line.startswith(want[:-2]) for line in lines):
                return False
        elif want not in lines:
            return False
    return True


@pytest.mark.parametrize("code", sorted(c for c in codes() if c < "DS0500"))
def test_documented_output_is_what_check_prints_today(code, principle_ids):
    examples = EXAMPLE.findall(sections()[code])
    if not examples:
        pytest.skip(f"{code}: the example is a situation, not a file (captured from a real run)")
    for rel, block in examples:
        result = load_text((ROOT / rel).read_bytes(), rel, principle_ids)
        printed = "\n".join(d.render() for d in result.diagnostics)
        assert block.startswith(code)
        assert _shown_in(block.strip("\n"), printed), f"docs/DIAGNOSTICS.md shows for {rel}:\n{block}\nbut dealersim check prints:\n{printed}"


# ---------------------------------------------------------------- every scenario code from a real file


def test_every_file_and_scenario_code_is_triggered_by_a_malformed_file():
    wanted = {c for c in codes() if "DS0100" <= c < "DS0500"}
    covered = {header_code(p) for p in MALFORMED}
    assert wanted - covered == set(), "add a file to tests/data/malformed/ for these codes"


def test_unreadable_file_DS0001(tmp_path):
    result = load_scenario(tmp_path / "missing.toml")
    assert [d.code for d in result.diagnostics] == ["DS0001"]
    assert "missing.toml" in result.diagnostics[0].file


def test_gbk_saved_file_DS0002_points_at_the_first_bad_byte(tmp_path, principle_ids):
    path = tmp_path / "gbk.toml"
    path.write_bytes(MINI.read_text("utf-8").encode("gbk"))  # what an editor set to GBK saves
    diag = load_scenario(path, principle_ids).diagnostics[0]
    assert diag.code == "DS0002"
    assert diag.line == 5  # the title: the first Chinese text in the file
    assert "UTF-8" in diag.hint


def test_huge_file_DS0005(tmp_path):
    path = tmp_path / "huge.toml"
    path.write_bytes(MINI.read_bytes() + b"#" * MAX_BYTES)
    diags = load_scenario(path).diagnostics
    assert [d.code for d in diags] == ["DS0005"] and f"{MAX_BYTES:,}" in diags[0].message


# ---------------------------------------------------------------- the new cross-checks, in detail


def test_wrong_language_DS0110_flags_each_side_at_its_key(principle_ids):
    path = DATA / "malformed" / "text_wrong_language.toml"
    diags = [d for d in load_scenario(path, principle_ids).diagnostics if d.code == "DS0110"]
    line = path.read_text("utf-8").splitlines()[diags[0].line - 1]
    assert {line[d.col - 1 : d.col + 1] for d in diags} == {"zh", "en"}
    assert all(d.severity == "warning" for d in diags)


def test_english_text_quoting_chinese_is_not_flagged(principle_ids):
    text = MINI.read_text("utf-8").replace(
        'en = "Check stock"', 'en = "Check stock first, as the course says (「了解分销商库存」)"'
    )
    assert [d.code for d in load_text(text, "q.toml", principle_ids).diagnostics] == []


@pytest.mark.parametrize(
    "old, new, code",
    [
        ("stock = 250", "stock = 4000", "DS0401"),  # exactly 20 cycles is allowed…
        ("stock = 250", "stock = 4001", "DS0401"),  # …one unit more is not
        ("units = 1000", "units = 4001", "DS0402"),
    ],
)
def test_market_limits_sit_at_twenty_cycles(old, new, code, principle_ids):
    diags = load_text(MINI.read_text("utf-8").replace(old, new), "m.toml", principle_ids).diagnostics
    over = new.endswith("4001")
    assert (code in [d.code for d in diags]) == over


def test_quick_reorders_are_only_unusual_with_noisy_demand(principle_ids):
    base = MINI.read_text("utf-8").replace("stock = 250", "stock = 250\nadjust_weeks = 0.5")
    assert "DS0402" not in [d.code for d in load_text(base, "a.toml", principle_ids).diagnostics]
    noisy = base.replace("cv = 0.3", "cv = 0.6")
    assert "DS0402" in [d.code for d in load_text(noisy, "b.toml", principle_ids).diagnostics]


# ---------------------------------------------------------------- codes outside the loader


def test_verify_names_the_first_record_that_no_longer_re_simulates_DS0507(tmp_path, mini, monkeypatch):
    import simulator.market
    from simulator.recorded import RecordedSession, verify_log

    log = tmp_path / "s.jsonl"
    recorded = RecordedSession.start(mini, 3, "en", log)
    for option in ("check", "push"):
        recorded.choose(option)
    recorded.close()
    assert verify_log(log).ok
    # a newer dealersim whose market erodes prices faster: the record no longer re-simulates
    monkeypatch.setattr(simulator.market, "PRICE_EROSION", simulator.market.PRICE_EROSION * 2)
    verdict = verify_log(log)
    assert not verdict.ok
    d = verdict.diagnostics[0]
    assert d.code == "DS0507" and d.file == str(log) and d.line > 1
    assert "week" in d.message


def invoke(*args: str):
    from simulator.cli import cli

    return CliRunner().invoke(cli, list(args))


def test_unknown_scenario_id_DS0602_suggests_the_close_one():
    result = invoke("play", "stock_push.quarter_ned", "--choices", "x")
    assert result.exit_code == 1
    assert "DS0602" in result.output and "did you mean 'stock_push.quarter_end'" in result.output


def test_internal_error_DS0900_gives_a_report_not_a_traceback(tmp_path, monkeypatch):
    import tempfile

    import simulator.cli

    def broken(*_args, **_kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(simulator.cli, "scenario_files", broken)
    result = invoke("check", str(MINI))
    assert result.exit_code == 70
    assert "DS0900" in result.output and "Traceback" not in result.output
    report = next(tmp_path.glob("dealersim-crash-*.txt"))
    assert "ZeroDivisionError" in report.read_text("utf-8")


def test_every_registered_code_is_asserted_by_some_test():
    """A guard for the future: a new code needs a test that triggers it (or a malformed file)."""
    texts = "\n".join(p.read_text("utf-8") for p in (ROOT / "tests").glob("test_*.py") if p.name != Path(__file__).name)
    texts += "\n".join(p.read_text("utf-8").splitlines()[0] for p in MALFORMED)
    here = Path(__file__).read_text("utf-8")
    for code in codes():
        assert code in texts or f"_{code}" in here, f"no test triggers {code}"
