"""``/api/v1/`` routes of the cases app (included by ``jjp/api_urls.py``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("cases/", views.CaseListView.as_view(), name="api-case-list"),
    path("offence-types/", views.OffenceTypeListView.as_view(), name="api-offence-types"),
    path("cases/bulk/", views.CaseBulkView.as_view(), name="api-case-bulk"),
    path("cases/<str:urn>/", views.CaseDetailView.as_view(), name="api-case-detail"),
    path(
        "cases/<str:urn>/police-outcome/", views.PoliceOutcomeView.as_view(), name="api-case-police-outcome"
    ),
    path("cases/<str:urn>/offences/", views.OffenceAddView.as_view(), name="api-case-offences"),
    path(
        "cases/<str:urn>/offences/<api_id:offence_id>/people/",
        views.OffencePeopleView.as_view(),
        name="api-offence-people",
    ),
    path(
        "cases/<str:urn>/qualifying-report/",
        views.QualifyingReportView.as_view(),
        name="api-case-qualifying-report",
    ),
    path("cases/<str:urn>/progress/", views.ProgressView.as_view(), name="api-case-progress"),
]
