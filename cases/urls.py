from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .forms import LoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="registration/login.html", authentication_form=LoginForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("dashboards/<slug:slug>/", views.dashboard, name="dashboard"),
    path("dashboards/<slug:slug>/<slug:section>.csv", views.dashboard_export, name="dashboard_export"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/export.csv", views.case_export, name="case_export"),
    path("cases/new/", views.case_create, name="case_create"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/summary/", views.case_summary, name="case_summary"),
    path("cases/<int:pk>/steps/<slug:step>/", views.case_step, name="case_step"),
]
