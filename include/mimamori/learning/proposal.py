"""A proposal as files a person reviews: fitted weights, proposed seeds, their diff, the what-if.

``write_weights`` writes ``weights.csv`` (per type and feature: current points, the data's log
odds ratio, the posterior, the proposed points, each town's contribution) and ``weights.md``.
``write_proposal`` adds ``type_items.csv`` and ``types.csv`` as they would be, ``seed.diff``
(a unified diff against ``dbt_project/seeds/rules/``), ``whatif.md`` (aggregates: for the
coordinator's screen; the counts in it are not disclosure-controlled, so it does not leave the
coordinator) and ``whatif_ids.csv`` (the children gained and lost: coordinator only; the folder
is created 0700 and the file 0600). Nothing here edits the seeds: adoption is applying the diff
in a reviewed commit.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pandas as pd

from mimamori.learning.fit import SCALE, FeatureFit
from mimamori.learning.rules import RULES_DIR, RuleSet
from mimamori.learning.whatif import DIMENSIONS, WhatIf


def _private_dir(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    return out


def weights_frame(fits: list[FeatureFit]) -> pd.DataFrame:
    rows = []
    for f in fits:
        rows.append(
            {
                "type_code": f.type_code,
                "feature": f.feature,
                "items": " ".join(f.items),
                "current_points": f.current_points,
                "data_log_odds_ratio": None if f.log_odds_ratio is None else round(f.log_odds_ratio, 3),
                "data_variance": None if f.variance is None else round(f.variance, 3),
                "posterior_points": round(f.posterior_mean / SCALE, 2),
                "proposed_points": f.points,
                "contributions": " ".join(f"{s}:{w:.2f}" for s, w in sorted(f.contributions.items())),
            }
        )
    return pd.DataFrame(rows)


def write_weights(out: Path, rules: RuleSet, fits: list[FeatureFit], *, title: str) -> Path:
    out = _private_dir(Path(out))
    df = weights_frame(fits)
    df.to_csv(out / "weights.csv", index=False)
    changed = df[df["current_points"] != df["proposed_points"]]
    lines = [
        f"# 重みの提案（{title}）",
        "",
        "1点 ＝ 会議で検討したこどもの中で「要支援」のオッズが約2倍。今のルール（1項目1点）を事前分布の中心とし、",
        "データがそれを上回るときだけ点数が動きます。これは提案であり、ルールを変えるのは人による確認を経た seed の変更だけです。",
        "",
        f"変わる項目：{len(changed)} / {len(df)}",
        "",
        "| 類型 | 項目 | 今 | データの対数オッズ比 | 事後（点） | 提案 |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in df.itertuples():
        lor = "—" if pd.isna(r.data_log_odds_ratio) else f"{r.data_log_odds_ratio:.2f}"
        lines.append(
            f"| {r.type_code} | {r.feature} | {r.current_points} | {lor} | {r.posterior_points:.2f} | {r.proposed_points} |"
        )
    (out / "weights.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def seed_diff(proposed: RuleSet, rules_dir: Path = RULES_DIR) -> str:
    parts = []
    for name, text in (("type_items.csv", proposed.type_items_csv()), ("types.csv", proposed.types_csv())):
        current = (rules_dir / name).read_text(encoding="utf-8")
        parts.extend(
            difflib.unified_diff(
                current.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"a/dbt_project/seeds/rules/{name}",
                tofile=f"b/dbt_project/seeds/rules/{name}",
            )
        )
    return "".join(parts)


def whatif_markdown(result: WhatIf, refusals: list[str], current: RuleSet, proposed: RuleSet) -> str:
    lines = [
        "# 提案のwhat-if（総括管理のみ）",
        "",
        f"対象月：{result.months[0]}～{result.months[-1]}（{len(result.months)}か月）。会議に提案する世帯数：{current.households_per_month}。",
        "データによる判定は支援の必要性に気づくための手がかりであり、レッテルではありません。",
        "",
        "## 類型ごとの気づき（こども×月）",
        "",
        "| 類型 | 基準点数（今→提案） | 今 | 提案 |",
        "|---|---|---:|---:|",
    ]
    for r in result.flagged.itertuples():
        lines.append(
            f"| {current.types[r.type_code].label_ja} | {current.types[r.type_code].threshold}→"
            f"{proposed.types[r.type_code].threshold} | {r.current} | {r.proposed} |"
        )
    lines += [
        "",
        "## 会議の候補（上位の世帯のこども、こども×月）",
        "",
        f"今：{result.candidates['current']}　提案：{result.candidates['proposed']}　"
        f"新たに候補になる：{len(result.gained)}　候補から外れる：{len(result.lost)}（宛名番号は whatif_ids.csv）",
        "",
        f"町が把握しているこどものうち今の気づき：{result.known_flagged}、提案で外れる：{result.known_lost}"
        f"（{result.known_lost_share:.1%}）",
        "",
        "## 気づきの割合の格差比（最新月、区分の中で最も高い割合÷最も低い割合）",
        "",
        "| 区分 | 今 | 提案 |",
        "|---|---:|---:|",
    ]
    if result.ratios is not None:
        for r in result.ratios.itertuples():
            lines.append(
                f"| {DIMENSIONS.get(r.dimension, r.dimension)} | {r.ratio_current:.2f} | {r.ratio_proposed:.2f} |"
            )
    lines += ["", "## 区分ごとの気づき（最新月）", "", "| 区分 | 値 | こども | 今 | 提案 |", "|---|---|---:|---:|---:|"]
    if result.fairness is not None:
        for r in result.fairness.itertuples():
            lines.append(
                f"| {DIMENSIONS.get(r.dimension, r.dimension)} | {r.group} | {r.children} | {r.flagged_current} | {r.flagged_proposed} |"
            )
    lines += ["", "## 判定（ガード）", ""]
    lines += [f"- 却下：{x}" for x in refusals] or [
        "- ガードの範囲内です。採用するには seed.diff をレビューしてコミットしてください。"
    ]
    return "\n".join(lines) + "\n"


def write_proposal(out: Path, current: RuleSet, proposed: RuleSet, result: WhatIf, refusals: list[str]) -> Path:
    out = _private_dir(Path(out))
    (out / "type_items.csv").write_text(proposed.type_items_csv(), encoding="utf-8")
    (out / "types.csv").write_text(proposed.types_csv(), encoding="utf-8")
    (out / "seed.diff").write_text(seed_diff(proposed), encoding="utf-8")
    (out / "whatif.md").write_text(whatif_markdown(result, refusals, current, proposed), encoding="utf-8")
    ids = out / "whatif_ids.csv"
    rows = ["change,month,person_id"]
    rows += [f"gained,{m},{p}" for m, p in result.gained] + [f"lost,{m},{p}" for m, p in result.lost]
    ids.write_text("\n".join(rows) + "\n", encoding="utf-8")
    os.chmod(ids, 0o600)
    return out
