"""Sizes and repetitions of the full and the quick run. Every code path runs in both; only sizes
and the number of repetitions differ."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Plan:
    name: str
    runs: int  # repetitions of each measured figure (median reported)
    compare_entries: int  # time entries of the workspace in the 10 rps / 200 ms comparison
    raw_entries: int  # time entries for the limits-off comparison of the three sources
    scale_sizes: tuple  # time entries for the scaling series; the largest also feeds the destinations
    rate_entries_per_user: int  # time entries of each of the 10 members in the rate-control run
    rate_page_size: int  # small pages so the rate-control run sends many requests
    chaos_429: float  # probability that a burst of 429s starts (rate-control run)
    chaos_429_len: int
    limited_scale: bool  # also scale under 10 rps / 200 ms
    pyiceberg_batch_rows: int
    incremental_sizes: tuple = ()  # time entries of the full + incremental dedup series (issue 10)
    history_years: tuple = ()  # years of history at a constant weekly rate (issue 10)
    history_per_week: int = 0
    # (label, records, bytes of padding, destination mode[, padded values per record]): issue 14 item 6
    adversarial: tuple = ()


FULL = Plan(
    name="full",
    runs=3,
    compare_entries=10_000,
    raw_entries=50_000,
    scale_sizes=(10_000, 100_000, 1_000_000),
    rate_entries_per_user=5_000,
    rate_page_size=100,
    chaos_429=0.004,
    chaos_429_len=3,
    limited_scale=True,
    pyiceberg_batch_rows=100_000,
    incremental_sizes=(200_000, 1_000_000, 5_000_000),
    history_years=(1, 2, 4),
    history_per_week=6_400,
    adversarial=(("dedup-1M", 1_000_000, 20, "append_dedup"), ("wide-200k-20KB", 200_000, 20_000, "append"),
                 ("one-100MB-line", 1, 100_000_000, "append"), ("six-16MB-values", 1, 16_000_000, "append", 6)),
)

QUICK = Plan(
    name="quick",
    runs=1,
    compare_entries=1_000,
    raw_entries=5_000,
    scale_sizes=(1_000, 5_000, 20_000),
    rate_entries_per_user=600,
    rate_page_size=50,
    chaos_429=0.015,
    chaos_429_len=3,
    limited_scale=True,
    pyiceberg_batch_rows=100_000,
    incremental_sizes=(20_000,),
    history_years=(1, 2),
    history_per_week=300,
    adversarial=(("dedup-100k", 100_000, 20, "append_dedup"), ("wide-10k-20KB", 10_000, 20_000, "append"),
                 ("one-10MB-line", 1, 10_000_000, "append"), ("six-3MB-values", 1, 3_000_000, "append", 6)),
)

# The simulator settings of the rate-limited comparison (issue 7): Clockify's documented 10 requests
# per second per key and a realistic latency.
LIMIT_RPS = 10
LATENCY = "200ms"
