"""The simulated-user report: a markdown file with the tables, the goals, PNG plots and the run's provenance."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evals.stats import fmt, paired

# The goals issue #5 sets for the full agent (offline default), checked in every standard report.
GOALS = {"success": 0.90, "avg_turns": 2.5, "turn1_vs_cf": 1.5, "cold_vs_warm": 0.6}
# issues #11, #21: success by turn above the strongest dialogue baseline (constraints + popularity) at every
# turn, by the margin and with the paired 95% interval above 0
GOALS_VS_BASELINE = {"constraints-pop": 0.05}


def _keys(report: dict[str, Any]) -> tuple[str, str, str, int]:
    p = report["protocol"]
    n, k = p["max_turns"], p["k"]
    return f"success@{n}", "success_by_turn", f"ndcg@{k}", n


def format_table(report: dict[str, Any]) -> str:
    """The main table, one row per system, as markdown."""
    success, recall, ndcg, n = _keys(report)
    k = report["protocol"]["k"]
    run = report.get("run", {})
    head = ["system", "users", success, "avg turns", *[f"by t{t}" for t in range(1, n + 1)],
            *[f"hit t{t}" for t in range(1, n + 1)], f"NDCG@{k}", "left", "narrowed", "wall s", "ms/turn"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in report["systems"].items():
        a = r["all"]
        row = [name, str(a["users"]), f"{a[success]:.3f}", f"{a['avg_turns']:.2f}", *[f"{v:.3f}" for v in a[recall]],
               *[_num(v, 3) for v in a.get("hit_rate_by_turn", [])], f"{a[ndcg]:.3f}", _num(a.get("left"), 3),
               str(a.get("narrowed", {}).get("conversations", "-")),
               _num(run.get("wall_s", {}).get(name)), _num(run.get("ms_per_turn", {}).get(name), 0)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def format_comparisons(report: dict[str, Any], key: str = "comparisons") -> str:
    """Each "lead vs other" as the mean per-user difference and its paired 95% interval, per
    metric: success@N, success by each turn, NDCG at the end ('' when the report has none)."""
    comps = {name: c for name, c in report.get(key, {}).items() if c}
    if not comps:
        return ""
    metrics = list(next(iter(comps.values())))
    head = ["comparison", *[m.replace("success_by_turn_", "by t") for m in metrics]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, c in comps.items():
        lines.append("| " + " | ".join([name, *[fmt(c[m]) + ("" if c[m]["above_zero"] or c[m]["below_zero"] else " ~")
                                               for m in metrics]]) + " |")
    return "\n".join(lines)


def format_llm(report: dict[str, Any]) -> str:
    """The LLM planner's share of turns, time and invariants, for systems that used it ('' if none)."""
    rows = [(name, r["all"]["llm"]) for name, r in report["systems"].items() if "llm" in r["all"]]
    if not rows:
        return ""
    head = ["system", "turns", "LLM-planned turns", "accepted", "fell back", "LLM called", "accepted when called",
            "LLM ms p50 (called)", "LLM ms p99 (called)", "slowest turn ms", "items outside catalog",
            "items breaking said constraints"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, x in rows:
        cells = [name, str(x["turns"]), str(x["llm_turns"]), _num(x["accepted"], 3), _num(x["fell_back"], 3),
                 str(x.get("called_turns", "-")), _num(x.get("accepted_when_called"), 3),
                 _num(x["llm_ms_p50"], 0), _num(x["llm_ms_p99"], 0), _num(x["turn_ms_max"], 0),
                 str(x["items_outside_catalog"]), str(x["items_breaking_said_constraints"])]
        lines.append("| " + " | ".join(cells) + " |")
    for name, x in rows:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(x.get("fallback_reasons", {}).items(), key=lambda kv: -kv[1]))
        lines.append(f"\n{name} fell back because: {reasons or 'never'}.")
    return "\n".join(lines)


def format_buckets(report: dict[str, Any], key: str) -> str:
    """Success and average turns per bucket (``target_popularity`` or ``user_activity``)."""
    success, _, _, _ = _keys(report)
    names = list(report["protocol"]["buckets"][key])[:-1]  # the last entry says what the buckets count
    spans = report["protocol"]["buckets"][key]
    first = next(iter(report["systems"].values()))[key]
    head = ["system", *[f"{b} ({spans[b]}; {first[b]['users']} users)" for b in names]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in report["systems"].items():
        cells = [f"{r[key][b][success]:.3f} / {r[key][b]['avg_turns']:.2f}" if r[key][b]["users"] else "-" for b in names]
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return "\n".join(lines)


def check_goals(report: dict[str, Any]) -> list[tuple[str, bool | None, str]]:
    """(goal, met?, the numbers) for the full agent; None where the report lacks what a goal needs."""
    success, recall, _, n = _keys(report)
    systems = report["systems"]
    agent = systems.get("agent")
    if agent is None:
        return []
    a = agent["all"]
    out = [
        (f"{success} >= {GOALS['success']}", a[success] >= GOALS["success"], f"{a[success]:.3f}"),
        (f"avg turns <= {GOALS['avg_turns']}", a["avg_turns"] <= GOALS["avg_turns"], f"{a['avg_turns']:.2f}"),
    ]
    if "cf" in systems:
        cf1, a1 = systems["cf"]["all"][recall][0], a[recall][0]
        ratio = a1 / cf1 if cf1 else float("inf")
        out.append((f"recall after turn 1 >= {GOALS['turn1_vs_cf']}x cf", ratio >= GOALS["turn1_vs_cf"],
                    f"{a1:.3f} vs cf {cf1:.3f} = {ratio:.2f}x"))
    for name, margin in GOALS_VS_BASELINE.items():
        comp = report.get("comparisons", {}).get(f"agent vs {name}")
        if name in systems and comp:
            per_turn = [comp[f"success_by_turn_{t}"] for t in range(1, n + 1)]
            out.append((f"success by turn >= {name} + {margin} at every turn, 95% interval above 0",
                        all(c["mean"] >= margin and c["above_zero"] for c in per_turn),
                        " / ".join(fmt(c) for c in per_turn)))
    cold, warm = agent["target_popularity"]["cold"], agent["target_popularity"]["warm"]
    if cold["users"] and warm["users"]:
        ratio = cold[success] / warm[success] if warm[success] else float("inf")
        out.append((f"cold-target success >= {GOALS['cold_vs_warm']}x warm", ratio >= GOALS["cold_vs_warm"],
                    f"{cold[success]:.3f} vs {warm[success]:.3f} = {ratio:.2f}x"))
    for name in ("agent-no-memory", "agent-no-rerank", "constraints-pop", "content", "cf", "pop"):
        if name in systems:
            other = systems[name]["all"][success]
            out.append((f"{name} below agent ({success})", other < a[success], f"{other:.3f} vs {a[success]:.3f}"))
    return out


def plot_success_by_turn(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, recall, _, n = _keys(report)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, r in report["systems"].items():
        ax.plot(range(1, n + 1), r["all"][recall], marker="o", label=name)
    ax.set_xlabel("turn")
    ax.set_ylabel(f"success by turn (target in a top {report['protocol']['k']} so far)")
    ax.set_xticks(range(1, n + 1))
    ax.set_ylim(0, 1)
    ax.set_title(f"{report['protocol']['users']} simulated users, {report['protocol']['name']} protocol")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_success_by_bucket(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    success, _, _, _ = _keys(report)
    systems = list(report["systems"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, key, title in zip(axes, ("target_popularity", "user_activity"),
                              ("by target popularity (train interactions)", "by user activity (train history)"), strict=True):
        buckets = list(report["protocol"]["buckets"][key])[:-1]
        width = 0.8 / len(systems)
        for j, name in enumerate(systems):
            vals = [report["systems"][name][key][b].get(success, 0.0) for b in buckets]
            ax.bar([i + j * width for i in range(len(buckets))], vals, width, label=name)
        spans = report["protocol"]["buckets"][key]
        ax.set_xticks([i + width * (len(systems) - 1) / 2 for i in range(len(buckets))],
                      [f"{b}\n{spans[b]}" for b in buckets])
        ax.set_title(f"{success} {title}")
        ax.set_ylim(0, 1)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(report: dict[str, Any], out_dir: Path, conversations: Sequence[dict[str, Any]] = ()) -> Path:
    """Write report.md, results.json, the two plots and conversations.jsonl into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(report, indent=2))
    plot_success_by_turn(report, out_dir / "success_by_turn.png")
    plot_success_by_bucket(report, out_dir / "success_by_bucket.png")
    if conversations:
        with open(out_dir / "conversations.jsonl", "w") as f:
            for c in conversations:
                f.write(json.dumps(c) + "\n")
    (out_dir / "report.md").write_text(render_markdown(report, bool(conversations)))
    return out_dir / "report.md"


def render_markdown(report: dict[str, Any], with_conversations: bool = False) -> str:
    p, run = report["protocol"], report.get("run", {})
    success, _, _, n = _keys(report)
    lines = [
        f"# Simulated-user evaluation: {p['name']} protocol",
        "",
        f"{p['users']} users of {p['dataset']}, {p['simulator']} simulator, up to {n} turns, k = {p['k']}, "
        f"seed {p['seed']}, CF model `{p['cf_model']}`, targets: {p.get('target', 'test')} items" + (f", {p['cold_items']} cold items" if p["cold_items"] else "") + ".",
        "",
        "```",
        run.get("command", "(command not recorded)"),
        "```",
        "",
        format_table(report),
        "",
        f"{p['definitions']['success']}; avg turns: {p['definitions']['avg_turns']}; "
        f"by tN: {p['definitions']['success_by_turn']}; hit tN: {p['definitions']['hit_rate_by_turn']}; "
        f"NDCG: {p['definitions']['ndcg']}; left: {p['definitions']['left']}; narrowed: {p['definitions']['narrowed']}.",
        "",
        "## Paired comparisons (95% bootstrap intervals over users; ~ : the interval holds 0)",
        "",
        format_comparisons(report),
        "",
        "Without the narrowed conversations (users narrowed in either run left out):",
        "",
        format_comparisons(report, "comparisons_without_narrowed"),
        "",
        f"## By target popularity ({success} / avg turns)",
        "",
        format_buckets(report, "target_popularity"),
        "",
        f"## By user activity ({success} / avg turns)",
        "",
        format_buckets(report, "user_activity"),
        "",
    ]
    llm = format_llm(report)
    if llm:
        lines += ["## The LLM planner", "", llm, ""]
    lines += _questions_and_stale(report)
    goals = check_goals(report)
    if goals and p["name"] in ("standard", "cold-user"):
        lines += ["## Goals for the full agent", "", "| goal | met | numbers |", "|---|---|---|"]
        lines += [f"| {g} | {'yes' if ok else 'NO'} | {nums} |" for g, ok, nums in goals]
        lines.append("")
    lines += [
        "## Plots", "", "![success by turn](success_by_turn.png)", "", "![success by bucket](success_by_bucket.png)", "",
        "## Run", "",
        f"- started {run.get('started_at')}, total {run.get('total_wall_s')} s with {run.get('workers')} worker process(es)",
        f"- code: git {run.get('git')}",
        f"- machine: {json.dumps(run.get('machine', {}))}",
        f"- versions: {json.dumps(run.get('versions', {}))}",
        f"- dataset checksum {p['dataset_checksum']}",
        "",
        "Mean milliseconds per turn in each node of the graph:",
        "",
    ]  # fmt: skip
    node_ms = run.get("node_ms", {})
    nodes = list(dict.fromkeys(n for v in node_ms.values() for n in v))
    if nodes:
        lines += ["| system | " + " | ".join(nodes) + " |", "|" + "---|" * (len(nodes) + 1)]
        lines += [f"| {s} | " + " | ".join(_num(v.get(n), 1) for n in nodes) + " |" for s, v in node_ms.items()]
    if with_conversations:
        lines += ["", "Every conversation, turn by turn: `conversations.jsonl`."]
    return "\n".join(lines) + "\n"


def _questions_and_stale(report: dict[str, Any]) -> list[str]:
    """The questions each system asked (issue 23), and in the stale protocol whether the genre taken
    back came back."""
    rows = {s: v["all"] for s, v in report["systems"].items()}
    out = []
    if any(r.get("questions", {}).get("turns_with_question") for r in rows.values()):
        out += ["## Questions asked (a question-only turn counts as a turn)", "",
                "| system | turns with a question | question-only turns | conversations asked | by kind |", "|---|---|---|---|---|"]
        out += [f"| {s} | {q['turns_with_question']} | {q['question_only_turns']} | {q['conversations_asked']} | "
                f"{', '.join(f'{k} {n}' for k, n in sorted(q['by_kind'].items()))} |"
                for s, r in rows.items() if (q := r.get("questions"))]
        out.append("")
    if any("stale" in r for r in rows.values()):
        out += ["## The genre taken back", "", "| system | conversations | still remembered as loved | films of it shown "
                "in session 3 (mean) |", "|---|---|---|---|"]
        out += [f"| {s} | {r['stale']['conversations']} | {r['stale']['still_loved']} | {r['stale']['films_of_it_shown']} |"
                for s, r in rows.items() if "stale" in r]
        out.append("")
    return out


def _num(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def simulator_gap(dev: dict[str, Any], heldout: dict[str, Any], baseline: str = "constraints-pop") -> dict[str, Any]:
    """How much each system loses from the development simulator to the held-out one (same users,
    targets, protocol and seed): success@N dev - held-out per user, with its paired interval; and
    the agent's drop minus ``baseline``'s, per user (a language gap the baseline does not share)."""
    from evals.runner import compare_outcomes

    n = dev["protocol"]["max_turns"]
    if heldout["protocol"]["max_turns"] != n or heldout["protocol"]["name"] != dev["protocol"]["name"]:
        raise ValueError("compare runs of the same protocol and turn budget")
    both = [s for s in dev.get("per_user", {}) if s in heldout.get("per_user", {})]
    out: dict[str, Any] = {"protocol": dev["protocol"]["name"], "systems": {}}
    for s in both:
        out["systems"][s] = {"dev": dev["systems"][s]["all"][f"success@{n}"],
                             "heldout": heldout["systems"][s]["all"][f"success@{n}"],
                             "drop": compare_outcomes(dev["per_user"][s], heldout["per_user"][s], n)[f"success@{n}"]}
    if "agent" in both and baseline in both:
        def success(report: dict[str, Any], s: str) -> dict[int, float]:
            o = report["per_user"][s]
            return {u: float(t > 0) for u, t in zip(o["user_id"], o["success_turn"], strict=True)}

        parts = [success(dev, "agent"), success(heldout, "agent"), success(dev, baseline), success(heldout, baseline)]
        users = sorted(set.intersection(*(set(p) for p in parts)))
        a_drop = [parts[0][u] - parts[1][u] for u in users]
        b_drop = [parts[2][u] - parts[3][u] for u in users]
        out[f"agent drop - {baseline} drop"] = paired(a_drop, b_drop)
    return out


def memory_share(known: dict[str, Any], stranger: dict[str, Any], memory: dict[str, Any],
                 system: str = "agent") -> dict[str, Any]:
    """How much of the gap between a stranger (cold-user protocol) and the same person with the whole
    history known (standard protocol) the memory protocol's session 2 closes, per user: success@N
    and turn-1 recall, each (memory - stranger) / (known - stranger) with its bootstrap interval."""
    from evals.stats import share_interval

    n = known["protocol"]["max_turns"]
    runs = {"known": known, "stranger": stranger, "memory": memory}
    for name, want in (("known", "standard"), ("stranger", "cold-user"), ("memory", "memory")):
        if runs[name]["protocol"]["name"] != want:
            raise ValueError(f"the {name} run must be of the {want} protocol, not {runs[name]['protocol']['name']}")
        if runs[name]["protocol"]["max_turns"] != n or system not in runs[name].get("per_user", {}):
            raise ValueError(f"the {name} run lacks {system!r} or has another turn budget")
    turn: dict[str, dict[int, int]] = {name: dict(zip(r["per_user"][system]["user_id"], r["per_user"][system]["success_turn"],
                                                       strict=True)) for name, r in runs.items()}
    users = sorted(set.intersection(*(set(t) for t in turn.values())))
    out: dict[str, Any] = {"system": system, "users": len(users), "simulator": memory["protocol"].get("simulator")}
    for metric, hit in ((f"success@{n}", lambda t: float(t > 0)), ("turn-1 recall", lambda t: float(t == 1))):
        v = {name: np.array([hit(turn[name][u]) for u in users]) for name in runs}
        out[metric] = {name: round(float(v[name].mean()), 4) for name in runs}
        out[metric]["share"] = share_interval(v["memory"] - v["stranger"], v["known"] - v["stranger"])
        out[metric]["memory - stranger"] = paired(v["memory"], v["stranger"])
    return out


def format_share(share: dict[str, Any]) -> str:
    lines = ["| measure | stranger | memory (session 2) | known history | memory's share of the gap (95% interval) |",
             "|---|---|---|---|---|"]
    for metric, v in share.items():
        if isinstance(v, dict) and "share" in v:
            s = v["share"]
            lines.append(f"| {metric} | {v['stranger']:.3f} | {v['memory']:.3f} | {v['known']:.3f} | "
                         f"{s['share']:.2f} [{s['lo']:.2f}, {s['hi']:.2f}] |")
    return "\n".join(lines)


def format_gap(gap: dict[str, Any]) -> str:
    lines = ["| system | development | held-out | drop (paired 95% interval) |", "|---|---|---|---|"]
    lines += [f"| {s} | {g['dev']:.3f} | {g['heldout']:.3f} | {fmt(g['drop'])} |" for s, g in gap["systems"].items()]
    for key, value in gap.items():
        if key.startswith("agent drop"):
            lines.append(f"\n{key}: {fmt(value)}")
    return "\n".join(lines)
