"""``/api/v1/`` routes of the victims steps (included by ``jjp/api_urls.py``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("cases/<str:urn>/victims/", views.VictimsView.as_view(), name="api-case-victims"),
    path(
        "cases/<str:urn>/victims/<api_id:victim_id>/contacts/",
        views.ContactView.as_view(),
        name="api-victim-contact",
    ),
    path(
        "cases/<str:urn>/victims/<api_id:victim_id>/date-of-birth/",
        views.VictimBornView.as_view(),
        name="api-victim-date-of-birth",
    ),
    path(
        "cases/<str:urn>/victims/<api_id:victim_id>/qualifying-report/",
        views.VictimReportView.as_view(),
        name="api-victim-qualifying-report",
    ),
    path(
        "cases/<str:urn>/victims/<api_id:victim_id>/relationships/",
        views.VictimRelationshipView.as_view(),
        name="api-victim-relationship",
    ),
    path("cases/<str:urn>/orders/", views.OrdersView.as_view(), name="api-case-orders"),
    path(
        "cases/<str:urn>/bail-conditions/",
        views.BailConditionsView.as_view(),
        name="api-case-bail-conditions",
    ),
    *[
        path(f"cases/<str:urn>/orders/<api_id:order_id>/{slug}/", view.as_view(), name=f"api-order-{slug}")
        for slug, view in views.ORDER_STEPS.items()
    ],
    path(
        "cases/<str:urn>/orders/<api_id:order_id>/remove-requirement/",
        views.DapoRequirementRemoveView.as_view(),
        name="api-order-remove-requirement",
    ),
    path(
        "cases/<str:urn>/orders/<api_id:order_id>/breaches/",
        views.BreachView.as_view(),
        name="api-order-breach",
    ),
]
