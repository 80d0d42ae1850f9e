from django.urls import path

from . import views

app_name = "honors"

urlpatterns = [
    path("plaques/", views.PlaqueListView.as_view(), name="plaque_list"),
    path("plaques/<int:pk>/", views.PlaqueDetailView.as_view(), name="plaque_detail"),
    path("plaques/<int:pk>/signature/", views.plaque_photo, name="plaque_photo"),
    path("notices/", views.NoticeListView.as_view(), name="notice_list"),
    path("notices/<int:pk>/", views.NoticeDetailView.as_view(), name="notice_detail"),
    path("notices/<int:pk>/deliver/", views.NoticeDeliverView.as_view(), name="notice_deliver"),
    path("notices/<int:pk>/signature/", views.notice_photo, name="notice_photo"),
    path("people/<int:pk>/plaques/new/", views.PlaqueCreateView.as_view(), name="plaque_create"),
    path("people/<int:pk>/notices/new/", views.NoticeCreateView.as_view(), name="notice_create"),
]
