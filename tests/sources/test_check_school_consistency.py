"""``check`` compares, across the outputs of one mapping, the contract columns identity matches exactly
between files (dbt_project.yml identity_comparisons, kind exact, on a text column: 学校). The trial's
学齢簿 delivered 学校 as "code:name" while the other school files had bare names — every file passed alone,
and stage-2 matching would have lost the pupils. Counts only, never a value (docs/onboarding.md)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gakko_town import REGISTER_HEADER, line_of, mapping, run_check
from kodomo_shien_town import write

MONTH = "2034-03"
EX = "20340405"
SCHOOLS = ["東小学校", "西小学校", "見守中学校"]

MAPPING = mapping(
    inputs="""\
  - name: kyushoku
    files: "KYUSHOKU_*.csv"
    encoding: utf-8
""",
    outputs="""\
  - file: 給食費.csv
    from: kyushoku
    columns:
      児童生徒番号: 番号
      氏名: 氏名
      生年月日: {from: 生年月日, date: ymd}
      学校: 学校名
      滞納月数: 月数
      抽出日: {from_file_name: '_(\\d{8})\\.csv$', date: yyyymmdd}
""",
)


def _deliver(tmp_path: Path, register_school) -> tuple[Path, Path]:
    path = tmp_path / "town" / "sources" / "gakko.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(MAPPING, encoding="utf-8")
    folder = tmp_path / "inbox" / MONTH / "gakko"
    folder.mkdir(parents=True)
    register = [REGISTER_HEADER]
    lunch = ["番号,氏名,生年月日,学校名,月数"]
    for i in range(1, 7):
        school = SCHOOLS[i % 3]
        register.append(
            f"S{i:05d},見守　花子{i},ミマモリ ハナコ,2016-04-0{i},2,見守町{i}番,{register_school(i, school)},3,0"
        )
        if i % 2:
            lunch.append(f"S{i:05d},見守　花子{i},2016-04-0{i},{school},2")
    write(folder, f"GAKUREI_{EX}.csv", register, "utf-8")
    write(folder, f"KYUSHOKU_{EX}.csv", lunch, "utf-8")
    return path, folder


def _check(path: Path, folder: Path) -> subprocess.CompletedProcess:
    return run_check(path, folder)


def test_school_written_differently_in_one_file_is_a_mapping_problem(tmp_path):
    path, folder = _deliver(tmp_path, lambda i, s: f"{10 + SCHOOLS.index(s)}:{s}")
    done = _check(path, folder)
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "[mapping_inconsistent]" in out and "学齢簿.csv" in out and "給食費.csv" in out
    assert f"gakko.yaml {line_of(path, '学校: 学校')}行目" in out
    assert f"gakko.yaml {line_of(path, '学校: 学校名')}行目" in out
    assert "3種類" in out and "0種類" in out
    assert not any(s in out for s in SCHOOLS)  # counts only: no value is shown
    english = run_check("--english", path, folder)
    assert english.returncode == 1 and "mapping_inconsistent" in english.stdout


def test_the_same_school_names_pass(tmp_path):
    path, folder = _deliver(tmp_path, lambda i, s: s)
    done = _check(path, folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "mapping_inconsistent" not in done.stdout


def test_width_and_spaces_do_not_count_as_different(tmp_path):
    # identity compares 学校 after NFKC and without spaces: so does the check
    path, folder = _deliver(tmp_path, lambda i, s: " " + s.replace("見守", "見守 "))
    done = _check(path, folder)
    assert done.returncode == 0, done.stdout + done.stderr
