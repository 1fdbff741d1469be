from django.apps import AppConfig


class VictimsConfig(AppConfig):
    name = "victims"
    default_auto_field = "django.db.models.BigAutoField"
