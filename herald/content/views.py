"""``GET /r/<code>``: a tracked link in a channel post counts the click and redirects (302) to its address."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.http import require_http_methods

from herald.content import selectors, services
from herald.core.errors import NotFound


@require_http_methods(["GET", "HEAD"])
def tracked_link_redirect(request: HttpRequest, code: str) -> HttpResponse:
    try:
        # a HEAD (a crawler checking the link) is answered without counting a click
        url = selectors.link_target(code=code) if request.method == "HEAD" else services.link_click(code=code)
    except NotFound as exc:
        if "application/json" in request.headers.get("Accept", ""):
            return JsonResponse(exc.as_dict(), status=404)
        raise Http404(exc.message) from exc
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store"  # every click must reach us to be counted
    return response
