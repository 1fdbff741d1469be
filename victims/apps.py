from django.apps import AppConfig


class VictimsConfig(AppConfig):
    name = "victims"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import permissions

        permissions.register()
