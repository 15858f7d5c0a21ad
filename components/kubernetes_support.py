"""When each managed Kubernetes version leaves standard support: a dated table and the warning built from it.

Pure and importable (no Pulumi): the AWS platform warns at preview with it,
and the plan / cost tooling can read the same table, keyed by the stack's
`cloud`: `standard_support_warning("aws", "1.36", date.today())`.

Past the end of standard support EKS bills the control plane at the extended
support rate instead of the standard one (the prices below), or - with
the STANDARD upgrade policy - upgrades it on its own, after which the pinned
version in the stack file no longer matches the cluster.

Only EKS is tabled: GKE clusters here follow a release channel, which moves the
control plane before its version leaves support, so no pinned version goes stale.

Every row names its source and the day it was read. The table goes stale by
design; a version the table does not know is reported, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# Warn this many days ahead: EKS itself announces an end of standard support
# "at least 60 days in advance" (EKS user guide, version FAQ), and an upgrade
# with its node group roll needs planning time.
WARNING_DAYS = 60
# The EKS control plane's hourly list prices (the same in every region). The
# one source of these numbers: review/prices.py prices the plan with them, and
# components never import review.
EKS_SUPPORT_PRICING = (
    "https://aws.amazon.com/blogs/containers/amazon-eks-extended-support-for-kubernetes-versions-pricing/"
)
EKS_SUPPORT_PRICES_AS_OF = "2024-04"
EKS_STANDARD_SUPPORT_USD_PER_HOUR = 0.10
EKS_EXTENDED_SUPPORT_USD_PER_HOUR = 0.60
# The month AWS and Google price "per month" figures with.
HOURS_PER_MONTH = 730
EXTENDED_SUPPORT_EXTRA_USD_PER_MONTH = round(
    (EKS_EXTENDED_SUPPORT_USD_PER_HOUR - EKS_STANDARD_SUPPORT_USD_PER_HOUR) * HOURS_PER_MONTH
)

EKS_CALENDAR = "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html#kubernetes-release-calendar"
EKS_CALENDAR_SOURCE = (
    "https://github.com/awsdocs/amazon-eks-user-guide/blob/mainline/latest/ug/versioning/kubernetes-versions.adoc"
)
ENDOFLIFE_EKS = "https://endoflife.date/amazon-eks"


@dataclass(frozen=True)
class SupportWindow:
    version: str
    end_of_standard_support: date
    end_of_extended_support: date
    source: str
    read_on: date


# Dates are UTC days; EKS starts extended-support billing at the beginning of
# the end-of-standard-support day.
# Keyed by the stack's `cloud` value.
STANDARD_SUPPORT: dict[str, dict[str, SupportWindow]] = {
    "aws": {
        window.version: window
        for window in (
            SupportWindow("1.29", date(2025, 3, 23), date(2026, 3, 23), EKS_CALENDAR_SOURCE, date(2026, 11, 22)),
            SupportWindow("1.30", date(2025, 7, 23), date(2026, 7, 23), EKS_CALENDAR_SOURCE, date(2026, 11, 22)),
            SupportWindow("1.31", date(2025, 11, 26), date(2026, 11, 26), EKS_CALENDAR_SOURCE, date(2026, 11, 22)),
            SupportWindow("1.32", date(2026, 3, 23), date(2027, 3, 23), EKS_CALENDAR_SOURCE, date(2026, 11, 22)),
            SupportWindow("1.33", date(2026, 7, 29), date(2027, 7, 29), EKS_CALENDAR_SOURCE, date(2026, 11, 22)),
            SupportWindow("1.34", date(2026, 12, 2), date(2027, 12, 2), EKS_CALENDAR_SOURCE, date(2026, 11, 22)),
            # EKS release 2026-01-27; the calendar row as mirrored by endoflife.date.
            SupportWindow("1.35", date(2027, 3, 27), date(2028, 3, 27), ENDOFLIFE_EKS, date(2026, 11, 22)),
            # EKS release 2026-06-02 (upstream 2026-04-22); the calendar row
            # "1.36 | April 22, 2026 | June 2, 2026 | August 2, 2027 | August 2, 2028".
            SupportWindow("1.36", date(2027, 8, 2), date(2028, 8, 2), EKS_CALENDAR, date(2026, 11, 22)),
        )
    },
}
# Per cloud: the service's name in messages and the calendar to add rows from.
SERVICES = {"aws": ("EKS", EKS_CALENDAR)}


def newest_version(cloud: str) -> str:
    return max(STANDARD_SUPPORT[cloud], key=lambda version: tuple(int(part) for part in version.split(".")))


def standard_support_warning(cloud: str, version: str, today: date) -> str | None:
    """A warning when `version` leaves standard support within WARNING_DAYS of `today`,
    has already left it, or is not in the table; None while it is safely supported.

    `cloud` is the stack's `cloud` value; only "aws" (EKS) has a table, any
    other cloud is not checked (None).
    """
    table = STANDARD_SUPPORT.get(cloud)
    if table is None:
        return None
    label, calendar = SERVICES[cloud]
    newest = newest_version(cloud)
    window = table.get(version)
    if window is None:
        return (
            f"{label} Kubernetes {version} is not in the support table of components/kubernetes_support.py "
            f"(newest known: {newest}): check its end of standard support on {calendar} and add its row"
        )
    days_left = (window.end_of_standard_support - today).days
    if days_left > WARNING_DAYS:
        return None
    cost = (
        f"the control plane is billed at the extended support rate (+${EXTENDED_SUPPORT_EXTRA_USD_PER_MONTH}/month) "
        "or, with the STANDARD upgrade policy, upgraded by EKS itself"
    )
    advice = f"upgrade to {newest}" if newest != version else "plan the next upgrade"
    when = (
        f"left standard support on {window.end_of_standard_support.isoformat()} ({-days_left} days ago): {cost}"
        if days_left <= 0
        else f"leaves standard support on {window.end_of_standard_support.isoformat()} (in {days_left} days); "
        f"from then {cost}"
    )
    return f"{label} Kubernetes {version} {when} - {advice} (source: {window.source}, read {window.read_on})"
