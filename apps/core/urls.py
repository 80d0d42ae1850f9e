from django.urls import path

from .views import account, audit, home, jobs, notifications, orgunits, users

app_name = "core"

urlpatterns = [
    path("", home.HomeView.as_view(), name="home"),
    path("orgunits/", orgunits.OrgUnitListView.as_view(), name="orgunit_list"),
    path("orgunits/new/", orgunits.OrgUnitCreateView.as_view(), name="orgunit_create"),
    path("orgunits/<int:pk>/", orgunits.OrgUnitDetailView.as_view(), name="orgunit_detail"),
    path("orgunits/<int:pk>/edit/", orgunits.OrgUnitEditView.as_view(), name="orgunit_edit"),
    path("users/", users.UserListView.as_view(), name="user_list"),
    path("roles/", users.RoleListView.as_view(), name="role_list"),
    path("users/new/", users.UserCreateView.as_view(), name="user_create"),
    path("users/<int:pk>/", users.UserDetailView.as_view(), name="user_detail"),
    path("users/<int:pk>/edit/", users.UserEditView.as_view(), name="user_edit"),
    path("users/<int:pk>/<str:action>/", users.UserActionView.as_view(), name="user_action"),
    path("audit/", audit.AuditView.as_view(), name="audit"),
    path("notifications/", notifications.NotificationListView.as_view(), name="notification_list"),
    path("notifications/<int:pk>/read/", notifications.notification_read, name="notification_read"),
    path("notifications/read-all/", notifications.notification_read_all, name="notification_read_all"),
    path("account/profile/", account.ProfileView.as_view(), name="profile"),
    path("account/token/", account.api_token_create, name="api_token_create"),
    path("account/2fa/setup/", account.OtpSetupView.as_view(), name="otp_setup"),
    path("account/2fa/verify/", account.OtpVerifyView.as_view(), name="otp_verify"),
    path("account/2fa/disable/", account.otp_disable, name="otp_disable"),
]

# The download centre (namespace ``jobs``), mounted at /downloads/ by veterans_portal/urls.py.
job_urlpatterns = [
    path("", jobs.JobListView.as_view(), name="job_list"),
    path("<int:pk>/download/", jobs.job_download, name="job_download"),
    path("<int:pk>/retry/", jobs.job_retry_view, name="job_retry"),
]
