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
  bin/mimamori sources profile --out towns/見守町/sources/jumin.yaml inbox/2026-10/jumin/
      届いたファイルを調べて対応表の下書きを作る（値は表示しません）
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
    sub = parser.add_subparsers(dest="command", required=True, metavar="{profile,check}")
    _profile_parser(sub)
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
    return _profile(args) if args.command == "profile" else _check(args)


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


PROFILE_HELP = """\
初めて見るファイルを調べ、対応表の下書きを作ります（手順: docs/onboarding.md）。
文字コード（CP932 / UTF-8 / BOM付き UTF-8）、カンマ・タブ区切りか固定長か、見出し行の有無、
表題行・合計行・ヘッダ/トレーラレコード、列ごとの型（番号・コード・整数・文字・カナ・日付）と
日付の書き方（和暦・元号コード・YYYYMMDD・YYYY/MM/DD・Excel シリアル値）、和暦の年（R7・令和7年度 →
year: wareki）、「コード:名称」「コード 名称」「名称（コード）」の形の列（下書きに extract: label / code）を
判定し、契約の列に当てはめた下書きを、列ごとの信頼度つきで書きます。
値は数えるだけで表示しません（氏名・住所・生年月日・番号・自由記述は出ません）。コードらしい列
（少ない種類の短い値）だけ、その種類を表示します。人が書く箇所には TODO が付きます。
課のコード表を --codes で渡すと、コード表のコードと内容から codes: を契約の値で埋めます（内容が契約の値と
同じなら TODO なし、含むだけなら TODO 確認、どれでもなければ TODO。表にない届いた値も TODO）。

Profile exports never seen before and propose a draft mapping (docs/onboarding.md): encoding,
delimiter or fixed width, header, title/trailer lines, per column a type and date style (an era year
such as R7 for an integer column: year: wareki) and whether it holds "code:label" cells (drafted as
extract: label / code), matched
to the contract with a confidence per column. Values are counted, never printed; only code-like
columns (few short distinct values) show their codes. Lines a person must fill carry TODO, and
`check` does not pass while one is left. With --codes, the department's code tables fill the code maps
(a label equal to a contract value: no TODO; one only containing it: TODO 確認; none: TODO).
"""

PROFILE_EPILOG = """\
例 / examples:
  bin/mimamori sources profile inbox/2026-10/kodomo_shien/
      フォルダの全ファイルを調べ、下書きを画面に出す（提供元はフォルダ名から）
  bin/mimamori sources profile --source jumin --out towns/見守町/sources/jumin.yaml JUKI_20261110.DAT
      下書きをファイルに書き、調べた結果（件数と形）を画面に出す
  bin/mimamori sources profile --layout 住基レイアウト.xlsx --out towns/見守町/sources/jumin.yaml inbox/2026-10/jumin/
      課からもらったレイアウト表の位置と項目名で下書きを作る（固定長・見出しのない CSV）
  bin/mimamori sources profile --codes 課の資料/ --out towns/見守町/sources/fukushi.yaml inbox/2026-10/fukushi/
      課からもらったコード表（CSV・xlsx。フォルダでも可）で codes: を契約の値で埋める（合わないコードは TODO）
  bin/mimamori sources check towns/見守町/sources/jumin.yaml inbox/2026-10/jumin/
      TODO を直したあと、ドライランで確かめる

終了コード / exit status: 0 下書きを作成 draft written · 2 使い方の誤り usage
"""


def _profile_parser(sub) -> None:
    prof = sub.add_parser(
        "profile",
        help="ファイルを調べて対応表の下書きを作る / profile files, draft a mapping",
        description=PROFILE_HELP,
        epilog=PROFILE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    prof.add_argument(
        "files", type=Path, nargs="+", metavar="FILE", help="届いたファイル、またはそのフォルダ（複数可）"
    )
    prof.add_argument("--source", help="提供元（jumin など）。省略時はフォルダ名、なければ最も合う提供元")
    prof.add_argument("--out", type=Path, help="下書きの書き込み先（省略時は画面へ。調べた結果は標準エラーへ）")
    prof.add_argument("--registry", type=Path, default=None, help="提供元の登録（既定 include/sources）")
    prof.add_argument("--quiet", action="store_true", help="進捗を表示しない / no progress lines")
    prof.add_argument(
        "--layout",
        type=Path,
        action="append",
        default=[],
        metavar="DOC",
        help="課からもらったレイアウト表（CSV か xlsx。項目名・開始位置・桁数など。CSV の出力なら項番と項目名だけでも可）。"
        "固定長の位置と項目名、見出しのない CSV の列の順番を推定せずにここから取ります。ファイル名の列かファイルごとの"
        "表題行があれば、名前の合うファイルにその部分を使います（複数可。合うファイルに使います） / the vendor's layout"
        " document: field names and positions (fixed width) or order (headerless CSV; 項番 and 項目名 suffice) taken"
        " from it instead of guessed; a document of several files is applied per file by name",
    )

    prof.add_argument(
        "--codes",
        type=Path,
        action="append",
        default=[],
        metavar="FILE_OR_DIR",
        help="課からもらったコード表（CSV・TSV か xlsx、CP932 / UTF-8。フォルダなら中のコード表すべて）。列のコード表を"
        "名前と値で探し、codes: を契約の値で埋めます。合わないコードには TODO（複数可） / the department's code tables:"
        " the draft's code maps are filled from them, codes whose label is no contract value left as TODO",
    )


def _files(paths: list[Path]) -> list[Path]:
    out = []
    for p in paths:
        out.extend(sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith(".")) if p.is_dir() else [p])
    return out


def _profile(args) -> int:
    from mimamori.sources.codemap import attach, code_report
    from mimamori.sources.codetable import CodeTableError, read_code_documents
    from mimamori.sources.draft import arrange, best_matches, choose_source
    from mimamori.sources.drafttext import render_draft, render_report
    from mimamori.sources.layoutdoc import LayoutDocError, read_layouts
    from mimamori.sources.scan import profile_with_layouts

    missing = [str(p) for p in args.files if not p.exists()]
    if missing:
        print(f"ファイルが見つかりません / no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    registry = _registry(args.registry)
    if args.source and args.source not in registry:
        print(f"提供元「{args.source}」は契約にありません / unknown source ({'、'.join(registry)})", file=sys.stderr)
        return 2
    files = _files(args.files)
    if not files:
        print("ファイルがありません / no files", file=sys.stderr)
        return 2
    missing = [str(p) for p in args.codes if not p.exists()]
    if missing:
        print(f"コード表が見つかりません / no such code table: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        tables, passed = read_code_documents(args.codes)
    except CodeTableError as exc:
        print(f"{exc}", file=sys.stderr)
        return 2
    if args.codes and not tables:
        print("コード表がありません / no code table found: " + ", ".join(map(str, args.codes)), file=sys.stderr)
        return 2
    try:
        docs = [part for d in args.layout for part in read_layouts(d)]
        profiles = profile_with_layouts(files, docs, quiet=args.quiet)
    except LayoutDocError as exc:
        print(f"{exc}", file=sys.stderr)
        return 2
    source = choose_source(profiles, registry, args.source)
    matched = [(p, best_matches(p, source)) for p in profiles]
    arrange(matched, source)  # before the report, so that the screen shows the same files and splits as the draft
    attach(matched, tables)
    report, draft = render_report(matched), render_draft(source, matched)
    if args.codes:
        report += code_report(matched, tables, passed)
    if args.out is None:
        print(report, file=sys.stderr)
        print(draft, end="")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(draft, encoding="utf-8")
    print(report)
    print(
        f"下書き / draft: {args.out}（提供元 {source.source}）。TODO を直して bin/mimamori sources check で確かめてください。"
    )
    return 0
