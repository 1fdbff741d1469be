"""Reactions instead of calls upward (``cases/hooks.py``): once the apps are ready, every hook has exactly the
handlers the table in its docstring names, registered by the higher apps, and firing one does the higher app's
work (the services' own tests cover each reaction end to end: webhooks, the language check, Operation
Encompass, the CPS notification, the lexicon read once, panel members' access)."""

from __future__ import annotations

from cases import hooks


def test_every_hook_has_its_handlers():
    assert {name: hooks.registered(hook) for name, hook in hooks.ALL.items()} == {
        "case_event": ["api.webhooks.on_case_event"],
        "free_text_saved": ["victims.language.free_text_check"],
        "household_changed": ["victims.services.encompass_clock_ensure"],
        "police_nfa_after_plan": ["governance.services.cps_notification_record"],
        "request_cache": ["victims.language.lexicon_cache"],
        "access_grants": ["grant:scrutiny_panel_members"],
    }


def test_registering_twice_changes_nothing_and_handlers_run_in_order():
    hook = hooks.Hook("test", "a test hook")
    calls = []

    def first(**kw):
        calls.append(("first", kw))

    def second(**kw):
        calls.append(("second", kw))

    hook.register(first)
    hook.register(second)
    hook.register(first)
    hook.fire(x=1)
    assert calls == [("first", {"x": 1}), ("second", {"x": 1})]
