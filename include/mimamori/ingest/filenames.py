"""Files in a department's inbox folder that the registry does not name: reported, never read.

A department that saves ``学齢簿 (1).csv``, ``住民 最新版.csv`` or ``学齢簿.CSV`` instead of the
contract's ``学齢簿.csv`` must hear that the file was not read and which name was expected — not
find out a month later. Every entry of ``inbox/<month>/<source>/`` that is not one of the source's
registry files becomes an ``unexpected_file_name`` notice (mimamori.ingest.validate.NOTICE_RULES)
for that source's data owners, with the file it most probably was meant to be:

- the same name once written the usual ways (full-width letters, upper case, spaces, copy marks
  such as ``(1)``, ``のコピー``, ``- コピー``, ``copy``, a date or 最新版/修正版 added) — a *near miss*;
- else the registry file whose name it contains (``住民_202610.csv`` → ``住民.csv``);
- a name that belongs to **another** source's files: the wrong folder.

Hidden entries (``.DS_Store``, names starting with a dot) are the operating system's, not a
delivery, and are left out. The notice never blocks: if the contract's file is then absent,
``missing_file`` rejects the source on its own, and its message names the look-alike.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from mimamori.ingest.registry import Source

#: Marks that editors, mailers and copies add to a file name (matched after NFKC and lower-casing).
_COPY_MARKS = re.compile(
    r"\(\d+\)|\[\d+\]|のコピー|コピー|copy of|copy|最新版|最新|修正版|修正|訂正版|再提出|提出用|確定版|完成版|"
    r"ver\.?\d+|v\d+|\d{4}[-_.年/]?\d{1,2}([-_.月/]?\d{1,2}日?)?|\d{6,8}"
)
_SEPARATORS = re.compile(r"[\s_\-－‐・.,、()\[\]（）「」]+")
_EXTENSIONS = (".csv", ".xlsx", ".xls", ".xlsm", ".txt", ".tsv", ".zip")


def name_key(name: str) -> str:
    """A file name reduced to what a person meant by it: ``学齢簿 (1).CSV`` → ``学齢簿``."""
    text = unicodedata.normalize("NFKC", name).strip().lower()
    for ext in _EXTENSIONS:
        if text.endswith(ext):
            text = text[: -len(ext)]
            break
    text = _COPY_MARKS.sub("", text)
    return _SEPARATORS.sub("", text)


@dataclass(frozen=True)
class Unexpected:
    """One unexpected entry of a source folder and what it was probably meant to be."""

    name: str
    #: the registry file of this source it most probably stands for (None: no guess)
    meant: str | None = None
    #: another source whose file the name is (wrong folder), and that file
    other_source: str | None = None
    other_file: str | None = None
    is_dir: bool = False


def guess_meant(name: str, files: list[str]) -> str | None:
    """The one of ``files`` that ``name`` most probably stands for (a near miss, or contained), or None."""
    key = name_key(name)
    if not key:
        return None
    exact = [f for f in files if name_key(f) == key]
    if exact:
        return exact[0]
    contained = [f for f in files if name_key(f) and name_key(f) in key]
    return max(contained, key=lambda f: len(name_key(f))) if contained else None


def unexpected_entries(source: Source, folder: Path, registry: dict[str, Source] | None = None) -> list[Unexpected]:
    """The entries of ``folder`` that are not one of ``source``'s files (hidden ones left out)."""
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name) if folder.is_dir() else []
    except OSError:
        return []
    expected = [spec.file for spec in source.files]
    out = []
    for entry in entries:
        if entry.name in expected or entry.name.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        meant = guess_meant(entry.name, expected)
        other_source = other_file = None
        if registry:
            key = name_key(entry.name)
            for name, other in registry.items():
                if name == source.source:
                    continue
                hit = [f.file for f in other.files if f.file == entry.name or name_key(f.file) == key]
                if hit:
                    other_source, other_file = name, hit[0]
                    break
            if other_source and meant and name_key(meant) != key:
                meant = None  # 児童相談記録.csv in fukushi/ is kodomo_shien's file, not fukushi's 相談記録.csv
        out.append(Unexpected(entry.name, meant, other_source, other_file, is_dir))
    return out
