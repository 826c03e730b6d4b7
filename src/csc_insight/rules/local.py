"""csc-insight's own rules on local datasets: services, attendance, feedback."""

from __future__ import annotations

import ibis

from csc_insight.rules.registry import (
    DateOrderRule,
    Rule,
    Severity,
    Source,
    Tables,
    register,
    same_child,
)


@register
class ServiceStartedBeforeRequest(DateOrderRule):
    """csc-insight LOC20: a service cannot start before it was requested."""

    code = "LOC20"
    source = Source.LOCAL
    message = "The service started before it was requested."
    severity = Severity.ERROR
    table = "service_involvements"
    fields = ("date_requested", "date_started")
    earlier = "date_requested"
    later = "date_started"


@register
class ServiceEndedBeforeStart(Rule):
    """csc-insight LOC21: an involvement cannot end before it started (or was requested)."""

    code = "LOC21"
    source = Source.LOCAL
    message = "The involvement ended before it started."
    severity = Severity.ERROR
    table = "service_involvements"
    fields = ("date_started", "date_ended")

    def failing(self, t: Tables) -> ibis.Table:
        s = t.service_involvements
        began = s.date_started.fill_null(s.date_requested)
        return s.filter(s.date_ended < began)


@register
class DuplicateInvolvement(Rule):
    """csc-insight LOC22: the same service requested twice for a child on the same day."""

    code = "LOC22"
    source = Source.LOCAL
    message = "The same service was requested for this child twice on the same day."
    severity = Severity.WARNING
    table = "service_involvements"
    fields = ("service", "date_requested")

    def failing(self, t: Tables) -> ibis.Table:
        s = t.service_involvements
        o = s.view()
        return s.semi_join(
            o,
            [
                *same_child(s, o),
                s.involvement_id != o.involvement_id,
                s.service == o.service,
                s.date_requested == o.date_requested,
            ],
        )


@register
class AttendanceSessions(Rule):
    """csc-insight LOC23: sessions attended lie between 0 and the sessions possible."""

    code = "LOC23"
    source = Source.LOCAL
    message = "Sessions attended are negative or more than the sessions possible."
    severity = Severity.ERROR
    table = "attendance"
    fields = ("sessions_attended", "sessions_possible")

    def failing(self, t: Tables) -> ibis.Table:
        a = t.attendance
        return a.filter(
            (a.sessions_attended < 0)
            | (a.sessions_possible < 0)
            | (a.sessions_attended > a.sessions_possible)
        )


@register
class AttendancePeriod(DateOrderRule):
    """csc-insight LOC24: an attendance period cannot end before it starts."""

    code = "LOC24"
    source = Source.LOCAL
    message = "The attendance period ends before it starts."
    severity = Severity.ERROR
    table = "attendance"
    fields = ("period_start", "period_end")
    earlier = "period_start"
    later = "period_end"


@register
class FeedbackScore(Rule):
    """csc-insight LOC25: a feedback answer is on the 1 to 5 scale."""

    code = "LOC25"
    source = Source.LOCAL
    message = "The feedback score is not on the 1 (very poor) to 5 (very good) scale."
    severity = Severity.ERROR
    table = "feedback_scores"
    fields = ("score",)

    def failing(self, t: Tables) -> ibis.Table:
        f = t.feedback_scores
        return f.filter(~f.score.between(1, 5)).mutate(child_id=ibis.null("string"))
