from django.urls import path

from . import views

app_name = "care"

urlpatterns = [
    path("worklist/", views.WorklistView.as_view(), name="worklist"),
]
