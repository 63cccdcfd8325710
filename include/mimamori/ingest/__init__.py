"""Monthly ingestion: every holder department's extract into ``raw.<raw_table>``, exactly and safely.

- :mod:`mimamori.ingest.registry` — the source registry (``include/sources/*.yaml``) made from the contract;
- :mod:`mimamori.ingest.parse` — strict decoding and typed parsing (era dates, full-width digits, 有/無);
- :mod:`mimamori.ingest.validate` — the rejection rules, reported all at once, without values;
- :mod:`mimamori.ingest.load` — the atomic per-source load with lineage, quarantine and rejections.

Run ``python -m mimamori.ingest --help`` for the command line.
"""

from mimamori.ingest.load import FileResult, IngestRejected, SourceResult, ingest_month, ingest_source
from mimamori.ingest.registry import ColumnSpec, DataOwner, FileSpec, RegistryError, Source, load_registry
from mimamori.ingest.validate import RULES, Rejection

__all__ = [
    "ColumnSpec",
    "DataOwner",
    "FileResult",
    "FileSpec",
    "IngestRejected",
    "RULES",
    "RegistryError",
    "Rejection",
    "Source",
    "SourceResult",
    "ingest_month",
    "ingest_source",
    "load_registry",
]
