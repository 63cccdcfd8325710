"""Vocabularies of the case screen: roles, outcomes, support actions, status words.

Items, types, outcomes and departments are not listed here: they come from the rule seeds and the
source registry through :mod:`mimamori.vocabulary`, so a code unknown to the catalogue is refused.
"""

from __future__ import annotations

from mimamori import access, vocabulary

_DECLARATION = access.declaration()
#: staff roles and what each may do: the audience declaration (dbt_project/seeds/access/
#: audience_app_roles.csv); the analyst (分析主体) has no access to the case screen at all
ROLES: dict[str, str] = {code: role.label_ja for code, role in _DECLARATION.casescreen_roles().items()}
PERMISSIONS: dict[str, frozenset[str]] = {code: role.actions for code, role in _DECLARATION.casescreen_roles().items()}

#: the conference's outcomes (dbt_project/seeds/rules/conference_outcomes.csv): code → what the
#: screen says beside it, in the seed's order
OUTCOMES: dict[str, str] = {code: o.description for code, o in vocabulary.outcomes().items()}
#: outcomes that need a next review date: those after which the conference keeps the child in view
OUTCOMES_NEEDING_REVIEW = frozenset(vocabulary.concern_outcomes())
#: the outcome that needs support actions (要支援)
OUTCOME_NEEDS_SUPPORT = vocabulary.needs_support_outcome()

SUPPORT_ACTIONS: tuple[str, ...] = (
    "面談",
    "家庭訪問",
    "団体紹介",
    "見守り",
    "関係機関連携",
    "サービス利用案内",
    "学校との連携",
)

HAND_ENTRY_ORIGINS: tuple[str, ...] = ("紙台帳", "面談記録", "関係機関からの連絡", "学校からの連絡", "その他")

#: labels from the rule seeds and the source registry (mimamori.vocabulary): one place per fact
TYPE_LABELS: dict[str, str] = vocabulary.type_labels()

#: where a fact comes from: each department's short name (registry ``label``), and the case
#: screen's own entries
HAND_ENTRY_LABEL = "手入力"
SOURCE_LABELS: dict[str, str] = {
    **vocabulary.department_labels(),
    "hand_entry": HAND_ENTRY_LABEL,
    "casework": HAND_ENTRY_LABEL,
}

STATUS_LABELS: dict[str, str] = {"true": "該当", "false": "非該当", "unknown": "データなし"}
#: a mark beside every status, so it never depends on colour alone
STATUS_MARKS: dict[str, str] = {"true": "●", "false": "○", "unknown": "？"}

#: the enabled catalogue items (dbt_project/seeds/rules/item_catalogue.csv): code → Japanese label;
#: hand entry accepts these codes only
ITEMS: dict[str, str] = vocabulary.item_labels()
item_sort_key = vocabulary.item_sort_key


#: the matcher's comparisons (dbt var identity_comparisons), as the identity pages name them
COMPARISON_LABELS = {
    "name": "氏名",
    "kana": "カナ氏名",
    "birth_date": "生年月日",
    "sex": "性別",
    "address": "住所",
    "student_no": "児童生徒番号",
    "school": "学校",
    "prior": "事前の見込み",
}
