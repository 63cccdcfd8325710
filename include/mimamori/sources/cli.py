"""``python -m mimamori.sources check``: dry-run a town's mapping, alone or on delivered files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DESCRIPTION = """\
各課のシステムが出力したファイルを、契約（docs/contract/extracts.csv）の形に対応づけるための道具です。
対応表は towns/<町>/sources/<提供元>.yaml に置きます（手順: docs/onboarding.md）。
ファイルの中身（氏名・住所・生年月日などの値）は画面に表示しません。件数と形だけを表示します。

Tools for mapping a department's own export to the input contract (docs/onboarding.md).
No value of a file is ever printed: only counts and shapes.
"""

EPILOG = """\
例 / examples:
  bin/mimamori sources check towns/見守町/sources/jumin.yaml
      対応表の書き方だけを確認（行番号つきで誤りを表示）
  bin/mimamori sources check towns/見守町/sources/jumin.yaml inbox/2026-10/jumin/
      対応表を実際のファイルに当てはめて確認（何も取り込みません）

終了コード / exit status: 0 合格 passed · 1 対応表の誤り mapping mistakes (IT) ·
  3 データの問題のみ data problems only (data owner) · 2 使い方の誤り usage
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bin/mimamori sources",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="check")
    chk = sub.add_parser(
        "check",
        help="対応表の確認（ドライラン） / dry-run a mapping",
        description="対応表のドライラン: 対応表を読み、誤りを行番号つきで示します。ファイル（またはフォルダ）を指定すると、"
        "月次処理と同じように当てはめて、対応表の問題（情報システム担当）とデータの問題（データ所有者）を分けて示します。"
        "データベースには何も書きません。 / Check a mapping and, given files, apply it as the monthly load would."
        " Nothing is written anywhere.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    chk.add_argument("mapping", type=Path, metavar="MAPPING", help="対応表 towns/<町>/sources/<提供元>.yaml")
    chk.add_argument("files", type=Path, nargs="*", metavar="FILE", help="届いたファイル、またはそのフォルダ（複数可）")
    chk.add_argument("--month", metavar="YYYY-MM", help="対象月（省略時は抽出日から推定） / run month")
    chk.add_argument("--registry", type=Path, default=None, help="提供元の登録（既定 include/sources）")
    chk.add_argument("--english", action="store_true", help="英語で表示 / messages in English")
    args = parser.parse_args(argv)
    return _check(args)


def _registry(path: Path | None):
    from mimamori.ingest.registry import RegistryError, load_registry

    try:
        return load_registry(path)
    except RegistryError as exc:
        print(f"提供元の登録を読めません / registry error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _check(args) -> int:
    from mimamori.sources.check import dry_run, render

    if not args.mapping.is_file():
        print(f"対応表が見つかりません / no such mapping: {args.mapping}", file=sys.stderr)
        return 2
    missing = [str(p) for p in args.files if not p.exists()]
    if missing:
        print(f"ファイルが見つかりません / no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.month is not None:
        from mimamori.ingest.validate import month_bounds

        try:
            month_bounds(args.month)
        except ValueError:
            print("--month は YYYY-MM の形で指定してください / --month must be YYYY-MM", file=sys.stderr)
            return 2
    report = dry_run(args.mapping, _registry(args.registry), args.files, run_month=args.month)
    print(render(report, english=args.english))
    return report.exit_code
