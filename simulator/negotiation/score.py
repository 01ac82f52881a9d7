"""Score items: what a finished negotiation says about each course principle.

`score_items(result)` returns plain data, one item per principle the negotiation gave evidence on:

    {"principle": "nego.mid_concessions", "points": -2, "reason_zh": "…", "reason_en": "…"}

points run from −2 to +2 (0 = seen, neither followed nor broken). The scoring module adds them to
the choice-tagged points. Every rule and threshold here is OURS: the course names the fourteen
techniques (seed 002, 第九讲) and "interests, not positions" (seed 000) without any measure; the
measures follow the catalogue's "Proposed (not in the seed)" hooks. docs/NEGOTIATION.md lists them.
"""

from __future__ import annotations

from simulator.negotiation.metrics import Result

# Our thresholds (proposed, not in the course)
NEAR_FRONTIER = 0.05  # a deal this close to the Pareto frontier (utility units) is efficient
FAR_FRONTIER = 0.15  # … this far leaves much on the table for both
GOOD_JOINT = 0.8  # joint gain ≥ 80 % of the best possible
FAIR_JOINT = 0.6
LARGE_FIRST_CONCESSION = 0.2  # a first concession of ≥ 20 % of the company's utility
SHRINKING = 0.3  # concession-pattern index from which the steps clearly shrink

PRINCIPLES = (
    "nego.open_questions", "nego.open_listening", "nego.open_win_win", "nego.open_perspective",
    "nego.open_reluctance", "nego.open_no_to_first_condition", "nego.mid_restate", "nego.mid_explore_options",
    "nego.mid_concessions", "nego.mid_authority", "nego.mid_break_deadlock", "nego.close_empathy",
    "nego.close_good_cop_bad_cop", "nego.close_summarize_benefits", "conflict.interests_not_positions",
)


def _item(principle: str, points: int, zh: str, en: str) -> dict:
    return {"principle": principle, "points": int(points), "reason_zh": zh, "reason_en": en}


def explored_packages(r: Result) -> int:
    """The distinct packages the trainee explored: its offers that differ from the terms on the table
    (the counterpart's standing bid; the bad cop's extreme demand is not one) on two issues or more.

    Measured against the table, not against the trainee's own last offer, so that tuning one term of
    a full package is still a package (PRINCIPLES.md's hook: "number of distinct packages explored").
    """
    standing: dict = {}
    seen: set[tuple] = set()
    for entry in r.trace:
        if entry["by"] != "trainee":
            if entry["kind"] != "bad_cop":
                standing = entry["offer"]
            continue
        offer = entry["offer"]
        if sum(1 for k, v in offer.items() if standing.get(k) != v) >= 2:
            seen.add(tuple(sorted(offer.items())))
    return len(seen)


def _probes(r: Result) -> tuple[str, str] | None:
    """How the trainee probed for options besides proposing (the course's "what if" probes), as a
    clause in both languages; None if it did not: questions on what each issue is worth to them,
    conditional packages ("if you…, then we…"), an issue brought to the table. (Two plain offers that
    happen to shift value between issues are not a probe: nothing was asked or framed.)"""
    framed = sum(1 for e in r.trace if e["by"] == "trainee" and e["kind"] == "package")
    zh, en = [], []
    if r.asks:
        zh.append("问了各项条件对他有多重要")
        en.append("asked what each issue is worth to them")
    if framed:
        zh.append("用“如果你们……我们就……”去试探")
        en.append("probed with \"if you…, then we…\"")
    if r.issues_added:
        zh.append("把新议题拿上了桌")
        en.append("brought another issue to the table")
    if not zh:
        return None
    return "、".join(zh), (", ".join(en[:-1]) + " and " + en[-1]) if len(en) > 1 else en[0]


def score_items(r: Result) -> list[dict]:
    items: list[dict] = []
    add = items.append

    # ---- opening
    if r.asks_before_first_offer >= 2:
        add(_item("nego.open_questions", 2, f"提方案之前先问了{r.asks_before_first_offer}个问题，摸清了对方看重什么。",
                  f"You asked {r.asks_before_first_offer} questions before proposing anything and learned what they value."))
    elif r.asks_before_first_offer == 1:
        add(_item("nego.open_questions", 1, "提方案之前问了一个问题；多问几个，能找到更多交换的空间。",
                  "You asked one question before proposing; a few more would have shown more room to trade."))
    else:
        add(_item("nego.open_questions", -1, "没有先提问就直接谈条件，不知道对方真正看重什么。",
                  "You went straight to terms without asking what they really value."))

    if r.listens >= 1:
        add(_item("nego.open_listening", 1, "你让对方把话说完，他透露得更多、更准。",
                  "You let them finish; they disclosed more, and more accurately."))
    else:
        add(_item("nego.open_listening", 0, "这次没有专门倾听对方。", "You did not stop to listen this time."))

    if r.accepted_first:
        add(_item("nego.open_reluctance", -1, "一上来就接受，显得太着急。", "Accepting at once looked eager."))
    elif r.reluctant_early:
        add(_item("nego.open_reluctance", 1, "开局表现得不着急，对方的开价因此放低了。",
                  "You looked unhurried at the start, and their opening level came down."))

    if r.accepted_first:
        extra_zh = "对方随即又追加了条件。" if r.nibbled else ""
        extra_en = " They came back with a further demand at once." if r.nibbled else ""
        add(_item("nego.open_no_to_first_condition", -2, "直接接受了对方的第一个条件，把本可以谈下来的空间留在了桌上。" + extra_zh,
                  "You accepted their first demand and left value on the table." + extra_en))
    elif r.said_no_first:
        add(_item("nego.open_no_to_first_condition", 2, "对第一个条件说了“不”，没有被对方的开价锚定。",
                  "You said no to the first demand instead of anchoring on it."))
    elif r.offers > 0 or r.asks > 0:
        add(_item("nego.open_no_to_first_condition", 1, "没有接受第一个条件，而是提问或还价。",
                  "You did not take the first demand; you asked or countered instead."))

    if r.deal:
        if r.pareto_distance <= NEAR_FRONTIER:
            add(_item("nego.open_win_win", 1, "成交方案接近双赢的边界：没有哪一方还能在不损害对方的前提下更好。",
                      "The deal is close to the win-win frontier: neither side could gain without the other losing."))
        elif r.pareto_distance > FAR_FRONTIER:
            add(_item("nego.open_win_win", -1, "成交方案离双赢边界很远，双方都还能更好。",
                      "The deal is far from the win-win frontier; both sides could have done better."))
    elif r.max_joint_gain > 0:
        add(_item("nego.open_win_win", -1, "本来存在双方都能接受的方案，但没有谈成。",
                  "A deal both sides could accept existed, but none was reached."))

    if r.offers:
        share = r.offers_in_their_zone
        if share >= 0.5:
            add(_item("nego.open_perspective", 1, f"你的方案有{share:.0%}落在对方能接受的范围内。",
                      f"{share:.0%} of your offers were ones they could actually accept."))
        elif share == 0:
            add(_item("nego.open_perspective", -1, "你提的方案没有一个是对方能接受的。",
                      "None of your offers was one they could accept."))

    # ---- middle game
    if r.restates >= 1:
        add(_item("nego.mid_restate", 1, "你复述并确认了已谈定的条件，对方后来没有再翻案。" if r.reopened == 0 else "你复述并确认了已谈定的条件。",
                  "You restated and confirmed the agreed points." + (" They were not reopened." if r.reopened == 0 else "")))
    elif r.reopened >= 1:
        add(_item("nego.mid_restate", -1, f"谈定的{r.reopened}项没有复述确认，后来又被对方翻了出来。",
                  f"{r.reopened} agreed point(s) were never confirmed, and they reopened them later."))

    # 「探询可行方案」 (PRINCIPLES.md nego.mid_explore_options): several packages across issues, and
    # "what if" probes, are followed; haggling over one term alone is broken.
    packages = explored_packages(r)
    probes = _probes(r)
    if packages >= 2 and probes:
        add(_item("nego.mid_explore_options", 2, f"你试了{packages}套跨议题的组合方案，还" + probes[0] + "：这正是在探询可行方案。",
                  f"You tried {packages} different packages across issues and " + probes[1] + ": that is exploring feasible options."))
    elif packages >= 2:
        add(_item("nego.mid_explore_options", 1, f"你试了{packages}套跨议题的组合方案；先问问对方看重什么，或用“如果你们……我们就……”去试探，能找到更好的交换。",
                  f"You tried {packages} different packages across issues; asking what matters to them, or probing with \"if you…, then we…\", would find better trades."))
    elif packages == 1 and probes:
        add(_item("nego.mid_explore_options", 1, "你提了一套跨议题的组合方案，也" + probes[0] + "；多试几套，才知道哪种组合对方最能接受。",
                  "You put one package across issues on the table and " + probes[1] + "; trying a few more shows which mix they can best accept."))
    elif packages == 1:
        add(_item("nego.mid_explore_options", 0, "只提了一套跨议题的方案，没有再探询别的组合。",
                  "You proposed only one package across issues and explored no other mix."))
    elif r.issues_added:
        add(_item("nego.mid_explore_options", 0, "你把新议题拿上了桌，却没有提出跨议题的组合方案。",
                  "You brought another issue to the table but never proposed a package across issues."))
    elif r.offers >= 2:
        add(_item("nego.mid_explore_options", -1, "每次只在一个条件上讨价还价，没有试过跨议题的组合方案。",
                  "You haggled over one term at a time and never tried a package across issues."))

    c = r.concession
    if c.steps:
        if c.equal_large >= 1:
            pts, zh, en = -2, "让步幅度大而且不递减，对方学会了继续加压。", "Your concessions were large and not shrinking; they learned to keep pushing."
        elif c.first >= LARGE_FIRST_CONCESSION:
            pts, zh, en = -1, "第一步就让了一大步。", "Your first concession was a large one."
        elif len(c.steps) >= 2 and c.index >= SHRINKING:
            pts, zh, en = 2, "让步一步比一步小，向对方传递了“快到底线了”的信号。", "Your concessions shrank step by step, signalling your limit."
        elif len(c.steps) < 2 or c.index > 0:
            pts, zh, en = 1, "让步有节制。", "Your concessions were measured."
        else:
            pts, zh, en = 0, "让步没有逐步减小，对方看不出你的底线在哪里。", "Your concessions did not shrink, so they could not see your limit approaching."
        if r.unconditional_concessions >= 2:
            pts = max(-2, pts - 1)
            zh += f"有{r.unconditional_concessions}次让步没有换回任何东西。"
            en += f" {r.unconditional_concessions} concessions got nothing in return."
        add(_item("nego.mid_concessions", pts, zh, en))

    if 1 <= r.authority_uses <= 2:
        add(_item("nego.mid_authority", 1, "借助上级权限，避免了当场被逼表态。", "Referring to your director kept you from committing on the spot."))
    elif r.authority_uses > 2:
        add(_item("nego.mid_authority", -1, "反复说要请示领导，权威反而打了折扣。", "Checking with your director again and again wore out its credibility."))

    if r.deadlocks:
        if r.deadlocks_broken:
            add(_item("nego.mid_break_deadlock", 1, "谈判陷入僵局时，你换了个办法把它打开了。", "When talks stalled you changed something and broke the deadlock."))
        else:
            add(_item("nego.mid_break_deadlock", -1, "陷入僵局后仍在重复同样的方案。", "In the deadlock you kept repeating the same position."))

    # ---- closing
    if r.empathised:
        add(_item("nego.close_empathy", 1, "你体谅了对方的难处，他签得更舒服。", "You acknowledged their concerns; they could say yes without losing face."))
    elif r.deal:
        add(_item("nego.close_empathy", 0, "收尾时没有照顾对方的感受。", "You closed without acknowledging their concerns."))

    if r.good_cop_played:
        if r.good_cop_conceded == 0:
            add(_item("nego.close_good_cop_bad_cop", 2,
                      "识破了黑白脸，没有向“白脸”让步。" + ("还把它点破了，把两人当作一方。" if r.tactic_named else ""),
                      "You did not give the good cop anything." + (" You named the act and treated them as one side." if r.tactic_named else "")))
        else:
            add(_item("nego.close_good_cop_bad_cop", -2, "向“白脸”让了步，却没有换来对方整体的承诺。",
                      "You conceded to the good cop without a commitment from their side as a whole."))
    elif r.tactic_misnamed:
        add(_item("nego.close_good_cop_bad_cop", -1, "对方并没有唱黑白脸，指责反而伤了气氛。", "They were not playing good cop / bad cop; the accusation hurt the mood."))

    if r.deal:
        if r.summarised_before_close:
            add(_item("nego.close_summarize_benefits", 1, "成交前总结了方案给对方带来的好处。", "You summarised the proposal's benefits for them before closing."))
        else:
            add(_item("nego.close_summarize_benefits", -1, "成交前没有总结方案的好处。", "You closed without summarising what the proposal gives them."))

    # ---- interests, not positions
    ratio = r.joint_gain_ratio
    if r.asks >= 1 and r.deal and ratio >= GOOD_JOINT:
        add(_item("conflict.interests_not_positions", 2, f"你弄清了对方的利益所在，双方合计拿到了最大可能收益的{ratio:.0%}。",
                  f"You found out their interests; together you reached {ratio:.0%} of the best possible joint gain."))
    elif r.asks >= 1 and r.deal and ratio >= FAIR_JOINT:
        add(_item("conflict.interests_not_positions", 1, f"你了解了对方的利益，合计收益达到最大可能的{ratio:.0%}。",
                  f"You learned their interests; the joint gain reached {ratio:.0%} of the best possible."))
    elif r.asks == 0 and r.stubborn_offers >= 2:
        add(_item("conflict.interests_not_positions", -2, "只是坚持立场、重复要价，没有了解对方的利益。",
                  "You argued positions and repeated demands instead of finding out their interests."))
    elif r.asks == 0:
        add(_item("conflict.interests_not_positions", -1, "没有了解对方的利益就谈条件。", "You bargained without finding out their interests."))
    else:
        add(_item("conflict.interests_not_positions", 0, f"合计收益为最大可能的{ratio:.0%}。", f"The joint gain was {ratio:.0%} of the best possible."))
    return items
