"""GX data docs that work without the internet, in Japanese where a data owner reads them.

Great Expectations' page templates load jQuery, Bootstrap, bootstrap-table, Font Awesome and the
GX logo from public CDNs; without them the data-docs index (a bootstrap-table filled by script)
is blank. Here:

* **Assets from a lock file.** ``requirements/docs-assets/package-lock.json`` (npm, the versions
  GX 1.x's templates name) is installed by ``make setup`` into ``.local/docs-assets``;
  :func:`install_assets` copies the files the pages load into ``<data_docs>/static/vendor/``, so
  the data-docs folder is complete on its own (the docs site, a file share or a browser's
  ``file://``).
* **GX's views, our templates.** The site builder's views are ``mimamori.gxviews``'s
  (:func:`site_config`): GX's own views with the templates of ``gxdocs_templates/`` first
  (GX's ``custom_views_directory`` cannot replace a template GX ships: its loader comes last),
  which load every asset by a path relative to the page, and put Japanese in the titles, the
  navigation, the table headers and the section names GX renders (exact strings only: no data
  value is ever rewritten). This module does not import GX; ``mimamori.gxviews`` does.
* **A Japanese summary per month** (:func:`record`, ``<data_docs>/mimamori/<month>.html`` and
  ``index.html``): per stage and source, what was checked, passed or failed, in words, counts
  only, with links to GX's pages. The owner and IT mails link here (``mimamori.alerts``), under
  the docs base URL of the settings (``MIMAMORI_DOCS_BASE_URL``).
"""

from __future__ import annotations

import html
import json
import logging
import os
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from mimamori.settings import Settings

log = logging.getLogger("mimamori.gxdocs")

#: The Japanese summaries' folder inside the data docs
SUMMARY_DIR = "mimamori"

#: static/vendor/<path> ← .local/docs-assets/node_modules/<path> (directories copied whole)
VENDOR = {
    "jquery/jquery.min.js": "jquery/dist/jquery.min.js",
    "popper/popper.min.js": "popper.js/dist/umd/popper.min.js",
    "bootstrap/css/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "bootstrap/js/bootstrap.min.js": "bootstrap/dist/js/bootstrap.min.js",
    "bootstrap-table/bootstrap-table.min.js": "bootstrap-table/dist/bootstrap-table.min.js",
    "bootstrap-table/bootstrap-table.min.css": "bootstrap-table/dist/bootstrap-table.min.css",
    "bootstrap-table/bootstrap-table-ja-JP.min.js": "bootstrap-table/dist/locale/bootstrap-table-ja-JP.min.js",
    "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.js": (
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js"
    ),
    "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.css": (
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "bootstrap-datepicker/js/bootstrap-datepicker.min.js": "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js",
    "bootstrap-datepicker/css/bootstrap-datepicker.min.css": (
        "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css"
    ),
    "bootstrap-datepicker/locales/bootstrap-datepicker.ja.min.js": (
        "bootstrap-datepicker/dist/locales/bootstrap-datepicker.ja.min.js"
    ),
    "fontawesome/css/all.min.css": "@fortawesome/fontawesome-free/css/all.min.css",
    "fontawesome/webfonts": "@fortawesome/fontawesome-free/webfonts",
}


def site_config(base_directory: Path, validation_results_limit: int) -> dict:
    """The data-docs site (GX's SiteBuilder) with the Japanese, offline views."""
    view = {"module_name": "mimamori.gxviews", "class_name": "JaPageView"}
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(base_directory)},
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "validation_results_limit": validation_results_limit,
            "view": {"module_name": "mimamori.gxviews", "class_name": "JaIndexPageView"},
        },
        "site_section_builders": {
            "expectations": {"view": view},
            "validations": {"view": view},
            "profiling": {"view": view},
        },
    }


def assets_source(settings: Settings) -> Path:
    return Path(settings.root) / ".local" / "docs-assets" / "node_modules"


def install_assets(settings: Settings, docs_dir: Path) -> list[str]:
    """Copy the pages' CSS/JS/fonts into ``<docs_dir>/static/vendor`` (only what changed); the missing ones."""
    source = assets_source(settings)
    target = Path(docs_dir) / "static" / "vendor"
    missing = []
    for dest, src in VENDOR.items():
        origin = source / src
        files = [(origin, target / dest)]
        if origin.is_dir():
            files = [(f, target / dest / f.relative_to(origin)) for f in sorted(origin.rglob("*")) if f.is_file()]
        elif not origin.is_file():
            missing.append(src)
            continue
        for a, b in files:
            stat = a.stat()
            if b.is_file() and b.stat().st_size == stat.st_size and b.stat().st_mtime_ns == stat.st_mtime_ns:
                continue
            b.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(a, b)
    if missing:
        log.error(
            "data docs: %d asset(s) missing from %s (run `make setup`): the pages will lack styles or scripts",
            len(missing),
            source,
        )
    return missing


# --------------------------------------------------------------------------- Japanese summaries

STAGE_JA = {"raw": "取り込み後の検査", "identity": "名寄せ後の検査", "marts": "判定結果の検査"}
STAGES = ("raw", "identity", "marts")
REASON_JA = {
    "rejected_at_ingestion": "取り込み時にファイルが受け付けられなかったため、検査していません",
    "not_loaded": "今月のファイルが取り込まれていないため、検査していません",
    "identity_model_absent": "名寄せの結果がまだないため、検査していません",
    "identity_model_columns_missing": "名寄せの結果に必要な列がないため、検査していません",
    "no_link_rows": "今月の名寄せの対象がないため、検査していません",
    "marts_absent": "判定結果がまだないため、検査していません",
}


def _summary_dir(settings: Settings) -> Path:
    return Path(settings.state_dir) / "gx" / "summaries"


def record(settings: Settings, docs_dir: Path, run_month: str, stage: str, results: dict) -> Path | None:
    """Keep this stage's results of the month (counts only) and rewrite the month's Japanese page.

    ``results``: {source: GateResult}. Returns the month page's path (None when writing failed:
    a summary page must never fail a gate).
    """
    try:
        folder = _summary_dir(settings) / run_month / stage
        folder.mkdir(parents=True, exist_ok=True)
        now = datetime.now(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M")
        for source, r in results.items():
            data = {
                "source": source,
                "stage": stage,
                "success": r.success,
                "skipped": r.skipped,
                "reason": r.reason,
                "checks": r.checks,
                "run_id": r.run_id,
                "recorded": now,
                "pages": r.pages,
                "failed": [
                    {
                        k: i.get(k)
                        for k in (
                            "check_id",
                            "expectation",
                            "description_ja",
                            "file",
                            "column",
                            "unexpected_count",
                            "observed",
                        )
                    }
                    for i in r.failed
                ],
                "notices": [
                    {k: n.get(k) for k in ("check_id", "description_ja", "file", "column", "count")}
                    for n in r.notices or []
                    if n.get("check_id")
                ],
            }
            _write(folder / f"{source}.json", json.dumps(data, ensure_ascii=False, indent=1))
        return write_pages(settings, docs_dir, run_month)
    except Exception:  # noqa: BLE001 - the gate's verdict stands without its summary page
        log.exception("data docs: the Japanese summary of %s %s could not be written", stage, run_month)
        return None


def _departments() -> dict[str, str]:
    try:
        from mimamori.ingest.registry import load_registry

        return {name: src.department for name, src in load_registry().items()}
    except Exception:  # noqa: BLE001 - names only; the page still lists the sources
        return {}


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


_STYLE = (
    "body{font-family:'Noto Sans CJK JP','Hiragino Sans',sans-serif;margin:1.5rem;line-height:1.6;color:#222}"
    "table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #bbb;padding:.3rem .6rem;"
    "vertical-align:top;text-align:left}th{background:#f0f0f0}.ok{color:#135f13}.ng{color:#a00;font-weight:bold}"
    ".skip{color:#735c00}details{margin:.2rem 0}nav a{margin-right:1rem}"
)


def _page(title: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<!doctype html><html lang='ja'><head><meta charset='utf-8'>",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
            "<nav><a href='index.html'>月ごとの検査結果</a><a href='../index.html'>検査結果の一覧（Great Expectations）</a></nav>",
            f"<h1>{_e(title)}</h1>",
            *body,
            "<p><small>このページには件数だけを載せています。氏名・住所・生年月日などの個人の値は載せていません。"
            "行番号は、提供元のご担当者へのメールでお知らせしています。</small></p>",
            "</body></html>",
        ]
    )


def _verdict(d: dict) -> tuple[str, str]:
    if d["skipped"] and not d["success"]:
        return "skip", "未検査"
    if d["skipped"]:
        return "skip", "省略"
    return ("ok", "合格") if d["success"] else ("ng", "不合格")


def _count(item: dict) -> str:
    n = item.get("unexpected_count")
    if n is not None:
        return f"{n}件"
    observed = item.get("observed")
    if observed is not None and item.get("expectation") == "expect_table_row_count_to_be_between":
        return f"今月 {int(observed)}行"
    if observed is not None and item.get("expectation") == "expect_column_mean_to_be_between":
        return f"今月 {float(observed):.1%}"
    if item.get("observed") is not None:
        return f"観測値 {item['observed']:g}" if isinstance(item["observed"], float) else f"観測値 {item['observed']}"
    return "—"


def read_month(settings: Settings, run_month: str) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for stage in STAGES:
        folder = _summary_dir(settings) / run_month / stage
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            out.setdefault(stage, {})[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    return out


def month_page(settings: Settings, run_month: str) -> str:
    data = read_month(settings, run_month)
    departments = _departments()
    body = [
        f"<p>対象月 <b>{_e(run_month)}</b> に、提供データと判定結果を確かめた結果です。"
        "検査は三つの段階で行います: 取り込み後（ファイルの列・空欄・値の範囲・重複・件数）、"
        "名寄せ後（住民記録と結びつかなかった記録の割合）、判定結果（該当の割合の急な変化・根拠のない判定・年齢）。</p>"
    ]
    for stage in STAGES:
        rows = data.get(stage) or {}
        if not rows:
            continue
        body.append(f"<h2>{_e(STAGE_JA[stage])}</h2>")
        body.append(
            "<table><tr><th>提供元</th><th>結果</th><th>検査した項目</th><th>不合格の内容（件数のみ）</th>"
            "<th>詳しい結果（Great Expectations）</th><th>検査日時（日本時間）</th></tr>"
        )
        for source, d in rows.items():
            css, word = _verdict(d)
            name = "判定結果" if source == "marts" else departments.get(source, source)
            if d["skipped"]:
                what = _e(REASON_JA.get(d.get("reason"), d.get("reason")))
            elif d["failed"]:
                what = "<ul>" + "".join(
                    f"<li>{_e(i.get('file') or '')} {('「' + _e(i['column']) + '」') if i.get('column') else ''}"
                    f" {_e(i.get('description_ja'))}: <b>{_e(_count(i))}</b></li>"
                    for i in d["failed"]
                )
                what += "</ul>"
            else:
                what = f"{d['checks']}項目すべて合格"
            if d.get("notices"):
                what += "<p>お知らせ（公開は止めません）:</p><ul>" + "".join(
                    f"<li>{_e(n.get('file') or '')} {_e(n.get('description_ja'))}: <b>{_e(n.get('count'))}件</b></li>"
                    for n in d["notices"]
                )
                what += "</ul>"
            links = []
            for p in d.get("pages") or []:
                label = p.get("file") or p.get("suite")
                mark = "合格" if p.get("success") else "不合格"
                checks = "".join(
                    f"<li>{'○' if c.get('success') else ('△' if c.get('severity') == 'notice' else '×')} "
                    f"{('「' + _e(c['column']) + '」') if c.get('column') else ''}{_e(c.get('description_ja'))}</li>"
                    for c in p.get("checks") or []
                )
                links.append(
                    f"<details><summary><a href='../{_e(p['page'])}'>{_e(label)}</a>（{mark}、{len(p.get('checks') or [])}項目）"
                    f"</summary><ul>{checks}</ul></details>"
                )
            body.append(
                f"<tr><td>{_e(name)}<br><small>{_e(source)}</small></td><td class='{css}'>{word}</td>"
                f"<td>{_e(d['checks']) if not d['skipped'] else '—'}</td><td>{what}</td>"
                f"<td>{''.join(links) or '—'}</td><td>{_e(d.get('recorded'))}</td></tr>"
            )
        body.append("</table>")
    if len(body) == 1:
        body.append("<p>この月の検査結果はまだありません。</p>")
    return _page(f"{run_month} の品質検査の結果", body)


def index_page(settings: Settings) -> str:
    root = _summary_dir(settings)
    months = sorted((p.name for p in root.iterdir() if p.is_dir()), reverse=True) if root.is_dir() else []
    rows = []
    for month in months:
        data = read_month(settings, month)
        cells = []
        for stage in STAGES:
            results = list((data.get(stage) or {}).values())
            if not results:
                cells.append("<td>—</td>")
                continue
            bad = sum(1 for d in results if not d["success"])
            cells.append(
                f"<td class='ng'>不合格・未検査 {bad}件</td>"
                if bad
                else f"<td class='ok'>合格（{len(results)}件）</td>"
            )
        rows.append(f"<tr><td><a href='{_e(month)}.html'>{_e(month)}</a></td>{''.join(cells)}</tr>")
    body = [
        "<p>月次処理の品質検査の結果を、月ごとに日本語でまとめています。月を選ぶと、提供元ごとに"
        "何を確かめ、どれが合格・不合格だったかを件数で示します。</p>",
        "<table><tr><th>対象月</th>" + "".join(f"<th>{_e(STAGE_JA[s])}</th>" for s in STAGES) + "</tr>",
        *rows,
        "</table>",
    ]
    if not rows:
        body.append("<p>検査結果はまだありません。</p>")
    return _page("月ごとの品質検査の結果", body)


def _write(path: Path, text: str) -> None:
    """Whole or not at all: gates of one month may run in parallel tasks, and a reader never sees half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_pages(settings: Settings, docs_dir: Path, run_month: str) -> Path:
    folder = Path(docs_dir) / SUMMARY_DIR
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / f"{run_month}.html"
    _write(page, month_page(settings, run_month))
    _write(folder / "index.html", index_page(settings))
    return page


def month_path(run_month: str | None) -> str:
    """The Japanese summary's path inside the data docs (the months' index without a month)."""
    return f"{SUMMARY_DIR}/{run_month}.html" if run_month else f"{SUMMARY_DIR}/index.html"
