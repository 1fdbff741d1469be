from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases and clocks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.signals import setting_changed

        from . import clocks

        def configure_rules(**kwargs: object) -> None:
            from django.conf import settings

            if kwargs.get("setting") in (None, "JJP_RULES"):
                clocks.configure(rules=clocks.ClockRules(**settings.JJP_RULES))

        configure_rules()
        setting_changed.connect(configure_rules, weak=False)
