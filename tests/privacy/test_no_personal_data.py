"""What the suite produced carries no personal data (runs last: see tests/conftest.py).

Every synthetic town the session generated is the ground truth: no full name (kanji or kana,
with or without the space), no address of the town, and no birth date beside its person's
宛名番号 may appear in any e-mail, task or service log, GX data-docs page, dbt log or
transparency report under the suite's state folder. Failures say where and what kind, never
the value.
"""

from __future__ import annotations

import csv
import io
import re
from email import message_from_bytes, policy

import pytest
from mimamori.synth.town import AREAS, TOWN

_RUN = re.compile(r"[\u3000\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f々〆ヶ]+")
_ID = re.compile(r"(?<![0-9])[0-9]{10}(?![0-9])")
_ADDRESS = re.compile(
    re.escape(TOWN) + "(?:" + "|".join(re.escape(name) for name, _, _ in AREAS) + r")[0-9０-９一二三四五六七八九十]"
)


def _residents(settings) -> list[dict]:
    rows = []
    for path in sorted(settings.state_dir.rglob("jumin/住民.csv")):
        try:
            text = path.read_bytes().decode("cp932")
        except UnicodeDecodeError:  # a fault-injected copy in another encoding
            continue
        rows.extend(csv.DictReader(io.StringIO(text)))
    return rows


def _texts(settings):
    state = settings.state_dir
    for path in sorted(state.glob("mail/*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        parts = [str(message["Subject"] or "")]
        for part in message.walk():
            if part.get_content_maintype() == "text":
                parts.append(part.get_content())
        yield "mail", path, "\n".join(parts)
    # airflow/logs: the task logs (the DAG's tasks run under the executor and log to files there).
    folders = (
        ("logs", "log"),
        ("airflow/logs", "task log"),
        ("gx", "data docs"),
        ("reports", "report"),
        ("dbt/logs", "dbt log"),
    )
    for folder, kind in folders:
        for path in sorted((state / folder).rglob("*")):
            if path.is_file() and path.suffix in {".log", ".html", ".json", ".txt", ""}:
                yield kind, path, path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def truth(settings):
    residents = _residents(settings)
    if not residents:
        pytest.skip("no synthetic town was generated in this session")
    names, births = set(), {}
    for r in residents:
        kanji, kana = r["氏名"], r["カナ氏名"]
        for name in (kanji, kana):
            names.add(name)
            joined = name.replace("\u3000", "").replace(" ", "")
            if len(joined) >= 4:  # shorter joined forms occur in ordinary Japanese text
                names.add(joined)
        births[r["宛名番号"]] = r["生年月日"]
    return names, births


def _birth_forms(value: str) -> set[str]:
    forms = {value}
    match = re.match(r"^(\d{4})[-/]?(\d{1,2})[-/]?(\d{1,2})$", value)
    if match:
        y, m, d = match.groups()
        forms |= {f"{y}-{int(m):02d}-{int(d):02d}", f"{y}/{int(m)}/{int(d)}", f"{y}{int(m):02d}{int(d):02d}"}
    return forms


def test_the_session_produced_something_to_scan(settings):
    kinds = {kind for kind, _, _ in _texts(settings)}
    assert {"mail", "log"} <= kinds, kinds


def test_no_name_address_or_birth_date_beside_an_id(settings, truth):
    names, births = truth
    findings: list[str] = []
    for kind, path, text in _texts(settings):
        where = f"{kind} {path.relative_to(settings.state_dir)}"
        for run in _RUN.findall(text):
            if len(run) < 2:
                continue
            hit = run in names or any(
                run[i:j] in names for i in range(len(run)) for j in range(i + 2, min(len(run), i + 12) + 1)
            )
            if hit:
                findings.append(f"{where}: a full name")
                break
        if _ADDRESS.search(text):
            findings.append(f"{where}: an address of the town")
        for line in text.splitlines():
            for atena in _ID.findall(line):
                if atena in births and any(form in line for form in _birth_forms(births[atena])):
                    findings.append(f"{where}: a birth date beside its 宛名番号")
                    break
    assert not findings, f"{len(findings)} finding(s): " + "; ".join(sorted(set(findings))[:20])
