"""The synthetic town (見守町): every department's monthly extracts, realistic and reproducible.

``generate(out_dir, seed=42, scale=1.0, months=3, end_month="2026-10", faults=())`` writes
``inbox/<YYYY-MM>/<source>/<file>`` exactly per docs/contract/extracts.csv, ground truth under
``truth/<YYYY-MM>/`` and ``manifest.json``. See docs/synthetic-town.md.
"""

from .generate import Summary, generate

__all__ = ["Summary", "generate"]
