from django.apps import AppConfig


class ChargingConfig(AppConfig):
    name = "charging"
    default_auto_field = "django.db.models.BigAutoField"
