"""Quality alerts in Japanese: one e-mail per failing source to its data owners, a summary to IT.

A source whose gate passed but carries notices (the identity gate's private-use characters that
the town's 外字 table does not map: file, code point, count) gets a 確認のお願い instead.
A rejection under one of the mapping rules (``IT_RULES``: a town's mapping that does not fit what
was delivered, docs/onboarding.md) goes to IT in its own mail per source instead of the owner's.

An owner's e-mail names every file of the source that was rejected or failed a gate, every
ingestion rule (``ingest.rejections``) and every failed expectation (raw and identity gates),
with counts and row numbers (``source_row_number``, capped), a link to the GX data docs, and
what to do next (再提出の方法). It is built only from rule ids, headers, counts and row numbers —
never from a value of the data, so no name, address or birth date can appear in it.

:func:`send_alerts` is idempotent per attempt: ``ingest.alerts_sent`` records (run_month,
source, run_id) and a retry of the task does not send a mail already sent.

The IT summary states what the attempt **did** — published or not, from ``published.publication``
and the attempt's recorded steps (mimamori.attempts.outcome) — never what the gates predicted.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable

from psycopg import sql

from mimamori.quality import GateResult, docs_url, flatten, month_docs_url
from mimamori.settings import Settings

log = logging.getLogger("mimamori.alerts")

IT_KEY = "__it__"
ROW_LIST_LIMIT = 20

ALERTS_DDL = """
create table if not exists ingest.alerts_sent (
    run_month text not null,
    source text not null,
    run_id text not null,
    recipients text[] not null,
    subject text not null,
    rules text[] not null default '{}',
    claimed_at timestamptz not null default now(),
    sent_at timestamptz,
    primary key (run_month, source, run_id)
)
"""

STAGE_JA = {"ingest": "取り込み", "raw": "取り込み後の検査", "identity": "名寄せ後の検査", "marts": "判定結果の検査"}
_TD = "style='border:1px solid #999;padding:4px 8px;vertical-align:top'"


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _rows_text(rows: list[int] | None, count: int | None) -> str:
    rows = list(rows or [])
    if not rows:
        return "—"
    shown = ", ".join(map(str, rows[:ROW_LIST_LIMIT]))
    total = count if count is not None else len(rows)
    if total > len(rows[:ROW_LIST_LIMIT]):
        return f"{shown} …ほか{total - len(rows[:ROW_LIST_LIMIT])}行（計{total}行）"
    return f"{shown}行目"


def _mapped(settings: Settings, source: str) -> bool:
    """Whether the town maps this department's own export (it does not deliver the contract layout)."""
    try:
        from mimamori.sources.mapping import town_mapping_paths

        return source in town_mapping_paths(getattr(settings, "town_dir", None))
    except Exception:  # noqa: BLE001 - the wording only
        return False


def _it_rules() -> frozenset[str]:
    try:
        from mimamori.ingest.validate import IT_RULES

        return IT_RULES
    except Exception:  # noqa: BLE001 - as _rule_ja: without the package no rule is IT's
        return frozenset()


def split_rejections(rejections: Iterable) -> tuple[list[dict], list[dict]]:
    """(for the data owner, for IT): a town's mapping that does not fit its files is IT's to fix."""
    it_rules = _it_rules()
    owner, it = [], []
    for r in rejections:
        d = _rejection_dict(r)
        (it if d["rule"] in it_rules else owner).append(d)
    return owner, it


def _rejection_rows(rejections: list[dict]) -> list[str]:
    """The table rows of a mail's rejections: file, rule, column, count, row numbers, message."""
    out = []
    for r in sorted(rejections, key=lambda x: (x["file"], x["rule"], x.get("column") or "")):
        rows = list(r.get("rows") or [])
        out.append(
            f"<tr><td {_TD}>{_e(r['file'])}</td><td {_TD}>{_e(_rule_ja(r['rule']))}<br><code>{_e(r['rule'])}</code></td>"
            f"<td {_TD}>{_e(r.get('column') or '—')}</td><td {_TD}>{len(rows) if rows else '—'}</td>"
            f"<td {_TD}>{_e(_rows_text(rows, len(rows)))}</td><td {_TD}>{_e(r.get('message_ja'))}</td></tr>"
        )
    return out


def mapping_alert(settings: Settings, source, run_month: str, rejections: Iterable, *, registry=None):
    """(to, subject, html) of the mail to IT about a source whose mapping did not fit what was delivered.

    The department's files are not at fault and stay in the inbox: IT corrects the town's mapping
    (towns/<town>/sources/<source>.yaml, checked with ``bin/mimamori sources check``) and
    runs the month again. Built from rule ids, files, delivered columns and row numbers only.
    """
    src = _source(source, registry)
    rejections = [_rejection_dict(r) for r in rejections]
    files = sorted({r["file"] for r in rejections})
    subject = f"【対応表の修正が必要】{run_month}分 {src.department}のファイルが対応表に合いません（{src.source}）"
    parts = [
        "<html><body style='font-family:sans-serif'>",
        "<p>情報システム担当 各位</p>",
        f"<p>月次処理（対象月 <b>{_e(run_month)}</b>）で、{_e(src.department)}（{_e(src.source)}）から届いたファイルが、"
        "この町の対応表（マッピング）に合いませんでした。この提供元は取り込まれず、今月の判定結果は公開されません"
        "（ダッシュボードは前回公開した月のまま表示されます）。データ所有者には、この件のメールは送っていません。</p>",
        "<p>対象: " + "、".join(f"<b>{_e(f)}</b>" for f in files) + "</p>",
        f"<table style='border-collapse:collapse'><tr><th {_TD}>ファイル</th><th {_TD}>規則</th>"
        f"<th {_TD}>列（届いたファイルの列）</th><th {_TD}>件数</th><th {_TD}>行番号</th><th {_TD}>内容</th></tr>",
    ]
    parts += _rejection_rows(rejections)
    parts += [
        "</table>",
        "<h3>直し方</h3><ol>",
        f"<li>対応表 <code>towns/&lt;町&gt;/sources/{_e(src.source)}.yaml</code> を、届いたファイルに合わせて直してください"
        "（コード表に値を追加する、日付の書き方を直す、列名・位置を直す など。手順は docs/onboarding.md）。</li>",
        f"<li><code>bin/mimamori sources check towns/&lt;町&gt;/sources/{_e(src.source)}.yaml "
        f"&lt;受信フォルダ&gt;/{_e(run_month)}/{_e(src.source)}/</code> で、合格するまで確認してください（何も取り込みません）。</li>",
        "<li>届いたファイルは受信フォルダに残してあります。対象月を再実行してください。</li>",
        "<li>元のシステムの出力が変わった（列や値が増えた）ときは、その課に変更の内容を確認してください。</li>",
        "</ol>",
        "<p>行番号は届いたファイルの行番号です。個人情報保護のため、このメールには値を記載していません"
        "（コード表にない値も、種類の数だけを示します）。</p>",
        "</body></html>",
    ]
    return [settings.it_email], subject, "\n".join(parts)


def _rule_ja(rule: str) -> str:
    try:
        from mimamori.ingest.validate import RULES

        return RULES.get(rule, (rule, rule))[0]
    except Exception:  # noqa: BLE001 - the ingestion package may be mid-change; the id still names the rule
        return rule


def _rejection_dict(r) -> dict:
    if isinstance(r, dict):
        return r
    return {
        "file": r.file,
        "rule": r.rule,
        "rows": list(r.rows),
        "column": r.column,
        "message_ja": r.message_ja,
    }


def _source(source, registry: dict | None):
    if not isinstance(source, str):
        return source
    from mimamori.ingest.registry import load_registry

    return (registry if registry is not None else load_registry())[source]


def _gate_items(gate_result) -> list[dict]:
    return [item for r in flatten(gate_result) for item in r.failed]


def broken_rules(rejections: Iterable, gate_result, ingest_notices: Iterable = ()) -> list[str]:
    """Stable ids of every rule / expectation the source broke or was told about (ingestion rule
    ids, gate check ids, notices)."""
    ids = [f"ingest:{_rejection_dict(r)['rule']}" for r in [*rejections, *ingest_notices]]
    for item in _gate_items(gate_result):
        ids.append(f"{item['stage']}:{item.get('check_id') or item['expectation']}")
    for notice in _notices(gate_result):
        if notice.get("check_id"):
            ids.append(f"{notice.get('stage', 'raw')}:{notice['check_id']}")
        else:
            ids.append(f"identity:{notice['kind']}")
    return sorted(set(ids))


def _notices(gate_result) -> list[dict]:
    return [n for r in flatten(gate_result) for n in (r.notices or [])]


def ingest_notices_html(notices: list[dict], heading: str) -> list[str]:
    """Notices of the ingestion (unexpected file names, identical rows): file, rule, rows, what to do."""
    if not notices:
        return []
    parts = [
        f"<h3>{_e(heading)}</h3>",
        "<p>次の点は、今月の公開を止めるものではありませんが、ご確認ください。</p>",
        f"<table style='border-collapse:collapse'><tr><th {_TD}>ファイル</th><th {_TD}>内容</th>"
        f"<th {_TD}>行番号</th><th {_TD}>詳細</th></tr>",
    ]
    for n in sorted(notices, key=lambda x: (x["rule"], x["file"])):
        rows = list(n.get("rows") or [])
        parts.append(
            f"<tr><td {_TD}><b>{_e(n['file'])}</b></td><td {_TD}>{_e(_rule_ja(n['rule']))}<br><code>{_e(n['rule'])}</code></td>"
            f"<td {_TD}>{_e(_rows_text(rows, len(rows)))}</td><td {_TD}>{_e(n.get('message_ja'))}</td></tr>"
        )
    parts.append("</table>")
    return parts


def check_notices_html(notices: list[dict], heading: str) -> list[str]:
    """Gate checks of severity notice (e.g. ages outside 0–18): file, check, count, rows — never a value."""
    if not notices:
        return []
    parts = [
        f"<h3>{_e(heading)}</h3>",
        "<p>次の行は取り込みましたが、内容をご確認ください（公開は止めません）。"
        "誤りであれば、次回の提供までに元のシステムで修正してください。</p>",
        f"<table style='border-collapse:collapse'><tr><th {_TD}>ファイル</th><th {_TD}>検査</th>"
        f"<th {_TD}>件数</th><th {_TD}>行番号</th></tr>",
    ]
    for n in sorted(notices, key=lambda x: (x.get("file") or "", x["check_id"])):
        parts.append(
            f"<tr><td {_TD}><b>{_e(n.get('file') or '—')}</b></td>"
            f"<td {_TD}>{_e(STAGE_JA.get(n.get('stage'), n.get('stage')))}: {_e(n['description_ja'])}"
            f"<br><code>{_e(n['check_id'])}</code></td>"
            f"<td {_TD}>{_e(n.get('count'))}</td><td {_TD}>{_e(_rows_text(n.get('rows'), n.get('count')))}</td></tr>"
        )
    parts.append("</table>")
    return parts


def notices_html(notices: list[dict], heading: str) -> list[str]:
    """The 外字 notice: file, code point, records — never a name or a row number."""
    notices = [n for n in notices if n.get("kind") == "unmapped_private_use"]
    if not notices:
        return []
    parts = [
        f"<h3>{_e(heading)}</h3>",
        "<p>次のファイルの氏名・カナ氏名に、町の外字表（外字対応表）に登録されていない外字（私用領域の文字）が"
        "ありました。名寄せでは、その文字をどの1文字とも一致しうるものとして扱っています（公開は止めません）。"
        "外字が表す文字（Unicode、または行政事務標準文字・MJ文字の番号）を情報システム担当に連絡してください。"
        "外字対応表に登録すると、翌月から正しい文字として比べます。</p>",
        f"<table style='border-collapse:collapse'><tr><th {_TD}>ファイル</th><th {_TD}>外字のコード</th>"
        f"<th {_TD}>件数（記録）</th></tr>",
    ]
    for n in sorted(notices, key=lambda x: (x["file"], x["code_point"])):
        parts.append(
            f"<tr><td {_TD}>{_e(n['file'])}</td><td {_TD}><code>{_e(n['code_point'])}</code></td>"
            f"<td {_TD}>{_e(n['count'])}</td></tr>"
        )
    parts.append("</table>")
    return parts


def _share(value) -> str:
    return "—" if value is None else f"{value:.1%}"


def rules_changed_html(notices: list[dict]) -> list[str]:
    """The marts gate's rule-change notice (for IT and the data engineers): which rule rows changed
    since the last published month, and each type's flagged share before/after. Counts only."""
    parts: list[str] = []
    for n in notices or []:
        if n.get("kind") != "rules_changed":
            continue
        parts += [
            f"<h3>お知らせ: {_e(n['since'])} の公開後にルールが変わりました（公開は止めません）</h3>",
            "<p>類型の基準点・項目・重みなどが変わったため、今月は該当割合の前月比の検査（±帯）を行わず、"
            "変わったルールと該当割合の前後をお知らせします。意図した変更か確認してください。</p>",
            f"<table style='border-collapse:collapse'><tr><th {_TD}>ルール</th><th {_TD}>行</th>"
            f"<th {_TD}>変更</th><th {_TD}>内容</th></tr>",
            *(
                f"<tr><td {_TD}>{_e(c['seed'])}</td><td {_TD}>{_e(c['key'])}</td><td {_TD}>{_e(c['change'])}</td>"
                f"<td {_TD}>{_e(c['detail'])}</td></tr>"
                for c in n["changes"]
            ),
            "</table>",
            f"<table style='border-collapse:collapse'><tr><th {_TD}>類型</th><th {_TD}>前月の該当割合</th>"
            f"<th {_TD}>今月の該当割合</th></tr>",
            *(
                f"<tr><td {_TD}>{_e(x['type_code'])}</td><td {_TD}>{_share(x['before'])}</td>"
                f"<td {_TD}>{_share(x['after'])}</td></tr>"
                for x in n["shares"]
            ),
            "</table>",
        ]
    return parts


def owner_alert(
    settings: Settings, source, run_month: str, rejections: Iterable, gate_result, *, registry=None, ingest_notices=()
):
    """(to, subject, html) of the e-mail to a source's data owners (Japanese, no personal value).

    ``rejections``: rows of ``ingest.rejections`` for the source and month (dicts or Rejection
    objects); ``gate_result``: the source's GateResult(s) (raw and/or identity) or None;
    ``ingest_notices``: rows of ``ingest.notices`` (unexpected file names, identical rows). A
    source with only notices (those, gate checks of severity notice such as ages outside 0–18,
    外字 its table does not map) gets a 確認のお願い, not a 要対応.
    """
    src = _source(source, registry)
    rejections = [_rejection_dict(r) for r in rejections]
    ingest_notices = [_rejection_dict(r) for r in ingest_notices]
    items = _gate_items(gate_result)
    notices = _notices(gate_result)
    to = [owner.email for owner in src.data_owners]
    if not rejections and not items:
        return to, *_notice_only(settings, src, run_month, notices, ingest_notices)
    n_problems = len(rejections) + len(items)
    files = sorted({r["file"] for r in rejections} | {i["file"] for i in items if i.get("file")})
    subject = f"【要対応】{run_month}分 {src.department}の提供データに{n_problems}件の問題があります（{src.source}）"

    blocked = src.on_failure != "skip" or src.source == "jumin"
    effect = (
        "このため、今月の判定結果は公開されず、ダッシュボードは前回公開した月のまま表示されます。"
        if blocked
        else "この提供元は「問題があれば除外して公開」の設定のため、今月はこの提供元の項目を全員「データなし」として公開します。"
    )
    parts = [
        "<html><body style='font-family:sans-serif'>",
        f"<p>{_e(src.department)} データ提供ご担当者様</p>",
        f"<p>こども見守りデータ基盤の月次処理（対象月 <b>{_e(run_month)}</b>）で、貴課からご提供いただいた"
        f"ファイルに問題が見つかりました。{effect}</p>",
        "<p>対象ファイル: " + "、".join(f"<b>{_e(f)}</b>" for f in files) + "</p>",
    ]
    if rejections:
        parts.append("<h3>1. 取り込み時の検査で受け付けられなかった内容</h3>")
        parts.append(
            f"<table style='border-collapse:collapse'><tr><th {_TD}>ファイル</th><th {_TD}>規則</th>"
            f"<th {_TD}>列</th><th {_TD}>件数</th><th {_TD}>行番号</th><th {_TD}>内容</th></tr>"
        )
        parts += _rejection_rows(rejections)
        parts.append("</table>")
    if items:
        parts.append(f"<h3>{2 if rejections else 1}. 品質検査（Great Expectations）で不合格になった項目</h3>")
        parts.append(
            f"<table style='border-collapse:collapse'><tr><th {_TD}>ファイル</th><th {_TD}>検査</th>"
            f"<th {_TD}>件数</th><th {_TD}>行番号</th><th {_TD}>詳細</th></tr>"
        )
        for i in items:
            count = i.get("unexpected_count")
            observed = i.get("observed")
            extra = ""
            if observed is not None and i["expectation"] == "expect_table_row_count_to_be_between":
                extra = f"（今月 {int(observed)}行）"
            elif observed is not None and i["expectation"] == "expect_column_mean_to_be_between":
                extra = f"（今月 {float(observed):.1%}）"
            parts.append(
                f"<tr><td {_TD}>{_e(i.get('file') or '—')}</td>"
                f"<td {_TD}>{_e(STAGE_JA.get(i['stage'], i['stage']))}: {_e(i['description_ja'])}{_e(extra)}"
                f"<br><code>{_e(i['expectation'])}</code></td>"
                f"<td {_TD}>{_e(count if count is not None else '—')}</td>"
                f"<td {_TD}>{_e(_rows_text(i.get('rows'), count))}</td>"
                f"<td {_TD}><a href='{_e(_item_url(settings, i, run_month))}'>検査結果の詳細</a></td></tr>"
            )
        parts.append("</table>")
    parts += ingest_notices_html(ingest_notices, "お知らせ: 取り込みで気づいた点")
    parts += check_notices_html([n for n in notices if n.get("check_id")], "お知らせ: 内容を確認していただきたい行")
    parts += notices_html(notices, "お知らせ: 外字対応表にない外字")
    parts += [
        "<p>行番号は、ご提供いただいたファイルの行番号です（見出し行が1行目）。"
        "個人情報保護のため、このメールには氏名・住所・生年月日などの値は記載していません。"
        "該当行の内容は、貴課のシステムでご確認ください。</p>",
        f"<p>今月の検査結果の一覧（日本語）: <a href='{_e(month_docs_url(settings, run_month))}'>"
        f"{_e(month_docs_url(settings, run_month))}</a></p>",
        "<h3>再提出の方法</h3><ol>",
        "<li>上の行番号と規則をもとに、元のシステムのデータを確認・修正してください。</li>",
        (
            "<li>いつもと同じ形式（ファイル名・列・文字コード）で、ファイルを出力し直してください"
            if _mapped(settings, src.source)
            else "<li>契約どおりのファイル名・列見出し・文字コードで、ファイルを出力し直してください"
        )
        + "（不足列・見出しの変更・重複したキー・抽出日より後の日付などがないこと）。</li>",
        f"<li>出力したファイルを、いつもの提出フォルダ <code>{_e(run_month)}/{_e(src.source)}/</code> に置き直してください"
        + ("（受け付けられなかったファイルは隔離フォルダに移してあります）" if rejections else "")
        + "。</li>",
        f"<li>置き直したら、情報システム担当（<a href='mailto:{_e(settings.it_email)}'>{_e(settings.it_email)}</a>）に"
        "ご連絡ください。対象月の処理を再実行します。</li></ol>",
        "<p>このメールは こども見守りデータ基盤 から自動送信されています。</p>",
        "</body></html>",
    ]
    return to, subject, "\n".join(parts)


def _item_url(settings: Settings, item: dict, run_month: str) -> str:
    """A failed check's GX page under the docs base URL of these settings (the month's summary if none)."""
    if item.get("docs_page"):
        return docs_url(settings, item["docs_page"])
    return month_docs_url(settings, run_month)


def _load_cell(status: str | None, rejections: list, notices: list = ()) -> str:
    told = f"<br>お知らせ {len(notices)}件（公開は止めない）" if notices else ""
    if rejections:
        return f"<b>却下 {len(rejections)}件</b>{told}"
    from mimamori.attempts import STATUS_JA

    text = _e(STATUS_JA.get(status, status))
    return (text if status == "loaded" else f"<b>{text}</b>") + told


def _notice_only(
    settings: Settings, src, run_month: str, notices: list[dict], ingest_notices: list[dict] = ()
) -> tuple[str, str]:
    gaiji = [x for x in notices if x.get("kind") == "unmapped_private_use"]
    checks = [x for x in notices if x.get("check_id")]
    ingest_notices = list(ingest_notices)
    what = []
    if any(x["rule"] == "unexpected_file_name" for x in ingest_notices):
        what.append("想定と違う名前のファイル")
    if any(x["rule"] != "unexpected_file_name" for x in ingest_notices) or checks:
        what.append("内容を確認していただきたい行")
    if gaiji:
        what.append("外字対応表にない外字")
    n = sum(x["count"] for x in gaiji) + sum(x.get("count") or 0 for x in checks) + len(ingest_notices)
    subject = (
        f"【確認のお願い】{run_month}分 {src.department}の提供データに{'・'.join(what)}があります"
        f"（{n}件、{src.source}）"
    )
    rows_note = (
        "行番号は、ご提供いただいたファイルの行番号です（見出し行が1行目）。"
        if checks or any(x.get("rows") for x in ingest_notices)
        else ""
    )
    parts = [
        "<html><body style='font-family:sans-serif'>",
        f"<p>{_e(src.department)} データ提供ご担当者様</p>",
        f"<p>こども見守りデータ基盤の月次処理（対象月 <b>{_e(run_month)}</b>）で、貴課からご提供いただいた"
        "ファイルは受け付けましたが、確認していただきたい点があります。今月の公開は止めていません。</p>",
        *ingest_notices_html(ingest_notices, "取り込みで気づいた点"),
        *check_notices_html(checks, "内容を確認していただきたい行"),
        *notices_html(gaiji, "外字対応表にない外字"),
        f"<p>{rows_note}個人情報保護のため、このメールには氏名・住所・生年月日などの値は記載していません。"
        "該当行の内容は、貴課のシステムでご確認ください。</p>",
        "<p>このメールは こども見守りデータ基盤 から自動送信されています。</p>",
        "</body></html>",
    ]
    return subject, "\n".join(parts)


def it_summary(
    settings: Settings,
    run_month: str,
    results,
    rejections_by_source: dict[str, list] | None = None,
    decision: dict | None = None,
    *,
    registry=None,
    outcome: dict | None = None,
    notices_by_source: dict[str, list] | None = None,
):
    """(to, subject, html) of the attempt's summary for IT: what was published, every step, counts only.

    ``notices_by_source``: the attempt's ingestion notices (unexpected file names, identical rows),
    counted beside each source's load.

    ``outcome``: :func:`mimamori.attempts.outcome` of the attempt. Without it the month is
    reported as not published (nothing here may claim a publication it has not seen).
    """
    from mimamori.attempts import STATUS_JA, STEP_JA
    from mimamori.ingest.registry import load_registry

    registry = registry if registry is not None else load_registry()
    rejections_by_source = rejections_by_source or {}
    outcome = outcome or {"published": False, "steps": {}, "failed_steps": [], "run_id": None}
    steps = outcome.get("steps") or {}
    flat = flatten(results)
    by = {(r.stage, r.source): r for r in flat}

    def cell(stage: str, source: str) -> str:
        r = by.get((stage, source))
        if r is None:
            return "—"
        if r.success and not r.skipped:
            return "合格"
        if r.success:
            return f"省略（{_e(r.reason)}）"
        if r.skipped:
            return f"未検査（{_e(r.reason)}）"
        return f"<b>不合格 {len(r.failed)}件</b>"

    failing = sorted({s for s, rej in rejections_by_source.items() if rej} | {r.source for r in flat if not r.success})
    failing = [s for s in failing if s in registry]
    state = "公開しました" if outcome["published"] else "公開停止（前月のまま）"
    subject = f"[mimamori] {run_month} 月次処理の結果: {state}（問題のある提供元 {len(failing)}件）"
    rows = []
    for name, src in registry.items():
        rows.append(
            f"<tr><td {_TD}>{_e(name)}</td><td {_TD}>{_e(src.department)}</td><td {_TD}>{_e(src.on_failure)}</td>"
            f"<td {_TD}>{_load_cell(steps.get(f'load:{name}'), rejections_by_source.get(name) or [], (notices_by_source or {}).get(name) or [])}</td>"
            f"<td {_TD}>{cell('raw', name)}</td><td {_TD}>{cell('identity', name)}</td></tr>"
        )
    month_steps = [
        f"<tr><td {_TD}>{_e(STEP_JA[step])}</td><td {_TD}>{_e(STATUS_JA.get(steps.get(step), steps.get(step)))}</td></tr>"
        for step in ("build", "marts_gate", "publish", "report", "retention")
    ]
    marts = by.get(("marts", "marts"))
    parts = [
        "<html><body style='font-family:sans-serif'>",
        f"<p>対象月 <b>{_e(run_month)}</b> の月次処理の結果です。<b>{_e(state)}</b></p>",
        f"<p>試行（Airflow run_id）: <code>{_e(outcome.get('run_id'))}</code></p>",
        f"<table style='border-collapse:collapse'><tr><th {_TD}>提供元</th><th {_TD}>部署</th><th {_TD}>失敗時</th>"
        f"<th {_TD}>取り込み</th><th {_TD}>取り込み後の検査</th><th {_TD}>名寄せ後の検査</th></tr>",
        *rows,
        "</table>",
        f"<table style='border-collapse:collapse'><tr><th {_TD}>段階</th><th {_TD}>結果</th></tr>",
        *month_steps,
        "</table>",
        f"<p>判定結果の検査: {cell('marts', 'marts') if marts else '—'}</p>",
    ]
    if marts and marts.failed:
        parts.append("<ul>")
        for i in marts.failed:
            parts.append(f"<li>{_e(i['description_ja'])}（{_e(i['expectation'])}）</li>")
        parts.append("</ul>")
    if marts:
        parts += rules_changed_html(marts.notices)
    if outcome.get("failed_steps"):
        title = "公開後に失敗した処理" if outcome["published"] else "公開しなかった理由"
        parts.append(f"<p>{title}:</p><ul>")
        parts += [f"<li>{_e(r['ja'])}</li>" for r in outcome["failed_steps"]]
        parts.append("</ul>")
    skipped = (outcome.get("publication") or {}).get("skipped_sources") or []
    if skipped:
        parts.append(f"<p>除外して公開した提供元（skip）: {_e('、'.join(skipped))}</p>")
    parts += [
        f"<p>検査結果の一覧（日本語）: <a href='{_e(month_docs_url(settings, run_month))}'>"
        f"{_e(month_docs_url(settings, run_month))}</a></p>",
        "<p>提供元ごとの詳細は各データ所有者に送信済みです。このメールには個人を特定する情報は含まれていません。</p>",
        "</body></html>",
    ]
    return [settings.it_email], subject, "\n".join(parts)


def _loader(settings: Settings):
    from mimamori import db

    return db.connect(settings, role="loader", autocommit=True)


def _read_findings(conn, table: str, run_month: str, run_id: str) -> dict[str, list[dict]]:
    """Rows of ``ingest.rejections`` or ``ingest.notices`` (same shape) of this attempt, by source."""
    if not conn.execute("select to_regclass(%s) is not null", (f"ingest.{table}",)).fetchone()[0]:
        return {}
    out: dict[str, list[dict]] = {}
    for source, file, rule, rows, column, message_ja in conn.execute(
        sql.SQL(
            'select source, file, rule, rows, "column", message_ja from {}'
            " where run_month = %s and run_id = %s order by source, file, rule, recorded_at"
        ).format(sql.Identifier("ingest", table)),
        (run_month, run_id),
    ).fetchall():
        out.setdefault(source, []).append(
            {"file": file, "rule": rule, "rows": list(rows or []), "column": column, "message_ja": message_ja}
        )
    return out


def read_rejections(conn, run_month: str, run_id: str) -> dict[str, list[dict]]:
    """This attempt's rejections by source (other attempts of the month are their own story)."""
    return _read_findings(conn, "rejections", run_month, run_id)


def read_notices(conn, run_month: str, run_id: str) -> dict[str, list[dict]]:
    """This attempt's ingestion notices by source (unexpected file names, identical rows)."""
    return _read_findings(conn, "notices", run_month, run_id)


def send_alerts(
    settings: Settings,
    run_month: str,
    results,
    *,
    run_id: str,
    registry: dict | None = None,
    include_it_summary: bool = True,
    conn_id: str = "smtp_default",
    outcome: dict | None = None,
) -> list[dict]:
    """Mail each failing source's owners once for this attempt (and IT a summary); returns what was sent.

    A source fails when ingestion rejected its files or its raw / identity gate failed.
    ``results``: every GateResult of the attempt (or their dicts / mappings). ``outcome``: what
    the attempt did (mimamori.attempts.outcome; read from the database when not given).
    Idempotent per ``run_id`` through ``ingest.alerts_sent``: a mail already sent is not sent
    again (status ``already_sent``); one whose send crashed before it was recorded is sent on the
    retry.
    """
    from mimamori.ingest.registry import load_registry
    from mimamori.mail import send_mail

    registry = registry if registry is not None else load_registry()
    flat = flatten(results)
    if include_it_summary and outcome is None:
        outcome = _outcome(settings, run_month, run_id, registry)
    sent: list[dict] = []
    with _loader(settings) as conn:
        conn.execute(ALERTS_DDL)
        rejections = read_rejections(conn, run_month, run_id)
        ingest_notices = read_notices(conn, run_month, run_id)
        gate_by_source: dict[str, list[GateResult]] = {}
        for r in flat:
            if r.source in registry and r.stage in ("raw", "identity"):
                gate_by_source.setdefault(r.source, []).append(r)
        split = {name: split_rejections(rejections.get(name, [])) for name in registry}
        failing = [
            name
            for name in registry
            if split[name][0]
            or ingest_notices.get(name)
            or any(r.failed or r.notices for r in gate_by_source.get(name, []))
        ]
        messages: list[tuple[str, list[str], str, str, list[str]]] = []
        for name in failing:
            gates = gate_by_source.get(name, [])
            owner_rejections = split[name][0]
            told = ingest_notices.get(name, [])
            to, subject, body = owner_alert(
                settings,
                registry[name],
                run_month,
                owner_rejections,
                gates,
                registry=registry,
                ingest_notices=told,
            )
            messages.append((name, to, subject, body, broken_rules(owner_rejections, gates, told)))
        for name in registry:
            it_rejections = split[name][1]
            if it_rejections:  # the town's mapping did not fit: IT's, not the data owner's
                to, subject, body = mapping_alert(settings, registry[name], run_month, it_rejections, registry=registry)
                messages.append((f"{IT_KEY}:{name}", to, subject, body, broken_rules(it_rejections, None)))
        if include_it_summary:
            to, subject, body = it_summary(
                settings,
                run_month,
                flat,
                rejections,
                registry=registry,
                outcome=outcome,
                notices_by_source=ingest_notices,
            )
            messages.append((IT_KEY, to, subject, body, []))
        for key, to, subject, body, rules in messages:
            row = conn.execute(
                "select sent_at from ingest.alerts_sent where run_month = %s and source = %s and run_id = %s",
                (run_month, key, run_id),
            ).fetchone()
            if row and row[0] is not None:
                log.info("alert %s %s already sent for run %s", key, run_month, run_id)
                sent.append({"source": key, "to": to, "subject": subject, "rules": rules, "status": "already_sent"})
                continue
            conn.execute(
                "insert into ingest.alerts_sent (run_month, source, run_id, recipients, subject, rules)"
                " values (%s, %s, %s, %s, %s, %s) on conflict (run_month, source, run_id) do update"
                " set recipients = excluded.recipients, subject = excluded.subject, rules = excluded.rules,"
                " claimed_at = now()",
                (run_month, key, run_id, to, subject, rules),
            )
            send_mail(to, subject, body, conn_id=conn_id)
            conn.execute(
                "update ingest.alerts_sent set sent_at = now() where run_month = %s and source = %s and run_id = %s",
                (run_month, key, run_id),
            )
            log.info("alert %s %s sent to %d recipient(s): %d rule(s)", key, run_month, len(to), len(rules))
            sent.append({"source": key, "to": to, "subject": subject, "rules": rules, "status": "sent"})
    return sent


def _outcome(settings: Settings, run_month: str, run_id: str, registry) -> dict:
    """The attempt's outcome as the database has it (the transformer reads ingest and published)."""
    from mimamori import db
    from mimamori.attempts import outcome

    with db.connect(settings, role="transformer", autocommit=True) as conn:
        return outcome(conn, run_month, run_id, registry, pending=("alerts",))
