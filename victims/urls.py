"""Victims and safeguarding pages (included at /victims/). URL keywords name what they identify, as the
generated access matrix (tests/security/test_access_matrix.py) expects."""

from django.urls import path

from . import views

app_name = "victims"

urlpatterns = [
    path("case/<int:case_pk>/", views.case_safeguarding, name="case"),
    path("case/<int:case_pk>/do/<slug:step>/", views.case_action, name="action"),
    path("<int:victim_pk>/address/", views.victim_address, name="address"),
]
