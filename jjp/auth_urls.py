"""Sign-in, the second factor, signing out, and the auditor's access log pages."""

from django.contrib.auth import views as django_auth_views
from django.urls import path

from . import auth_views

urlpatterns = [
    path("login/", auth_views.SignInView.as_view(), name="login"),
    path("login/code/", auth_views.otp_verify, name="otp_verify"),
    path("login/set-up-app/", auth_views.otp_setup, name="otp_setup"),
    path("logout/", django_auth_views.LogoutView.as_view(), name="logout"),
    path("security/access-log/", auth_views.access_log_search, name="access_log"),
    path("security/access-log/export.csv", auth_views.access_log_export, name="access_log_export"),
]
