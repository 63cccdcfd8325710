"""GX's jinja views with mimamori's templates and Japanese (see :mod:`mimamori.gxdocs`; imports GX)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from great_expectations.render import RenderedContent
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import ChoiceLoader, FileSystemLoader
from markupsafe import Markup

TEMPLATES = Path(__file__).resolve().parent / "gxdocs_templates"

#: What GX renders in English and a data owner reads, as GX writes it (exact strings).
JA = {
    # page sections and headers
    "Overview": "概要",
    "Table-Level Expectations": "表全体の検査",
    "Expectation Suite:": "検査項目の一覧:",
    "Data asset:": "対象データ:",
    "Status:": "結果:",
    "Statistics": "集計",
    "Evaluated Expectations": "検査した項目",
    "Successful Expectations": "合格した項目",
    "Unsuccessful Expectations": "不合格の項目",
    "Success Percent": "合格の割合",
    "Show more info...": "詳しい情報を表示…",
    "Info": "情報",
    "Great Expectations Version": "Great Expectations のバージョン",
    "Run Name": "処理名",
    "Run Time": "処理日時",
    "Batch Markers": "バッチの記録",
    "Batch Spec": "バッチの指定",
    "Status": "結果",
    "Expectation": "検査項目",
    "Observed Value": "観測値",
    "Succeeded": "合格",
    "Failed": "不合格",
    "Success": "合格",
    # index page
    "Validation Results": "検査結果",
    "Expectation Suites": "検査項目の一覧",
    "Asset Name": "対象データ",
    "Batch ID": "バッチ",
    "Expectation Suite": "検査項目の一覧",
    "Data Docs": "データドキュメント",
    # the most frequent check sentences (GX's string templates; $column etc. stay parameters)
    "is a required field.": "は必須の列です。",
    "values must never be null.": "空欄であってはなりません。",
    "$column is a required field.": "$column は必須の列です。",
    "$column values must never be null.": "$column は空欄であってはなりません。",
    # the index's header ("Data Docs | local_site") and GX's labels passed as parameters
    "local_site": "こども見守りデータ基盤",
    "Validations": "検査結果",
    "Expectation Suite Name": "検査項目の一覧の名前",
    "Notes": "説明",
    "Notes:": "説明:",
    "values must be unique.": "重複してはなりません。",
    "values must be greater than or equal to $min_value.": "$min_value 以上でなければなりません。",
    "Values in $column_A must always be greater than or equal to those in $column_B.": (
        "$column_A は $column_B 以上（同じ日か後）でなければなりません。"
    ),
    "Must have greater than or equal to $min_value and less than or equal to $max_value rows.": (
        "行数は $min_value 以上 $max_value 以下でなければなりません（前月の件数との比較）。"
    ),
    "mean must be greater than or equal to $min_value and less than or equal to $max_value.": (
        "割合（平均）は $min_value 以上 $max_value 以下でなければなりません。"
    ),
    "values must be greater than or equal to $min_value and less than or equal to $max_value.": (
        "$min_value 以上 $max_value 以下でなければなりません。"
    ),
}
#: GX's sentences with a variable part (full matches only)
JA_PATTERNS = [
    (re.compile(r"values must belong to this set: (.*)\."), r"次のいずれかでなければなりません: \1。"),
    (
        re.compile(r"Values for given compound columns must be unique together: (.*)"),
        r"次の列の組み合わせは重複してはなりません: \1",
    ),
    (
        re.compile(
            r"(\s*)\$unexpected_count unexpected values found\. \$unexpected_percent of \$element_count total rows\."
        ),
        r"\1$element_count 行のうち $unexpected_count 行（$unexpected_percent）が条件を満たしていません。",
    ),
    (re.compile(r"Validations / (.*)"), r"検査結果 / \1"),
    (re.compile(r"Expectations / (.*)"), r"検査項目の一覧 / \1"),
    (
        re.compile(r"This Expectation suite currently contains (\d+) total Expectations across (\d+) columns\."),
        r"この一覧には \2 列に対する \1 項目の検査があります。",
    ),
    (re.compile(r"(.+)% unexpected"), r"条件外 \1%"),
    (re.compile(r"(.+)% not null"), r"記入あり \1%"),
]
#: dict keys whose subtree holds values (the check's arguments, the batch), never translated
_KEEP = {"kwargs", "batch_spec", "batch_markers", "table_data_keys", "column", "column_list", "value"}


def translate(node: Any) -> Any:
    """GX's rendered document with :data:`JA`'s exact strings in Japanese (parameters untouched)."""
    if isinstance(node, str):
        if node in JA:
            return JA[node]
        for pattern, replacement in JA_PATTERNS:
            if pattern.fullmatch(node):
                return pattern.sub(replacement, node)
        return node
    if isinstance(node, list):
        return [translate(x) for x in node]
    if isinstance(node, dict):
        return {k: (v if k in _KEEP else translate(v)) for k, v in node.items()}
    return node


def site_root(document: dict) -> str:
    """The relative path from a page to the data docs' root (GX's site layout)."""
    renderer = document.get("renderer_type") or ""
    dots = (document.get("expectation_suite_name") or "").count(".")
    if "ValidationResults" in renderer or "ProfilingResults" in renderer:
        return "../" * (dots + 4)  # validations/<suite parts>/<run name>/<run time>/<batch>.html
    if "ExpectationSuite" in renderer:
        return "../" * (dots + 1)  # expectations/<suite parts>.html
    return ""


_OUTSIDE_URL = re.compile(r"url\(\s*['\"]?https?://[^)]*\)", re.IGNORECASE)


def default_styles() -> Markup:
    """GX's stylesheet without what it loads from outside (its dark-mode logo on a public host)."""
    from importlib.resources import files

    css = (files("great_expectations") / "render/view/static/styles/data_docs_default_styles.css").read_text("utf-8")
    return Markup(_OUTSIDE_URL.sub("none", css))


class _Japanese:
    """GX's jinja view with mimamori's templates first and the document's English put in Japanese."""

    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self.env.loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES)), self.env.loader])
        self._styles = default_styles()

    def render(self, document, template=None, **kwargs):
        self._validate_document(document)
        template = template or self._template
        data = document.to_json_dict() if isinstance(document, RenderedContent) else dict(document)
        data = translate(data)
        root = site_root(data)
        kwargs.setdefault("site_root", root)
        kwargs.setdefault("home_url", root + "index.html")
        kwargs.setdefault("mimamori_default_styles", self._styles)
        return self._get_template(template).render(data, **kwargs)


class JaPageView(_Japanese, DefaultJinjaPageView):
    """Validation-result and suite pages."""


class JaIndexPageView(_Japanese, DefaultJinjaIndexPageView):
    """The data-docs index."""
