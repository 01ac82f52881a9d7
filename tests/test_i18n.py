"""Every UI string exists in Chinese and English."""

import re

from simulator.i18n import _strings, all_keys, t

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_string_has_both_languages():
    for key, entry in _strings().items():
        assert set(entry) == {"zh", "en"}, key
        assert entry["zh"].strip() and entry["en"].strip(), key
        assert CJK.search(entry["zh"]), f"{key}: zh text has no Chinese"
        assert not CJK.search(entry["en"]), f"{key}: en text has Chinese"


def test_placeholders_match_between_languages():
    for key, entry in _strings().items():
        assert set(re.findall(r"{(\w+)}", entry["zh"])) == set(re.findall(r"{(\w+)}", entry["en"])), key


def test_lookup_fills_placeholders():
    assert t("week", "zh", n=3) == "第3周"
    assert t("week", "en", n=3) == "Week 3"
    assert "week" in all_keys()


def test_every_dealer_field_the_dashboard_can_show_has_a_label_in_both_languages():
    from simulator.market import Market
    from simulator.tui.game import field_label

    for name in Market.DEALER_FIELDS:
        zh, en = field_label(name, "zh"), field_label(name, "en")
        assert zh != name.replace("_", " ") and en, name  # a real label, not the raw field name
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), (name, zh)
