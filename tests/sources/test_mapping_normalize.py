"""``normalize: nfkc`` on a column rule: a vendor export writing full-width digits (２丁目２７番) or
half-width kana gives the contract's form; without it the value keeps its width (issue 21)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kodomo_shien_town import deliver, mapping_text
from mimamori.ingest.limits import Limits
from mimamori.sources.apply import read_mapped_source
from mimamori.sources.mapping import MappingError, parse_mapping

MONTH = "2026-10"
LIMITS = Limits(max_file_bytes=1 << 24, max_rows=100_000, max_line_bytes=65536, max_field_chars=4096)
WIDE = "\u3000２７ﾎｲｸ"  # a 全角 space, full-width digits and half-width kana appended to every 施設 value


def _widen(folder: Path) -> None:
    path = folder / "認可保育.tsv"
    lines = path.read_text(encoding="utf-8").split("\n")
    header = lines[0].split("\t")
    i = header.index("施設")
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split("\t")
        if len(cells) == len(header) and cells[i]:
            cells[i] += WIDE
        out.append("\t".join(cells))
    path.write_text("\n".join(out), encoding="utf-8")


def _facilities(registry, folder: Path, rule: str) -> list:
    text = mapping_text(MONTH).replace("      施設名: 施設\n", f"      施設名: {rule}\n")
    mapping = parse_mapping(text, Path("kodomo_shien.yaml"), registry)
    parsed = {p.spec.file: p for p in read_mapped_source(mapping, registry["kodomo_shien"], folder, MONTH, LIMITS)}
    got = parsed["保育所入所.csv"]
    i = [c.column for c in got.spec.columns].index("facility")
    return [row[i] for row in got.rows if row[i]]


def test_normalize_nfkc_gives_half_width_digits_and_full_width_kana(registry, tmp_path):
    folder = deliver(tmp_path / MONTH / "kodomo_shien", MONTH)
    _widen(folder)
    kept = _facilities(registry, folder, "施設")
    assert kept and sum(v.endswith(WIDE) for v in kept) > 0  # as delivered, without the option
    normalised = _facilities(registry, folder, "{from: 施設, normalize: nfkc}")
    assert len(normalised) == len(kept)
    assert not any("２" in v or "ﾎ" in v for v in normalised)
    assert sum(v.endswith(" 27ホイク") for v in normalised) == sum(v.endswith(WIDE) for v in kept)


def test_an_unknown_normalize_form_is_a_mapping_error(registry):
    text = mapping_text(MONTH).replace("      施設名: 施設\n", "      施設名: {from: 施設, normalize: zenkaku}\n")
    with pytest.raises(MappingError) as err:
        parse_mapping(text, Path("kodomo_shien.yaml"), registry)
    assert any("normalize" in p.message_en for p in err.value.problems)


def test_normalize_width_keeps_the_full_width_space(registry, tmp_path):
    folder = deliver(tmp_path / MONTH / "kodomo_shien", MONTH)
    _widen(folder)
    kept = _facilities(registry, folder, "施設")
    width = _facilities(registry, folder, "{from: 施設, normalize: width}")
    assert sum(v.endswith("27ホイク") for v in width) == sum(v.endswith(WIDE) for v in kept) > 0
    assert sum(v.count("\u3000") for v in width) == sum(v.count("\u3000") for v in kept)
    nfkc = _facilities(registry, folder, "{from: 施設, normalize: nfkc}")
    assert not any("\u3000" in v for v in nfkc)
