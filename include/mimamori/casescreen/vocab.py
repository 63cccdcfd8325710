"""Fixed vocabularies of the case screen: roles, outcomes, support actions, the 37 items.

The item list is the default catalogue of domain.md §4. When the published schema carries the
item catalogue seed (``item_catalogue``), its labels win (see :mod:`mimamori.casescreen.repo`); the
codes here are what hand entry accepts, so a code unknown to the catalogue is refused.
"""

from __future__ import annotations

from mimamori import access

_DECLARATION = access.declaration()
#: staff roles and what each may do: the audience declaration (dbt_project/seeds/access/
#: audience_app_roles.csv); the analyst (分析主体) has no access to the case screen at all
ROLES: dict[str, str] = {code: role.label_ja for code, role in _DECLARATION.casescreen_roles().items()}
PERMISSIONS: dict[str, frozenset[str]] = {code: role.actions for code, role in _DECLARATION.casescreen_roles().items()}

OUTCOMES: dict[str, str] = {
    "要支援": "支援が必要（次回見直し日まで候補から外れます）",
    "調査継続": "調査を続ける（フォローアップに載ります）",
    "経過観察": "経過を観察する（点数の変化を見ます）",
    "支援不要": "支援は不要（12か月間、点数が上がらない限り候補から外れます）",
}
#: outcomes that need a next review date
OUTCOMES_NEEDING_REVIEW = frozenset({"要支援", "調査継続", "経過観察"})

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

TYPE_LABELS: dict[str, str] = {
    "young_carer": "ヤングケアラー",
    "poverty": "貧困",
    "abuse": "虐待",
    "withdrawal": "引きこもり",
    "postpartum_depression": "産後うつ",
    "developmental_disability": "発達障がい",
}

SOURCE_LABELS: dict[str, str] = {
    "jumin": "住民記録",
    "kodomo_shien": "こども支援班",
    "kodomo_katei": "こども家庭班",
    "fukushi": "福祉班",
    "gakko": "学校教育課",
    "hand_entry": "手入力",
    "casework": "手入力",
}

STATUS_LABELS: dict[str, str] = {"true": "該当", "false": "非該当", "unknown": "データなし"}
#: a mark beside every status, so it never depends on colour alone
STATUS_MARKS: dict[str, str] = {"true": "●", "false": "○", "unknown": "？"}

#: the default catalogue (domain.md §4): code → Japanese label
ITEMS: dict[str, str] = {
    "I01": "要対協への登録歴がある（要保護・要支援）",
    "I02": "一時保護歴がある",
    "I03": "学校定期健診で専門医療機関による精密検査が必要",
    "I04a": "同一世帯人に発達障害があり精神障害者保健福祉手帳を所持",
    "I04b": "本人に発達障害があり精神障害者保健福祉手帳を所持",
    "I05a": "同一世帯人に障害児支援受給者証の発行歴",
    "I05b": "本人に障害児支援受給者証の発行歴",
    "I06": "小・中学校の年間欠席日数が30日以上（今年度累計または前年度）",
    "I07": "同一世帯人に要介護1～5の人がいる",
    "I08": "生活保護受給世帯",
    "I09": "児童扶養手当受給世帯",
    "I10": "特別支援学級に在籍",
    "I11": "ひとり親医療費助成を受給",
    "I12": "障がい者医療費助成を受給（同一世帯人）",
    "I13": "就学援助を受給（当該年度）",
    "I14": "直近1年以内に転入",
    "I15": "児童相談記録：相談（生活困窮）",
    "I16": "児童相談記録：相談（障がい者）",
    "I17": "相談種別：児童虐待相談",
    "I18": "相談種別：児童相談・養護相談",
    "I19": "多子世帯（18歳以下のこどもが本人を含め3人以上）",
    "I20": "4か月/1歳6か月/3歳児健診アンケートで要注意",
    "I21a": "むし歯（処置歯・未処置歯）が4本以上",
    "I21b": "母親の喫煙あり",
    "I22": "未就学児（3歳以上）で保育所・幼稚園・認定こども園等に所属なし",
    "I23": "福祉相談の相談履歴あり（分野を問わず）",
    "I24": "本人が障害者手帳（身体・療育・精神）を所持",
    "I25": "同一世帯人が障害者手帳を所持",
    "I26": "乳幼児健診の未受診",
    "I27": "定期予防接種の期限超過・未接種",
    "I28": "産後うつ質問票（EPDS）9点以上",
    "I29": "妊娠届出が妊娠20週以降",
    "I30": "特定妊婦として要対協に登録",
    "I31": "出産時の母の年齢が20歳未満",
    "I32": "乳児家庭全戸訪問が未実施",
    "I33": "給食費の滞納（滞納月数1以上）",
    "I34": "遅刻・早退が年間30回以上（今年度累計）",
}
assert len(ITEMS) == 37


def item_sort_key(code: str) -> tuple[int, str]:
    digits = "".join(ch for ch in code if ch.isdigit())
    return (int(digits or 0), code)


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
