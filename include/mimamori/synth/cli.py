"""Command line: ``python -m mimamori.synth --out DIR [--seed 42] [--scale 1.0] [--months 3] ...``."""

from __future__ import annotations

import argparse
import json
import sys

from .faults import DEFAULT_TARGET, KINDS
from .generate import generate, stderr_progress

DESCRIPTION = """\
架空の町「見守町」の各課抽出データ（inbox）と正解データ（truth）を生成します。
Generate the synthetic town's monthly department extracts (inbox/), ground truth (truth/) and
manifest.json. Same seed → byte-identical files; scale 1 ≈ Kaisei (18,738 residents, 3,319
children aged 0–18). No real personal data is used: names come from japanese-personal-name-dataset.
"""

EPILOG = (
    "faults / 障害注入 (applied to the last month; KIND or KIND:source[/file]):\n"
    + "\n".join(f"  {k:<18} default target: {DEFAULT_TARGET[k]}" for k in KINDS)
    + """

examples / 例:
  python -m mimamori.synth --out .local/state/town
  python -m mimamori.synth --out /tmp/town --scale 0.2 --months 2 --fault wrong_encoding --fault missing_source:gakko
  bin/mimamori synth --out /tmp/vendor-town --vendor-layout   # then MIMAMORI_TOWN_DIR=towns/mimamori-vendor
"""
)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m mimamori.synth",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--out", required=True, help="出力先ディレクトリ / output directory (inbox/, truth/, manifest.json)"
    )
    ap.add_argument("--seed", type=int, default=42, help="乱数シード / random seed (default 42)")
    ap.add_argument("--scale", type=float, default=1.0, help="町の規模 / town size, 1 = 18,738 residents (default 1.0)")
    ap.add_argument("--months", type=int, default=3, help="連続する月数 / number of consecutive months (default 3)")
    ap.add_argument("--end-month", default="2026-10", help="最終月 YYYY-MM / last run month (default 2026-10)")
    ap.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND[:TARGET]",
        help="最終月に障害を注入 / inject a fault into the last month (repeatable)",
    )
    ap.add_argument(
        "--vendor-layout",
        action="store_true",
        help="こども支援班と住民記録（固定長）をベンダーのシステムの形で出力（対応表 towns/mimamori-vendor、"
        "docs/onboarding.md） / write kodomo_shien and jumin (fixed width) in vendor layouts, mapped by"
        " towns/mimamori-vendor",
    )
    ap.add_argument("--quiet", action="store_true", help="進捗を表示しない / no progress lines on stderr")
    ap.add_argument("--json", action="store_true", help="要約をJSONで標準出力へ / print the summary as JSON")
    args = ap.parse_args(argv)
    try:
        summary = generate(
            args.out,
            seed=args.seed,
            scale=args.scale,
            months=args.months,
            end_month=args.end_month,
            faults=tuple(args.fault),
            progress=None if args.quiet else stderr_progress,
        )
        if args.vendor_layout:
            from pathlib import Path

            from .vendor import write_vendor_month

            for month in summary.months:
                write_vendor_month(Path(args.out) / "inbox" / month)  # a missing_source fault leaves a source out
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary.as_dict(), ensure_ascii=False, indent=1))
    else:
        last = summary.months[-1]
        fl = summary.flagged[last]
        print(
            f"{args.out}: {len(summary.months)} months, residents {summary.residents[last]}, "
            f"children {summary.children_in_scope[last]}, flagged {fl['any']}, {summary.seconds:.1f}s"
        )
    return 0
