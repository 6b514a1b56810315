from django.urls import path

from core.ops import views

urlpatterns = [
    path("health", views.health, name="health"),
    path("health/live", views.live, name="health-live"),
    path("metrics", views.metrics, name="metrics"),
]
