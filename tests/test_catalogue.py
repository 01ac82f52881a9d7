"""The principle catalogue (scoring/principles.toml) and its loader (scoring/catalogue.py).

The catalogue must stay faithful to the course's principle catalogue (shared/course/PRINCIPLES.md)
and to the seed texts it quotes (shared/course/seeds/). Those live outside the repository; where
they are missing, the tests fall back to the literal id list below and weaker checks.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scoring.catalogue import COVERAGES, Catalogue, Principle, load_catalogue
from simulator.diagnostics import DiagnosticError

COURSE_DIR = Path(__file__).resolve().parents[2] / "shared" / "course"
PRINCIPLES_MD = COURSE_DIR / "PRINCIPLES.md"
SEEDS_DIR = COURSE_DIR / "seeds"
HAVE_MD = PRINCIPLES_MD.is_file()
HAVE_SEEDS = SEEDS_DIR.is_dir()

# The index of PRINCIPLES.md, in order (kept here so the tests run without shared/).
EXPECTED_IDS = [
    "visit.walk_market_first",
    "visit.prepare_no_rash_visit",
    "visit.ignite_confidence_not_incite",
    "visit.open_with_purpose",
    "visit.qualify_before_pitching",
    "visit.find_the_decision_maker",
    "visit.local_business_culture",
    "select.match_not_max",
    "select.assess_before_signing",
    "select.network_layout",
    "select.terms_up_front",
    "stock.safety_stock_1_5x",
    "stock.check_before_push",
    "stock.push_with_purpose",
    "stock.accelerate_sell_through",
    "stock.long_vs_short_term",
    "stock.price_protection",
    "stock.no_stockout_gap",
    "stock.promo_brief",
    "stock.promo_terminal_check",
    "stock.turnover_roi",
    "diversion.monitor_price_territory_flow",
    "diversion.firm_fair_fast",
    "diversion.due_process",
    "diversion.classify_and_procedure",
    "diversion.root_causes",
    "conflict.territorial_rights",
    "conflict.one_outlet_one_supplier",
    "conflict.interests_not_positions",
    "conflict.diagnose_type_cause",
    "conflict.structural_overlaps",
    "nego.open_questions",
    "nego.open_listening",
    "nego.open_win_win",
    "nego.open_perspective",
    "nego.open_reluctance",
    "nego.open_no_to_first_condition",
    "nego.mid_restate",
    "nego.mid_explore_options",
    "nego.mid_concessions",
    "nego.mid_authority",
    "nego.mid_break_deadlock",
    "nego.close_empathy",
    "nego.close_good_cop_bad_cop",
    "nego.close_summarize_benefits",
    "rel.contract_foundation",
    "rel.service_is_management",
    "rel.equal_service",
    "rel.visits_and_promises",
    "rel.expert_adviser",
    "rel.network_control",
    "rel.loyalty_bonds",
    "rel.joint_business_plan",
    "incent.power_bases",
    "incent.margin_myth",
    "incent.rebate_design",
    "credit.warning_signals",
    "credit.receivables_process",
    "credit.early_payment_discount",
    "credit.small_frequent_deliveries",
    "credit.no_lone_wolf",
    "tier.abc_pareto",
    "tier.grasp_develop_phase_out",
    "tier.value_not_size",
    "tier.key_account_privileges",
    "tier.health_check",
    "replace.rectify_first",
    "replace.when_not_to_replace",
    "replace.clean_handover",
    "replace.support_new_dealer",
]
FAMILIES = ["visit", "select", "stock", "diversion", "conflict", "nego", "rel", "incent", "credit", "tier", "replace"]

# Han ideographs (incl. ext. A), CJK symbols & punctuation (「」，。), full-width forms (，：（）).
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")

COVERAGE_WORDS = {"stated": "stated", "listed": "listed", "named": "named_only", "named only": "named_only"}


# --- PRINCIPLES.md parsing ---------------------------------------------------------------------


def _index_rows() -> list[tuple[str, str]]:
    """(id, seed coverage) for each row of the PRINCIPLES.md index table, in order."""
    text = PRINCIPLES_MD.read_text(encoding="utf-8")
    section = text.split("## Index", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\|\s*\d+\s*\|\s*`([^`]+)`\s*\|[^|]*\|\s*([^|]*?)\s*\|\s*$", section, flags=re.M)
    assert rows, "could not parse the index table of PRINCIPLES.md"
    return rows


def _entries() -> dict[str, dict[str, object]]:
    """Per principle: the 「」 quotes of its «Seed (verbatim)» line and the first seed file its Source cites."""
    text = PRINCIPLES_MD.read_text(encoding="utf-8")
    out: dict[str, dict[str, object]] = {}
    for block in re.split(r"^### `", text, flags=re.M)[1:]:
        pid = block.split("`", 1)[0]
        seed_line = re.search(r"^- \*\*Seed \(verbatim\):\*\* (.*)$", block, flags=re.M)
        source_line = re.search(r"^- \*\*Source:\*\* (.*)$", block, flags=re.M)
        if not (seed_line and source_line):
            continue
        first_seed = re.search(r"`(\d{3}_[0-9a-f]+\.txt)`", source_line.group(1))
        out[pid] = {
            "quotes": re.findall(r"「([^」]*)」", seed_line.group(1)),
            "seed": first_seed.group(1) if first_seed else None,
        }
    return out


def _coverage_levels(cell: str) -> set[str]:
    """'Stated / named' -> {'stated', 'named_only'}."""
    levels = set()
    for word in cell.split("/"):
        key = word.strip().lower()
        assert key in COVERAGE_WORDS, f"unexpected seed coverage {cell!r} in the PRINCIPLES.md index"
        levels.add(COVERAGE_WORDS[key])
    return levels


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


# --- the packaged catalogue ----------------------------------------------------------------------


def test_packaged_catalogue_loads_with_the_70_ids_in_index_order(cat: Catalogue) -> None:
    assert cat.version == "2026.11.1"
    assert len(EXPECTED_IDS) == 70 and len(set(EXPECTED_IDS)) == 70
    assert cat.ids == EXPECTED_IDS
    assert len(cat) == 70


@pytest.mark.skipif(not HAVE_MD, reason="shared/course/PRINCIPLES.md not available")
def test_ids_match_the_principles_md_index() -> None:
    index_ids = [pid for pid, _ in _index_rows()]
    assert index_ids == EXPECTED_IDS
    assert load_catalogue().ids == index_ids


def test_default_catalogue_is_cached(cat: Catalogue) -> None:
    assert load_catalogue() is load_catalogue()


def test_families(cat: Catalogue) -> None:
    assert list(cat.families) == FAMILIES
    assert {p.family for p in cat.principles} == set(FAMILIES)
    for p in cat.principles:
        assert p.family == p.id.split(".")[0]
    assert cat.family_name("stock", "zh") == "压货与库存"
    assert cat.family_name("stock", "en") == "Stock pushing & inventory"
    with pytest.raises(KeyError):
        cat.family_name("nosuch", "en")


def test_lookup(cat: Catalogue) -> None:
    p = cat.get("stock.safety_stock_1_5x")
    assert isinstance(p, Principle)
    assert p.text("name", "zh") == "库存保持约1.5个销售周期"
    assert p.text("name", "en") == "Keep stock at about 1.5× one sales cycle"
    assert p.text("explain", "en") == p.explain.en
    assert p.coverage == "stated" and p.ours is False
    assert p.citation.seed == "001_1d52909dedbf2338.txt"
    assert p.citation.quote == "库存应维持在一个销售周期销量的1.5倍左右"
    assert "stock.safety_stock_1_5x" in cat
    assert "stock.safty_stock_1_5x" not in cat
    assert 12 not in cat
    with pytest.raises(KeyError):
        cat.get("stock.safty_stock_1_5x")
    with pytest.raises(ValueError):
        p.text("name", "fr")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        p.text("quote", "en")  # type: ignore[arg-type]
    assert [q.id for q in cat.in_family("replace")] == EXPECTED_IDS[-4:]


# --- faithfulness to the course ------------------------------------------------------------------


def test_quotes_occur_verbatim_in_their_seed(cat: Catalogue) -> None:
    for p in cat.principles:
        quote = p.citation.quote
        assert quote.strip(), p.id
        if HAVE_SEEDS:
            seed_file = SEEDS_DIR / p.citation.seed
            assert seed_file.is_file(), f"{p.id}: no seed file {p.citation.seed}"
            assert quote in seed_file.read_text(encoding="utf-8"), f"{p.id}: quote not in {p.citation.seed}: {quote}"
        elif HAVE_MD:
            assert f"「{quote}」" in PRINCIPLES_MD.read_text(encoding="utf-8"), f"{p.id}: quote not in PRINCIPLES.md"


@pytest.mark.skipif(not HAVE_SEEDS, reason="shared/course/seeds not available")
def test_section_headings_occur_verbatim_in_their_seed(cat: Catalogue) -> None:
    for p in cat.principles:
        seed_text = (SEEDS_DIR / p.citation.seed).read_text(encoding="utf-8")
        headings = re.findall(r"「([^」]*)」", p.citation.section)
        assert headings, f"{p.id}: section names no 「heading」"
        for heading in headings:
            assert heading in seed_text, f"{p.id}: heading 「{heading}」 not in {p.citation.seed}"


@pytest.mark.skipif(not HAVE_MD, reason="shared/course/PRINCIPLES.md not available")
def test_citation_follows_the_principles_md_entry(cat: Catalogue) -> None:
    entries = _entries()
    for p in cat.principles:
        entry = entries[p.id]
        assert p.citation.seed == entry["seed"], f"{p.id}: cite the primary (first listed) seed"
        assert p.citation.quote in entry["quotes"], f"{p.id}: quote is not one of the «Seed (verbatim)» quotes"


def test_texts_in_both_languages(cat: Catalogue) -> None:
    texts = [(p.id, p.name) for p in cat.principles] + [(p.id, p.explain) for p in cat.principles]
    texts += [(f"families.{f}", t) for f, t in cat.families.items()]
    for where, text in texts:
        assert text.zh.strip() and text.en.strip(), where
        assert HAN.search(text.zh), f"{where}: zh text has no Chinese characters: {text.zh}"
        found = CJK.search(text.en)
        assert not found, f"{where}: en text contains CJK character {found.group()!r}: {text.en}"


def test_ours_iff_named_only_and_explanations_say_so(cat: Catalogue) -> None:
    # The rule stated at the top of principles.toml.
    for p in cat.principles:
        assert p.coverage in COVERAGES
        assert p.ours == (p.coverage == "named_only"), p.id
        if p.ours:
            # proposed content must not pass as course wording
            assert p.explain.en.startswith("The course ") and "dealersim scores it as:" in p.explain.en, p.id
            assert p.explain.zh.startswith("课程") and "本模拟按以下做法评分：" in p.explain.zh, p.id
        else:
            assert "dealersim scores it as" not in p.explain.en, p.id
            assert "本模拟按以下做法评分" not in p.explain.zh, p.id


@pytest.mark.skipif(not HAVE_MD, reason="shared/course/PRINCIPLES.md not available")
def test_coverage_follows_the_principles_md_index(cat: Catalogue) -> None:
    for pid, cell in _index_rows():
        p = cat.get(pid)
        levels = _coverage_levels(cell)
        assert p.coverage in levels, f"{pid}: coverage {p.coverage!r} is not one of the index's {cell!r}"
        if levels == {"named_only"}:
            assert p.ours, f"{pid} is 'Named only' in PRINCIPLES.md, so its scored content is ours"


# --- unknown ids ---------------------------------------------------------------------------------


def test_unknown_id_diagnostic_suggests_the_close_id(cat: Catalogue) -> None:
    d = cat.unknown_id_diagnostic("stock.safty_stock_1_5x")
    assert d.code == "DS0208" and d.severity == "error"
    assert "unknown principle id 'stock.safty_stock_1_5x'" in d.message
    assert "did you mean 'stock.safety_stock_1_5x'?" in d.message
    assert "scoring/principles.toml" in d.hint and "dealersim principles" in d.hint
    placed = d.at("scenarios/stock_push/sp1.toml", 12)
    assert placed.render().startswith("DS0208 error scenarios/stock_push/sp1.toml:12 ")


def test_unknown_id_diagnostic_without_a_close_id(cat: Catalogue) -> None:
    d = cat.unknown_id_diagnostic("completely.different")
    assert d.code == "DS0208"
    assert "did you mean" not in d.message


# --- broken catalogue files ----------------------------------------------------------------------

MINIMAL = """\
version = "test.1"

[[principle]]
id = "stock.safety_stock_1_5x"
family = "stock"
name = { zh = "库存保持约1.5个销售周期", en = "Keep stock at about 1.5x one sales cycle" }
explain = { zh = "库存别压太多。", en = "Don't overload the dealer." }
coverage = "stated"
ours = false
[principle.citation]
seed = "001_1d52909dedbf2338.txt"
section = "「4.1 产品进销与库存」"
quote = "库存应维持在一个销售周期销量的1.5倍左右"

[[principle]]
id = "stock.check_before_push"
family = "stock"
name = { zh = "压货前先看库存", en = "Check stock before you push" }
explain = { zh = "先看库存和销售。", en = "Look at stock and sales first." }
coverage = "stated"
ours = false
[principle.citation]
seed = "001_1d52909dedbf2338.txt"
section = "「4.1 产品进销与库存」"
quote = "了解分销商库存"

[families]
stock = { zh = "压货与库存", en = "Stock pushing & inventory" }
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "principles.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def _broken(tmp_path: Path, text: str) -> DiagnosticError:
    path = _write(tmp_path, text)
    with pytest.raises(DiagnosticError) as info:
        load_catalogue(path)
    err = info.value
    assert err.diagnostics, "a DiagnosticError must carry diagnostics"
    for d in err.diagnostics:
        assert d.file == str(path) and d.severity == "error"
    assert info.value.__suppress_context__, "the parser's own exception must not leak as a chained traceback"
    return err


def test_minimal_catalogue_loads(tmp_path: Path) -> None:
    cat = load_catalogue(_write(tmp_path, MINIMAL))
    assert cat.version == "test.1"
    assert cat.ids == ["stock.safety_stock_1_5x", "stock.check_before_push"]
    assert cat is not load_catalogue(_write(tmp_path, MINIMAL))  # only the packaged file is cached


def test_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode("utf-8"))
    assert len(load_catalogue(path)) == 2


def test_bad_toml_is_ds0003_with_line(tmp_path: Path) -> None:
    text = MINIMAL.replace('coverage = "stated"', "coverage = stated", 1)
    err = _broken(tmp_path, text)
    [d] = err.diagnostics
    assert d.code == "DS0003"
    assert d.line == _line_of(text, "coverage = stated")
    assert "TOML" in d.message and "at line" not in d.message


def test_unterminated_table_is_ds0003(tmp_path: Path) -> None:
    err = _broken(tmp_path, MINIMAL + "\n[[principle]\n")
    assert [d.code for d in err.diagnostics] == ["DS0003"]


def test_duplicate_id_is_ds0109_at_the_second_definition(tmp_path: Path) -> None:
    text = MINIMAL.replace('id = "stock.check_before_push"', 'id = "stock.safety_stock_1_5x"')
    err = _broken(tmp_path, text)
    [d] = err.diagnostics
    assert d.code == "DS0109"
    assert "duplicate principle id 'stock.safety_stock_1_5x'" in d.message
    assert d.line == _line_of(text, 'id = "stock.safety_stock_1_5x"', occurrence=2)
    assert d.col == 1
    assert d.render().startswith(f"DS0109 error {d.file}:{d.line}:1 principle #2 'stock.safety_stock_1_5x', id: ")


def test_family_not_matching_the_id_is_ds0109(tmp_path: Path) -> None:
    text = MINIMAL.replace('family = "stock"', 'family = "credit"', 1)
    err = _broken(tmp_path, text)
    [d] = err.diagnostics
    assert d.code == "DS0109"
    assert "family 'credit'" in d.message and "prefix 'stock'" in d.message
    assert d.line == _line_of(text, 'family = "credit"')


def test_family_missing_from_families_table_is_ds0109(tmp_path: Path) -> None:
    text = MINIMAL.replace('id = "stock.check_before_push"\nfamily = "stock"', 'id = "stocks.check_before_push"\nfamily = "stocks"')
    err = _broken(tmp_path, text)
    [d] = err.diagnostics
    assert d.code == "DS0109"
    assert "'stocks' is not a key of [families]" in d.message
    assert d.line == _line_of(text, 'family = "stocks"')


@pytest.mark.parametrize(
    ("old", "new", "needle", "fragment"),
    [
        ('coverage = "stated"', 'coverage = "Stated"', 'coverage = "Stated"', "coverage"),
        ('id = "stock.check_before_push"', 'id = "Stock.Check"', 'id = "Stock.Check"', "id"),
        ("ours = false", 'ours = "no"', 'ours = "no"', "ours"),
        ("ours = false", "ours = false\ncolour = 3", "colour = 3", "unknown field 'colour'"),
        ('en = "Look at stock and sales first."', 'en = "   "', 'en = "   "', "explain.en"),
    ],
)
def test_invalid_values_are_ds0109_with_line(tmp_path: Path, old: str, new: str, needle: str, fragment: str) -> None:
    text = MINIMAL.replace(old, new, 1) if old.startswith("ours") else _replace_last(MINIMAL, old, new)
    err = _broken(tmp_path, text)
    [d] = err.diagnostics
    assert d.code == "DS0109"
    assert fragment in d.message
    assert d.line == _line_of(text, needle)


def _replace_last(text: str, old: str, new: str) -> str:
    head, sep, tail = text.rpartition(old)
    assert sep, old
    return head + new + tail


def test_missing_field_is_ds0109(tmp_path: Path) -> None:
    text = MINIMAL.replace('quote = "了解分销商库存"\n', "")
    err = _broken(tmp_path, text)
    [d] = err.diagnostics
    assert d.code == "DS0109"
    assert "'quote' is missing" in d.message
    assert d.line == _line_of(text, "[principle.citation]", occurrence=2)


def test_several_problems_are_all_reported(tmp_path: Path) -> None:
    text = MINIMAL.replace('coverage = "stated"', 'coverage = "maybe"').replace('family = "stock"', 'family = "credit"', 1)
    err = _broken(tmp_path, text)
    assert [d.code for d in err.diagnostics] == ["DS0109"] * 3
    assert [d.line for d in err.diagnostics] == sorted(d.line for d in err.diagnostics)


def test_missing_file_and_bad_encoding(tmp_path: Path) -> None:
    with pytest.raises(DiagnosticError) as info:
        load_catalogue(tmp_path / "nothere.toml")
    assert [d.code for d in info.value.diagnostics] == ["DS0001"]

    path = tmp_path / "latin1.toml"
    path.write_bytes('version = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(DiagnosticError) as info:
        load_catalogue(path)
    assert [d.code for d in info.value.diagnostics] == ["DS0002"]
