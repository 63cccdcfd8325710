"""The size limits a delivered file must keep, each with the rule id that rejects it.

They bound what one file may cost the loader (memory, time) and turn the malformed files that
would exceed them — a 1 MB line, a runaway quoted field, a file of binary garbage — into a
rejection naming the file and the rows instead of an error. Values come from the settings
(``MIMAMORI_INGEST_MAX_*`` in ``.env``, docs/ingestion.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int  # file_too_large (the file; an xlsx also uncompressed)
    max_rows: int  # too_many_rows (data rows, the header not counted)
    max_line_bytes: int  # line_too_long (one physical line of a CSV, the line break not counted)
    max_field_chars: int  # field_too_large (one CSV field or xlsx cell, in characters)

    @classmethod
    def from_settings(cls, settings=None) -> Limits:
        if settings is None:
            from mimamori.settings import get_settings

            settings = get_settings()
        return cls(
            max_file_bytes=settings.ingest_max_file_bytes,
            max_rows=settings.ingest_max_rows,
            max_line_bytes=settings.ingest_max_line_bytes,
            max_field_chars=settings.ingest_max_field_chars,
        )
