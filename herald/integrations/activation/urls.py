"""URLs of the activation system's sandbox twin (mounted at /sandbox/activation/ when the sandbox is on)."""

from __future__ import annotations

from django.urls import path

from herald.integrations.activation import sandbox

app_name = "activation_sandbox"

urlpatterns = [
    path("control", sandbox.control, name="control"),
    path("activations", sandbox.activate, name="activate"),
    path("activations/<str:reference>", sandbox.activation_status, name="status"),
]
