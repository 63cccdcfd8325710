"""The case screen's pages, one router per area; :func:`mimamori.casescreen.app.create_app` includes them.

- :mod:`.login` — health check, login, logout
- :mod:`.candidates` — this month's candidates and follow-ups (the conference list)
- :mod:`.children` — the child's page and printed sheet
- :mod:`.child_forms` — the child page's forms: conference outcome, hand entry, data correction
- :mod:`.identity` — identity review queue and unmatched records
- :mod:`.audit_log` — the audit page

Shared dependencies (settings, connections, the session, CSRF, refusals) are in
:mod:`mimamori.casescreen.web`.
"""

from mimamori.casescreen.routes import audit_log, candidates, child_forms, children, identity, login

ROUTERS = (login.router, candidates.router, children.router, child_forms.router, identity.router, audit_log.router)
