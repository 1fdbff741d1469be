from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    # login/ and logout/ are in jjp/auth_urls.py (password, second factor, lockout).
    path("dashboards/<slug:slug>/", views.dashboard, name="dashboard"),
    path("dashboards/<slug:slug>/<slug:section>.csv", views.dashboard_export, name="dashboard_export"),
    path("dashboards/<slug:slug>/<slug:section>/", views.dashboard_section, name="dashboard_section"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/export.csv", views.case_export, name="case_export"),
    path("cases/new/", views.case_create, name="case_create"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/summary/", views.case_summary, name="case_summary"),
    path("cases/<int:pk>/steps/<slug:step>/", views.case_step, name="case_step"),
]
