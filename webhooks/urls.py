"""URLs of the webhooks pages (mounted at /webhooks/)."""

from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoints, name="endpoints"),
    path("<int:endpoint_id>/disable/", views.endpoint_disable, name="endpoint_disable"),
    path("<int:endpoint_id>/enable/", views.endpoint_enable, name="endpoint_enable"),
    path("deliveries/", views.deliveries, name="deliveries"),
]
