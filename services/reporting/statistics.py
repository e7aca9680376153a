"""Pure statistics behind the reports; each is checked against hand-computed fixtures.

Methods, stated once:
- rates are per 100 pupils on roll, not annualised (the period is stated beside them);
- the risk ratio compares the share of a group affected with the share of everyone else,
  with a 95% interval by the log (Katz) method; when any of the four cells is zero, 0.5
  is added to every cell first;
- funnel limits are exact Poisson quantiles around the expected count (the trust or
  setting-type rate times the school's roll): the lower limit is the smallest k with
  P(X <= k) >= a/2 and the upper the smallest k with P(X <= k) >= 1 - a/2, for a = 0.05
  (95%) and a = 0.002 (99.8%); a count below the lower or above the upper limit is outside;
- percentiles interpolate linearly between closest ranks (Hyndman & Fan type 7, as
  numpy's default and a spreadsheet's PERCENTILE.INC): position (n - 1) * q from 0;
- the most-affected 10% of pupils are the ceil(n / 10) pupils with most incidents.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054
FUNNEL_LEVELS = {"95": 0.05, "99.8": 0.002}


def rate_per_100(count: int, roll: int | None) -> float | None:
    """Count per 100 on roll; None without a roll."""
    if not roll:
        return None
    return round(100.0 * count / roll, 4)


@dataclass(frozen=True)
class RiskRatio:
    """A risk ratio with its 95% confidence interval."""

    ratio: float
    lower: float
    upper: float
    corrected: bool  # 0.5 added to every cell

    @property
    def significant(self) -> bool:
        """Whether the interval excludes 1."""
        return self.lower > 1.0 or self.upper < 1.0


def risk_ratio(affected: int, group: int, affected_other: int, other: int) -> RiskRatio | None:
    """Risk of ``affected``/``group`` against ``affected_other``/``other`` (Katz log method)."""
    if group <= 0 or other <= 0 or affected > group or affected_other > other:
        return None
    a, b = float(affected), float(group - affected)
    c, d = float(affected_other), float(other - affected_other)
    corrected = min(a, b, c, d) == 0
    if corrected:
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    rr = (a / (a + b)) / (c / (c + d))
    se = math.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))
    return RiskRatio(
        ratio=round(rr, 4),
        lower=round(rr * math.exp(-Z95 * se), 4),
        upper=round(rr * math.exp(Z95 * se), 4),
        corrected=corrected,
    )


def _poisson_window(mu: float) -> tuple[int, int]:
    spread = 12 * math.sqrt(mu) + 12
    return max(0, int(mu - spread)), int(mu + spread) + 1


def poisson_cdf(k: int, mu: float) -> float:
    """P(X <= k) for X ~ Poisson(mu)."""
    if k < 0:
        return 0.0
    if mu <= 0:
        return 1.0
    lo, hi = _poisson_window(mu)
    if k >= hi:
        return 1.0
    log_mu = math.log(mu)
    return min(
        1.0,
        sum(math.exp(i * log_mu - mu - math.lgamma(i + 1)) for i in range(lo, k + 1)),
    )


def poisson_quantiles(ps: Sequence[float], mu: float) -> list[int]:
    """For each p, the smallest k with P(X <= k) >= p (X ~ Poisson(mu)), in one pass over
    the probabilities, each from the one before (p(i + 1) = p(i) * mu / (i + 1))."""
    if mu <= 0:
        return [0 for _ in ps]
    lo, hi = _poisson_window(mu)
    order = sorted(range(len(ps)), key=lambda j: ps[j])
    out = [hi] * len(ps)
    term = math.exp(lo * math.log(mu) - mu - math.lgamma(lo + 1))
    total, at = 0.0, 0
    for i in range(lo, hi + 1):
        total += term
        while at < len(order) and total >= ps[order[at]]:
            out[order[at]] = i
            at += 1
        if at == len(order):
            break
        term *= mu / (i + 1)
    return out


@dataclass(frozen=True)
class Funnel:
    """Funnel-plot limits (counts) around an expected count."""

    expected: float
    limits: dict[str, tuple[int, int]]

    def position(self, observed: int, level: str) -> str:
        """'below', 'within' or 'above' the limits at ``level``."""
        lower, upper = self.limits[level]
        if observed < lower:
            return "below"
        if observed > upper:
            return "above"
        return "within"


def funnel(expected: float) -> Funnel:
    """95% and 99.8% Poisson limits around ``expected``."""
    ps = [p for a in FUNNEL_LEVELS.values() for p in (a / 2, 1 - a / 2)]
    ks = poisson_quantiles(ps, expected)
    return Funnel(
        expected=expected,
        limits={name: (ks[2 * j], ks[2 * j + 1]) for j, name in enumerate(FUNNEL_LEVELS)},
    )


def quantile_ranks(n: int, q: float) -> tuple[int, int, float]:
    """The q-th quantile (0..1) of n ordered values, linear between closest ranks (type 7):
    the two ranks (from 0) it lies between, and how far along from the first."""
    pos = (n - 1) * q
    below = math.floor(pos)
    return below, min(below + 1, n - 1), pos - below


def interpolate(below: float, above: float, fraction: float) -> float:
    """The value ``fraction`` of the way from ``below`` to ``above``, to 4 places."""
    return round(below + (above - below) * fraction, 4)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th quantile (0..1), linear between closest ranks (type 7); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    below, above, fraction = quantile_ranks(len(ordered), q)
    return interpolate(ordered[below], ordered[above], fraction)


def median(values: Sequence[float]) -> float | None:
    """The median (type 7 at 0.5)."""
    return percentile(values, 0.5)


def top_share(per_pupil: Sequence[int], fraction: float = 0.1) -> tuple[int, int, int]:
    """(pupils in the top group, their incidents, all incidents) for the most-affected pupils."""
    return top_share_of(Counter(per_pupil), fraction)


def top_share_of(pupils_with: Mapping[int, int], fraction: float = 0.1) -> tuple[int, int, int]:
    """:func:`top_share` from how many pupils had each number of incidents."""
    pupils = sum(pupils_with.values())
    if not pupils:
        return 0, 0, 0
    k = math.ceil(pupils * fraction)
    left, top = k, 0
    for n in sorted(pupils_with, reverse=True):
        take = min(left, pupils_with[n])
        top, left = top + take * n, left - take
    return k, top, sum(n * c for n, c in pupils_with.items())


def share(part: int, whole: int) -> float | None:
    """part / whole as a fraction (4 decimals); None when whole is 0."""
    if whole <= 0:
        return None
    return round(part / whole, 4)
