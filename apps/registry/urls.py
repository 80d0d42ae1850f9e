from django.urls import path

from .views import exports, imports, records

app_name = "registry"

urlpatterns = [
    path("", records.VeteranListView.as_view(), name="veteran_list"),
    path("search/", records.VeteranSearchView.as_view(), name="veteran_search"),
    path("new/", records.VeteranCreateView.as_view(), name="veteran_create"),
    path("<int:pk>/", records.VeteranDetailView.as_view(), name="veteran_detail"),
    path("<int:pk>/edit/", records.VeteranEditView.as_view(), name="veteran_edit"),
    path("<int:pk>/transfer/", records.VeteranTransferView.as_view(), name="veteran_transfer"),
    path("<int:pk>/close/", records.VeteranCloseView.as_view(), name="veteran_close"),
    path("<int:pk>/restore/", records.veteran_restore, name="veteran_restore"),
    path("<int:pk>/reveal/", records.veteran_reveal, name="veteran_reveal"),
    path("<int:pk>/family/new/", records.FamilyMemberView.as_view(), name="family_create"),
    path("<int:pk>/family/<int:part_pk>/", records.FamilyMemberView.as_view(), name="family_edit"),
    path("<int:pk>/care/new/", records.CareEntitlementView.as_view(), name="care_create"),
    path("<int:pk>/care/<int:part_pk>/", records.CareEntitlementView.as_view(), name="care_edit"),
    path("<int:pk>/cards/new/", records.CardCreateView.as_view(), name="card_create"),
    path("<int:pk>/cards/<int:part_pk>/event/", records.CardEventView.as_view(), name="card_event"),
    path("<int:pk>/files/new/", records.AttachmentUploadView.as_view(), name="attachment_create"),
    path("<int:pk>/files/<int:part_pk>/", records.attachment_download, name="attachment_download"),
    path("import/", imports.ImportUploadView.as_view(), name="import_upload"),
    path("import/template.xlsx", imports.import_template, name="import_template"),
    path("import/<int:pk>/", imports.ImportDetailView.as_view(), name="import_detail"),
    path("import/<int:pk>/progress/", imports.import_progress, name="import_progress"),
    path("import/<int:pk>/confirm/", imports.import_confirm, name="import_confirm"),
    path("import/<int:pk>/errors.xlsx", imports.import_errors, name="import_errors"),
    path("export/", exports.VeteranExportView.as_view(), name="veteran_export"),
    path("<int:pk>/pdf/", exports.veteran_pdf, name="veteran_pdf"),
]
