"""Joint governance: multi-agency scrutiny panels and the cases they review (DA Joint Justice Plan, outcome 6
and the joint local principles). Panel members see only the cases their panel reviews."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from cases.audit import audited
from cases.models import Case, Organisation, _choices_check


class ScrutinyPanelKind(models.TextChoices):
    GENERAL = "general", "Domestic abuse case scrutiny"
    OUT_OF_COURT = "out_of_court", "Out-of-court resolution scrutiny"


@audited()
class ScrutinyPanel(models.Model):
    """A multi-agency scrutiny panel for a force or a CPS Area, including out-of-court resolution panels."""

    Kind = ScrutinyPanelKind

    name = models.CharField(max_length=120)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="panels")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.GENERAL)
    members = models.ManyToManyField("cases.User", blank=True, related_name="panels")

    class Meta:
        ordering = ["name"]
        constraints = [_choices_check("kind", ScrutinyPanelKind, "%(app_label)s_%(class)s_kind_valid")]

    def __str__(self) -> str:
        return self.name


class PanelReviewSampling(models.TextChoices):
    RANDOM = "random", "At random"
    RULE = "rule", "By rule"


class PanelReviewRating(models.TextChoices):
    GOOD = "good", "Good"
    REQUIRES_IMPROVEMENT = "requires_improvement", "Requires improvement"
    POOR = "poor", "Poor"
    NOT_ASSESSED = "", "Not assessed"


@audited()
class PanelReview(models.Model):
    """A case sampled for a panel meeting, at random or by rule, with the panel's structured findings."""

    Sampling = PanelReviewSampling
    Rating = PanelReviewRating

    panel = models.ForeignKey(ScrutinyPanel, on_delete=models.PROTECT, related_name="reviews")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="panel_reviews")
    meeting_on = models.DateField()
    sampling = models.CharField(max_length=6, choices=Sampling.choices)
    sampling_rule = models.CharField(max_length=60, blank=True)
    investigation = models.CharField(max_length=20, choices=Rating.choices, blank=True, default="")
    decision_making = models.CharField(max_length=20, choices=Rating.choices, blank=True, default="")
    timeliness = models.CharField(max_length=20, choices=Rating.choices, blank=True, default="")
    action_plan_proportionality = models.CharField(
        max_length=20, choices=Rating.choices, blank=True, default=""
    )
    victims_code_compliance = models.CharField(max_length=20, choices=Rating.choices, blank=True, default="")
    language = models.CharField(max_length=20, choices=Rating.choices, blank=True, default="")
    learning_points = models.TextField(blank=True)
    learning_shared = models.BooleanField(default=False)

    class Meta:
        ordering = ["-meeting_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["panel", "case", "meeting_on"], name="%(app_label)s_%(class)s_once_per_meeting"
            ),
            _choices_check("sampling", PanelReviewSampling, "%(app_label)s_%(class)s_sampling_valid"),
            models.CheckConstraint(
                condition=~Q(sampling="rule") | ~Q(sampling_rule=""),
                name="%(app_label)s_%(class)s_rule_named",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.panel}: {self.case} on {self.meeting_on}"
