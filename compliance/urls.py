"""Top-level URL configuration."""

from django.contrib import admin
from django.urls import include, path

from cases.views import board

from .health import health

urlpatterns = [
    path("", board.dashboard, name="home"),
    path("health/", health, name="health"),
    path("accounts/", include("accounts.urls")),
    path("reminders/", include("reminders.urls")),
    path("api/", include("api.urls")),
    path("webhooks/", include("webhooks.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("cases.urls")),
]
