"""What the counterpart says in each situation, in both languages.

The core emits a situation key (`line`) with each event; the front renders it. A scenario can
override any line for its own characters (`[steps.lines]`, docs/NEGOTIATION.md#lines); these are the defaults.
Placeholders: {issue} (the issue's display name), {n}. All lines are ours (the course gives none).
"""

from __future__ import annotations

from collections.abc import Mapping

LINES: dict[str, dict[str, str]] = {
    # bids
    "opening": {"zh": "先说清楚：按这些条件我才考虑。", "en": "Let me be clear: these are my terms before we talk about anything else."},
    "bid": {"zh": "这样吧，我可以接受这个方案。", "en": "All right, here is what I can live with."},
    "bid_final": {"zh": "这是我最后的方案了，再不行就算了。", "en": "This is my last offer. If it doesn't work, we leave it."},
    "bid_deadlock": {"zh": "我们在原地打转，我的条件还是这些。", "en": "We are going round in circles. My terms stand."},
    "bad_cop": {"zh": "（老板拍桌子）这点条件根本不够，我要的是这些！", "en": "(The boss slams the table.) That is nowhere near enough. This is what I want!"},
    "good_cop": {"zh": "（私下）别生气，我去劝劝他——你只要在{issue}上再让一点就行。", "en": "(Aside) Don't mind him. I can talk him round — just give a little more on {issue}."},
    "nibble": {"zh": "好，那就这么定了……哦对了，{issue}上还得再照顾我们一下。", "en": "Good, that's settled… oh, and one more thing: we need a bit more on {issue}."},
    # reactions to the trainee's offers
    "push_on": {"zh": "你这一步让得挺痛快，看来还有空间嘛。", "en": "That was a big step. Clearly there's more room."},
    "limit_signal": {"zh": "看得出你快到底线了。", "en": "I can see you're getting close to your limit."},
    "deadlock": {"zh": "你一点都不动，那我们就僵在这儿了。", "en": "You're not moving at all. Then we're stuck."},
    # endings
    "they_accept": {"zh": "行，就按你说的办。", "en": "Fine. Let's do it your way."},
    "deal": {"zh": "好，成交。", "en": "Good. We have a deal."},
    "they_walk": {"zh": "我看今天谈不下去了，改天再说吧。", "en": "I don't think we'll get anywhere today. Let's leave it."},
    "deadline": {"zh": "时间到了，这个条件我没法签。", "en": "We're out of time, and I can't sign on those terms."},
    "you_walk": {"zh": "那好吧，有需要再联系。", "en": "Very well. Call me if anything changes."},
    # answers to talk moves
    "reveal_high": {"zh": "{issue}对我们来说非常关键。", "en": "{issue} is critical for us."},
    "reveal_medium": {"zh": "{issue}嘛，重要，但不是最要紧的。", "en": "{issue} matters, but it isn't the main thing."},
    "reveal_low": {"zh": "{issue}？那个我们不太在意。", "en": "{issue}? We don't care much about that."},
    "ask_again": {"zh": "这个我刚才已经说过了。", "en": "I've already told you about that."},
    "listen": {"zh": "（对方说了很多：资金压力、库存、下面的分销商……）", "en": "(He talks at length: cash flow, stock, his sub-dealers…)"},
    "listen_again": {"zh": "（他把刚才的话又说了一遍。）", "en": "(He repeats what he said before.)"},
    "restate_confirmed": {"zh": "对，目前有{n}项我们已经谈定了。", "en": "Yes, we agree on {n} point(s) so far."},
    "restate_nothing": {"zh": "对，这就是我的立场。", "en": "Yes, that's my position."},
    "reluctant": {"zh": "哦？你们好像也不是特别着急。", "en": "Oh? You don't seem in any hurry."},
    "reluctant_late": {"zh": "现在才说不着急？", "en": "Not in a hurry — now?"},
    "flinch": {"zh": "（对方看到你的反应，语气缓了一点。）", "en": "(He sees your reaction and softens a little.)"},
    "flinch_again": {"zh": "（他没什么反应。）", "en": "(He doesn't react.)"},
    "flinch_overdone": {"zh": "别演了，大家都是做生意的。", "en": "Stop the theatre. We're both in business."},
    "say_no_first": {"zh": "好吧，那你说说你的想法。", "en": "All right, then tell me what you have in mind."},
    "say_no_later": {"zh": "不行？那你拿个方案出来。", "en": "No? Then put something on the table."},
    "authority": {"zh": "你说了不算？那我们得谈个你们领导能批的方案。", "en": "You can't decide this yourself? Then let's find something your boss will sign."},
    "authority_again": {"zh": "又要请示领导？", "en": "Checking with your boss again?"},
    "authority_overused": {"zh": "每次都请示，那让你们领导来谈吧。", "en": "If you have to ask every time, send your boss instead."},
    "issue_added": {"zh": "把{issue}也拿出来谈？这倒是个思路。", "en": "Put {issue} on the table too? That's an idea."},
    "they_add_issue": {"zh": "没有{issue}，这事就没法谈。", "en": "Without {issue} on the table there is nothing to talk about."},
    "no_issue_to_add": {"zh": "还能谈什么？该谈的都在桌上了。", "en": "What else is there? Everything is on the table."},
    "pause": {"zh": "好，休息一下，喝口茶再谈。", "en": "All right, let's take a break and have some tea."},
    "pause_no_deadlock": {"zh": "休息？我们谈得好好的。", "en": "A break? We were doing fine."},
    "summarise": {"zh": "嗯，这么一算，对我们确实有好处。", "en": "Hm. Put that way, it does work for us."},
    "summarise_again": {"zh": "这些你已经说过了。", "en": "You've said that already."},
    "empathise": {"zh": "你能理解我们的难处就好。", "en": "Good that you understand our situation."},
    "empathise_again": {"zh": "嗯。", "en": "Hm."},
    "tactic_named": {"zh": "（父子俩对视一眼）……好吧，我们一起商量个实在的方案。", "en": "(They exchange a look.) …All right. Let's work out something real, together."},
    "tactic_misnamed": {"zh": "唱黑白脸？你这是什么意思？", "en": "Good cop, bad cop? What are you implying?"},
    "no_more_talk": {"zh": "别光说了，拿个方案出来吧。", "en": "Enough talk. Make me an offer."},
}

LEVEL_LINES = {"high": "reveal_high", "medium": "reveal_medium", "low": "reveal_low"}


def render_line(key: str, lang: str, overrides: Mapping[str, Mapping[str, str]] | None = None, **fmt: object) -> str:
    """The line for a situation in 'zh' or 'en'; a scenario's override wins over the default."""
    table = (overrides or {}).get(key) or LINES[key]
    return table[lang].format(**fmt)

# How each trainee move is offered (the texts of Session.options() at a negotiation step).
MOVE_LABELS: dict[str, dict[str, str]] = {
    "offer": {"zh": "提出方案（逐项给出条件）", "en": "Make an offer (terms per issue)"},
    "package": {"zh": "提出交换方案：“如果你们……我们就……”", "en": "Propose a package: “if you…, then we…”"},
    "accept": {"zh": "接受对方的方案", "en": "Accept their proposal"},
    "walk_away": {"zh": "结束谈判，离开", "en": "Walk away"},
    "ask": {"zh": "提问：某一项对他们有多重要？", "en": "Ask how much an issue matters to them"},
    "listen": {"zh": "认真倾听，让对方把话说完", "en": "Listen; let them finish"},
    "restate": {"zh": "复述并确认已谈定的条件", "en": "Restate and confirm what is agreed"},
    "reluctant": {"zh": "表现得不那么着急", "en": "Act reluctant"},
    "flinch": {"zh": "对这个条件表现出吃惊", "en": "Flinch at the demand"},
    "say_no": {"zh": "对这个条件说“不”", "en": "Say no to this demand"},
    "authority": {"zh": "“这个我得请示领导”", "en": "“I have to check with my director”"},
    "break_deadlock": {"zh": "打破僵局：加一个议题，或者先休息一下", "en": "Break the deadlock: add an issue, or take a break"},
    "summarise": {"zh": "总结这个方案给对方带来的好处", "en": "Summarise the proposal's benefits for them"},
    "empathise": {"zh": "表示理解对方的难处", "en": "Show you understand their concerns"},
    "name_tactic": {"zh": "点破“唱黑白脸”，把两人当作一方", "en": "Name the good-cop/bad-cop act; treat them as one side"},
}


def transcript(events: list[dict], lang: str = "en", overrides: Mapping[str, Mapping[str, str]] | None = None) -> list[str]:
    """A readable account of a negotiation's events (plain mode, docs, debugging). No hidden values."""

    def terms(offer: Mapping[str, object]) -> str:
        return ", ".join(f"{k}={v}" for k, v in offer.items())

    out: list[str] = []
    for e in events:
        kind, d = e["kind"], e["data"]
        if kind == "nego_bid":
            who = {"dealer": "THEM", "bad_cop": "BAD COP", "good_cop": "GOOD COP"}[d["voice"]]
            req = f" [asks: {d['request']}]" if "request" in d else ""
            say = render_line(d["line"], lang, overrides, issue=d.get("request", ""))
            out.append(f"R{d['round'] + 1} {who:8s} {terms(d['offer'])}  (ours {d['own_utility']:.3f}){req}  “{say}”")
        elif kind == "nego_move":
            if "offer" in d:
                out.append(f"R{d['round'] + 1} YOU      {d['move']}: {terms(d['offer'])}  (ours {d['own_utility']:.3f})")
            else:
                arg = " ".join(str(d[k]) for k in ("how", "issue") if k in d)
                out.append(f"R{d['round'] + 1} YOU      {d['move']}{' ' + arg if arg else ''}")
        elif kind == "nego_reply":
            extra = f" reading={d['reading']:.2f} ({d['level']})" if "reading" in d else ""
            say = render_line(d["line"], lang, overrides, issue=d.get("issue", ""), n=d.get("n", ""))
            out.append(f"             → {say}{extra}")
        elif kind == "nego_deadlock":
            out.append(f"             ** deadlock: “{render_line('deadlock', lang, overrides)}”")
        elif kind == "nego_end":
            deal = f"DEAL at {terms(d['offer'])} (ours {d['own_utility']:.3f})" if d["deal"] else "NO DEAL"
            out.append(f"END ({d['reason']}, {d['rounds']} rounds): {deal}  “{render_line(d['line'], lang, overrides)}”")
    return out
