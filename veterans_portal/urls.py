from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.core.forms import LoginForm
from apps.core.urls import job_urlpatterns
from apps.core.views import account, errors

admin.site.site_header = "退役军人服务管理平台 · 后台"
admin.site.site_title = "退役军人服务管理平台"

urlpatterns = [
    path("healthz", errors.healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("img/favicon.svg"), permanent=True), name="favicon"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("account/login/", auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True), name="login"),
    path("account/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", account.PasswordChangeView.as_view(), name="password_change"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("apps.core.api.urls")),
    path("api/v1/", include("apps.registry.api.urls")),
    path("veterans/", include("apps.registry.urls")),
    path("care/liaison/", include("apps.liaison.urls")),
    path("care/", include("apps.care.urls")),
    path("honors/", include("apps.honors.urls")),
    path("reports/", include("apps.reports.urls")),
    path("downloads/", include((job_urlpatterns, "jobs"))),
    path("", include("apps.core.urls")),
]

handler404 = "apps.core.views.errors.error_404"
handler403 = "apps.core.views.errors.error_403"
handler500 = "apps.core.views.errors.error_500"
