"""Write extracts byte-for-byte deterministically: cp932/UTF-8-BOM CSV with CRLF, and .xlsx.

openpyxl stamps the current time into docProps/core.xml and the zip entries; we rewrite the zip
with fixed entry timestamps and fixed created/modified properties so a seed gives identical bytes.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)
FIXED_DOC_TIME = datetime(2020, 1, 1, 0, 0, 0)


def csv_bytes(headers, rows, encoding: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(headers)
    w.writerows(rows)
    text = buf.getvalue()
    if encoding == "utf-8-sig":
        return text.encode("utf-8-sig")
    return text.encode(encoding)


def xlsx_bytes(headers, rows, sheet_title: str = "出欠") -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    wb.properties.created = FIXED_DOC_TIME
    wb.properties.modified = FIXED_DOC_TIME
    wb.properties.creator = "mimamori.synth"
    ws = wb.create_sheet(sheet_title)
    ws.append(list(headers))
    from openpyxl.cell import WriteOnlyCell

    for row in rows:
        cells = []
        for v in row:
            if isinstance(v, datetime):
                c = WriteOnlyCell(ws, value=v)
                c.number_format = "yyyy/m/d"
                cells.append(c)
            else:
                cells.append(v)
        ws.append(cells)
    raw = io.BytesIO()
    wb.save(raw)
    return normalise_zip(raw.getvalue())


_CORE_TIME = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def normalise_zip(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _CORE_TIME.sub(rb"\g<1>2020-01-01T00:00:00Z\g<3>", body)
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, body)
    return out.getvalue()


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
