"""URL map: the API, the admin, the sandbox, health and metrics."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config.api import api
from herald.content import views as content_views
from herald.core import views as core_views

urlpatterns = [
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("health", core_views.health, name="health"),
    path("metrics", core_views.metrics, name="metrics"),
    # tracked links of channel posts: count the click, redirect
    path("r/<path:code>", content_views.tracked_link_redirect, name="tracked-link"),
]

if settings.HERALD_SANDBOX:
    # the external activation system's twin (wallet); before the Bot API sandbox's own patterns
    urlpatterns.append(path("sandbox/activation/", include("herald.integrations.activation.urls")))
    # the AI service's twin: an OpenAI-compatible API for the studio's post writer
    urlpatterns.append(path("sandbox/ai/", include("herald.ai.urls")))
    urlpatterns.append(path("sandbox/", include("herald.telegram.sandbox.urls")))

handler400 = core_views.handler400
handler403 = core_views.handler403
handler404 = core_views.handler404
handler500 = core_views.handler500
