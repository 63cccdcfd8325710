"""This month's candidates and follow-ups: the list the coordinating team's conference works from."""

from __future__ import annotations

from fastapi import APIRouter, Request

from mimamori.casescreen import candidates as candidate_filters
from mimamori.casescreen.web import WebDep

router = APIRouter()


@router.get("/candidates")
def candidates(request: Request, web: WebDep):
    def build(session, conn, repo):
        month = repo.current_month()
        view = candidate_filters.apply(repo.candidates(), candidate_filters.read_filters(request.query_params))
        households = view.households
        follow_ups = repo.follow_ups()
        web.audit(
            conn,
            request,
            "view_candidates",
            session,
            run_month=month,
            detail={"count": sum(len(h["children"]) for h in households)},
        )
        context = {
            "month": month,
            "households": households,
            "view": view,
            "follow_ups": follow_ups,
            "audience": repo.audience,
        }
        return web.render(request, "candidates.html", context, session=session)

    return web.page(request, "view", build)
