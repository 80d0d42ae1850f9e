from django.urls import path

from . import views

app_name = "care"

urlpatterns = [
    path("worklist/", views.WorklistView.as_view(), name="worklist"),
    path("tasks/<int:task_pk>/visit/", views.VisitCreateView.as_view(), name="visit_create_for_task"),
    path("tasks/<int:pk>/cancel/", views.TaskCancelView.as_view(), name="task_cancel"),
    path("people/<int:pk>/visit/", views.VisitCreateView.as_view(), name="visit_create"),
    path("people/<int:pk>/event/", views.LifeEventCreateView.as_view(), name="event_create"),
    path("visits/<int:pk>/", views.VisitDetailView.as_view(), name="visit_detail"),
    path("visits/<int:pk>/photos/<int:photo_pk>/", views.VisitPhotoView.as_view(), name="visit_photo"),
    path("calendar/", views.CalendarView.as_view(), name="calendar"),
    path("campaigns/", views.CampaignListView.as_view(), name="campaign_list"),
    path("campaigns/<int:pk>/", views.CampaignDetailView.as_view(), name="campaign_detail"),
    path("campaigns/<int:pk>/export/", views.CampaignExportView.as_view(), name="campaign_export"),
    path("rules/", views.RuleListView.as_view(), name="rule_list"),
    path("rules/new/", views.RuleCreateView.as_view(), name="rule_create"),
    path("rules/<int:pk>/", views.RuleEditView.as_view(), name="rule_edit"),
    path("rules/<int:pk>/toggle/", views.RuleToggleView.as_view(), name="rule_toggle"),
    path("occasions/", views.OccasionListView.as_view(), name="occasion_list"),
    path("occasions/new/", views.OccasionCreateView.as_view(), name="occasion_create"),
    path("occasions/<int:pk>/", views.OccasionEditView.as_view(), name="occasion_edit"),
]
