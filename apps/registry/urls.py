from django.urls import path

from . import views
from .urls_export import urlpatterns as export_urls
from .urls_import import urlpatterns as import_urls

app_name = "registry"

urlpatterns = [
    path("", views.VeteranListView.as_view(), name="veteran_list"),
    path("search/", views.VeteranSearchView.as_view(), name="veteran_search"),
    path("new/", views.VeteranCreateView.as_view(), name="veteran_create"),
    path("<int:pk>/", views.VeteranDetailView.as_view(), name="veteran_detail"),
    path("<int:pk>/edit/", views.VeteranEditView.as_view(), name="veteran_edit"),
    path("<int:pk>/transfer/", views.VeteranTransferView.as_view(), name="veteran_transfer"),
    path("<int:pk>/close/", views.VeteranCloseView.as_view(), name="veteran_close"),
    path("<int:pk>/restore/", views.veteran_restore, name="veteran_restore"),
    path("<int:pk>/reveal/", views.veteran_reveal, name="veteran_reveal"),
    path("<int:pk>/family/new/", views.FamilyMemberView.as_view(), name="family_create"),
    path("<int:pk>/family/<int:part_pk>/", views.FamilyMemberView.as_view(), name="family_edit"),
    path("<int:pk>/care/new/", views.CareEntitlementView.as_view(), name="care_create"),
    path("<int:pk>/care/<int:part_pk>/", views.CareEntitlementView.as_view(), name="care_edit"),
    path("<int:pk>/cards/new/", views.CardCreateView.as_view(), name="card_create"),
    path("<int:pk>/cards/<int:part_pk>/event/", views.CardEventView.as_view(), name="card_event"),
    path("<int:pk>/files/new/", views.AttachmentUploadView.as_view(), name="attachment_create"),
    path("<int:pk>/files/<int:part_pk>/", views.attachment_download, name="attachment_download"),
    *import_urls,
    *export_urls,
]
