"""HTML in the data is shown as text in every Superset table, never rendered (chromium).

A resident name carrying markup (a tag, an image with an event handler) is written into the
published month (every relation holding the name) for the length of the test; the dashboards with tables are opened as the
coordinator; no element made from the name may exist in the page, and its text must be shown
literally. The names are restored afterwards. Only element counts are reported.
"""

from __future__ import annotations

import re

import pytest
from mimamori import superset_assets as sa
from mimamori.browser import chromium, superset_login
from mimamori.stack import pg

pytestmark = pytest.mark.browser

PROBE_OPEN = '<b class="mm-probe"><img src="x" class="mm-probe-img" onerror="document.title=\'pwned\'">'
PROBE_CLOSE = "</b>"
DASHBOARDS = ("mimamori-overview", "mimamori-type-detail")
#: where the published month holds a resident's name (the dashboards read their marts, the case
#: screen residents): history.<table>.<column>
NAMED = (("residents", "name"), ("dashboard_child_types", "child_name"), ("dashboard_type_items", "child_name"))
_DRAWN = """() => {
  const holders = [...document.querySelectorAll('.dashboard-component-chart-holder')]
    .filter(h => /dashboard-chart-id-\\d+/.test(h.className));
  return holders.length > 0 && holders.every(h =>
    !h.querySelector('.loading, [data-test=loading-indicator]') &&
    (h.querySelector('table tbody tr, canvas, .header-line, .big-number') || h.querySelector('.ant-empty, [role=alert]')));
}"""


@pytest.fixture()
def marked_names(superset, published_month, warehouse):
    """Every resident name of the dashboards' month wrapped in markup, restored afterwards."""
    api = sa.admin_api(warehouse)
    sa.import_bundle(warehouse, api=api)
    sa.provision_roles(warehouse, api=api)
    with pg.connect(warehouse, autocommit=True) as conn:
        month = conn.execute("select max(run_month) from history.residents").fetchone()[0]
        for table, column in NAMED:
            changed = conn.execute(
                f"update history.{table} set {column} = %s || {column} || %s where run_month = %s and {column} not like %s",
                (PROBE_OPEN, PROBE_CLOSE, month, PROBE_OPEN + "%"),
            ).rowcount
            assert changed > 0, table
    try:
        yield month
    finally:
        with pg.connect(warehouse, autocommit=True) as conn:
            for table, column in NAMED:
                conn.execute(
                    f"update history.{table} set {column} = substr({column}, %s, length({column}) - %s) "
                    f"where run_month = %s and {column} like %s",
                    (len(PROBE_OPEN) + 1, len(PROBE_OPEN) + len(PROBE_CLOSE), month, PROBE_OPEN + "%"),
                )


def test_only_the_escaping_dataset_renders_html():
    """A table may render HTML (for its case-screen link) only on the dataset that escapes its data."""
    import yaml

    bundle = sa.bundle_dir(sa.get_settings())
    datasets = {yaml.safe_load(p.read_text())["uuid"]: p.stem for p in (bundle / "datasets").rglob("*.yaml")}
    rendering = {
        p.stem: datasets[yaml.safe_load(p.read_text())["dataset_uuid"]]
        for p in (bundle / "charts").glob("*.yaml")
        if yaml.safe_load(p.read_text()).get("params", {}).get("allow_render_html")
    }
    assert set(rendering.values()) <= {"type_items"}, rendering
    escaping = (bundle / "datasets" / "warehouse" / "type_items.yaml").read_text()
    for column in ("child_name", "area", "person_id"):
        assert re.search(rf"replace\(replace\(replace\(replace\([^\n]*'&lt;'[^\n]* as {column}", escaping), column


def test_markup_in_a_name_is_text_in_every_table(marked_names, superset, warehouse):
    with chromium() as context:
        page = context.new_page()
        superset_login(page, superset, "coordinator", sa.user_password(warehouse, "coordinator"))
        for slug in DASHBOARDS:
            page.goto(f"{superset}/superset/dashboard/{slug}/", wait_until="domcontentloaded")
            page.locator(".dashboard-component-chart-holder").first.wait_for(timeout=60_000)
            page.wait_for_function(_DRAWN, timeout=90_000)
            page.wait_for_timeout(1500)
            rendered = page.locator(".mm-probe, .mm-probe-img").count()
            # shown as text: literally where the table renders no HTML, entity-escaped by the dataset
            # where the table renders its case-screen link (superset/assets/datasets/…/type_items.yaml)
            as_text = page.locator("td, th", has_text="mm-probe").count()
            assert rendered == 0, f"{slug}: {rendered} element(s) rendered from a name"
            assert as_text > 0, f"{slug}: the marked names are not shown in any table"
            assert page.title() != "pwned"
