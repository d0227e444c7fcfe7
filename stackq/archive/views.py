"""The question page: `/questions/{site}/{question_id}`, one stored question and its answers."""

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from ..cache import CachedPage
from .page import question_page


@view_config(route_name="question", renderer="stackq.archive:templates/question.jinja2",
             request_method="GET", cached=CachedPage())
def question_view(request):
    site, question_id = request.matchdict["site"], int(request.matchdict["question_id"])
    page = question_page(request.dbsession, request.api, site, question_id)
    if page is None:
        raise HTTPNotFound(f"no question {question_id} of {site} is stored")
    if page.answers_missing:
        # Not shared: the next visitor may find the API back and the answers with it.
        request.response.headers["Cache-Control"] = "no-store"
    return {"page": page, "question": page.question, "site": page.site,
            "answers": page.answers}
