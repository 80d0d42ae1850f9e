"""The download centre (namespace ``jobs``), mounted at /downloads/ by veterans_portal/urls.py."""

from django.urls import path

from . import views_jobs

app_name = "jobs"

urlpatterns = [
    path("", views_jobs.JobListView.as_view(), name="job_list"),
    path("<int:pk>/download/", views_jobs.job_download, name="job_download"),
    path("<int:pk>/retry/", views_jobs.job_retry_view, name="job_retry"),
]
