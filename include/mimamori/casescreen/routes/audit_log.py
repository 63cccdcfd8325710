"""The audit page: who saw or changed what, filtered by user, object and action."""

from __future__ import annotations

from fastapi import APIRouter, Request

from mimamori.casescreen import audit
from mimamori.casescreen.web import WebDep

router = APIRouter()


@router.get("/audit")
def audit_page(request: Request, web: WebDep):
    def build(session, conn, repo):
        q = request.query_params
        filters = {k: (q.get(k) or "").strip()[:64] for k in ("username", "object_id", "action")}
        rows = repo.audit_rows(**filters)
        web.audit(conn, request, "view_audit", session, detail={"count": len(rows)})
        context = {
            "rows": rows,
            "filters": filters,
            "ACTIONS": audit.ACTIONS,
            "OBJECT_LABELS": audit.OBJECT_LABELS,
            "readable": audit.readable_detail,
        }
        return web.render(request, "audit.html", context, session=session)

    return web.page(request, "audit", build)
