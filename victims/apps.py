from django.apps import AppConfig


class VictimsConfig(AppConfig):
    name = "victims"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cases import hooks

        from . import language, permissions, services

        permissions.register()
        hooks.free_text_saved.register(language.free_text_check)
        hooks.request_cache.register(language.lexicon_cache)
        hooks.household_changed.register(services.encompass_clock_ensure)
