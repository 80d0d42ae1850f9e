from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("orgunits/", views.OrgUnitListView.as_view(), name="orgunit_list"),
    path("orgunits/new/", views.OrgUnitCreateView.as_view(), name="orgunit_create"),
    path("orgunits/<int:pk>/", views.OrgUnitDetailView.as_view(), name="orgunit_detail"),
    path("orgunits/<int:pk>/edit/", views.OrgUnitEditView.as_view(), name="orgunit_edit"),
    path("users/", views.UserListView.as_view(), name="user_list"),
    path("roles/", views.RoleListView.as_view(), name="role_list"),
    path("users/new/", views.UserCreateView.as_view(), name="user_create"),
    path("users/<int:pk>/", views.UserDetailView.as_view(), name="user_detail"),
    path("users/<int:pk>/edit/", views.UserEditView.as_view(), name="user_edit"),
    path("users/<int:pk>/<str:action>/", views.UserActionView.as_view(), name="user_action"),
    path("audit/", views.AuditView.as_view(), name="audit"),
    path("notifications/", views.NotificationListView.as_view(), name="notification_list"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("notifications/read-all/", views.notification_read_all, name="notification_read_all"),
    path("account/profile/", views.ProfileView.as_view(), name="profile"),
    path("account/token/", views.api_token_create, name="api_token_create"),
    path("account/2fa/setup/", views.OtpSetupView.as_view(), name="otp_setup"),
    path("account/2fa/verify/", views.OtpVerifyView.as_view(), name="otp_verify"),
    path("account/2fa/disable/", views.otp_disable, name="otp_disable"),
]
