"""Each statistic against a fixture computed by hand (working shown in comments)."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import date

import pytest

from services.reporting import periods
from services.reporting import statistics as st


def test_rate_per_100() -> None:
    assert st.rate_per_100(3, 120) == 2.5
    assert st.rate_per_100(3, 0) is None


def test_risk_ratio_katz() -> None:
    # 20 of 100 in the group against 10 of 200 others: RR = 0.20 / 0.05 = 4.
    # SE(log RR) = sqrt(1/20 - 1/100 + 1/10 - 1/200) = sqrt(0.135) = 0.367423
    # 4 * exp(-+1.959964 * 0.367423) = 4 * 0.486684, 4 * 2.054721 = 1.9467, 8.2189
    rr = st.risk_ratio(20, 100, 10, 200)
    assert rr is not None
    assert rr.ratio == 4.0
    assert rr.lower == pytest.approx(1.9467, abs=1e-4)
    assert rr.upper == pytest.approx(8.2189, abs=1e-4)
    assert rr.significant and not rr.corrected


def test_risk_ratio_adds_half_to_every_cell_when_one_is_zero() -> None:
    # 0 of 10 against 5 of 50: cells 0.5, 10.5, 5.5, 45.5 -> RR = (0.5/11) / (5.5/51)
    rr = st.risk_ratio(0, 10, 5, 50)
    assert rr is not None and rr.corrected
    expected = (0.5 / 11) / (5.5 / 51)
    assert rr.ratio == pytest.approx(expected, abs=1e-4)  # 0.4215
    se = math.sqrt(1 / 0.5 - 1 / 11 + 1 / 5.5 - 1 / 51)  # 1.439201
    assert rr.lower == pytest.approx(expected * math.exp(-1.959964 * se), abs=1e-4)
    assert rr.upper == pytest.approx(expected * math.exp(1.959964 * se), abs=1e-4)
    assert not rr.significant
    assert st.risk_ratio(1, 0, 1, 10) is None


def test_funnel_limits_are_exact_poisson_quantiles() -> None:
    # Poisson(10): P(X<=3)=0.0103 P(X<=4)=0.0293 | P(X<=16)=0.9730 P(X<=17)=0.9857
    #              P(X<=1)=0.0005 P(X<=2)=0.0028 | P(X<=20)=0.9984 P(X<=21)=0.9993
    f = st.funnel(10.0)
    assert f.limits["95"] == (4, 17)
    assert f.limits["99.8"] == (2, 21)
    assert f.position(1, "99.8") == "below"
    assert f.position(2, "99.8") == "within"
    assert f.position(22, "99.8") == "above"
    assert st.poisson_cdf(4, 10.0) == pytest.approx(0.029253, abs=1e-6)
    big = st.funnel(10_000.0)  # normal approximation: 10000 +- 1.96 * 100
    assert abs(big.limits["95"][0] - 9804) <= 1 and abs(big.limits["95"][1] - 10196) <= 1


def test_percentiles_linear_between_ranks() -> None:
    minutes = [40.0, 10.0, 30.0, 20.0]
    assert st.median(minutes) == 25.0  # between 20 and 30
    assert st.percentile(minutes, 0.9) == 37.0  # position 2.7: 30 + 0.7 * 10
    assert st.percentile([], 0.5) is None
    assert st.median([7.0]) == 7.0


def test_share_of_the_most_affected_tenth() -> None:
    # 11 pupils -> ceil(1.1) = 2 pupils in the top tenth: 10 + 1 of 20 incidents.
    assert st.top_share([10] + [1] * 10) == (2, 11, 20)
    assert st.top_share([]) == (0, 0, 0)
    # From counts of pupils per number of incidents (ties cut at the boundary): 21 pupils,
    # top 3 = one with 9 and two of the five with 4.
    assert st.top_share_of({9: 1, 4: 5, 1: 15}) == (3, 17, 44)
    rng = random.Random(3)
    for _ in range(50):
        per_pupil = [rng.choice([1, 1, 1, 2, 3, 8]) for _ in range(rng.randrange(1, 40))]
        ordered = sorted(per_pupil, reverse=True)
        k = math.ceil(len(per_pupil) / 10)
        assert st.top_share_of(Counter(per_pupil)) == (k, sum(ordered[:k]), sum(ordered))
    assert st.share(11, 20) == 0.55


def test_academic_years_terms_and_intervals() -> None:
    assert periods.academic_year_of(date(2026, 8, 31)) == 2025
    assert periods.academic_year_of(date(2026, 9, 1)) == 2026
    assert periods.parse_academic_year("2026/27") == 2026
    with pytest.raises(ValueError):
        periods.parse_academic_year("2026/28")
    spring = periods.resolve(date(2026, 11, 27), 2025, "spring", None, None)
    assert (spring.from_date, spring.to_date) == (date(2026, 1, 1), date(2026, 3, 31))
    assert spring.previous().label == "autumn 2025/26"
    custom = [
        {
            "academic_year": 2025,
            "term": "spring",
            "start_date": "2026-01-05",
            "end_date": "2026-03-27",
        }
    ]
    assert periods.term_bounds(2025, "spring", custom) == (date(2026, 1, 5), date(2026, 3, 27))
    year = periods.resolve(date(2026, 11, 27), None, None, None, None)
    assert (year.label, year.previous().label) == ("2026/27", "2025/26")
    months = periods.buckets(year, "month")
    assert len(months) == 12 and months[0] == ("2026-09", date(2026, 9, 1), date(2026, 9, 30))
    terms = periods.buckets(year, "term")
    assert [t[0] for t in terms] == ["autumn 2026/27", "spring 2026/27", "summer 2026/27"]
    weeks = periods.buckets(periods.range_period(date(2026, 9, 2), date(2026, 9, 14)), "week")
    assert weeks[0] == ("2026-W36", date(2026, 9, 2), date(2026, 9, 6))
    assert len(weeks) == 3


def test_poisson_quantiles_in_one_pass_equal_summing_each_probability() -> None:
    def reference(p: float, mu: float) -> int:
        total, k = 0.0, 0
        while True:
            total += math.exp(k * math.log(mu) - mu - math.lgamma(k + 1))
            if total >= p:
                return k
            k += 1

    ps = [0.001, 0.025, 0.5, 0.975, 0.999]
    for mu in (0.3, 1.0, 2.5, 10.0, 33.3, 512.7, 2500.0, 9999.5):
        assert st.poisson_quantiles(ps, mu) == [reference(p, mu) for p in ps], mu
        # Any order of probabilities; each answered as if asked alone.
        assert st.poisson_quantiles(ps[::-1], mu) == [reference(p, mu) for p in ps[::-1]]
