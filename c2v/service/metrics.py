"""``/metrics`` in Prometheus text format, read from the store at scrape time.

The figures come from the store rather than from counters in one replica's memory, so
every HTTP replica answers the same numbers, and a restart loses none of them.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from c2v.store.db import Database
from c2v.store.schema import VideoStatus
from c2v.store.videos import counts_by_status, totals


class StoreCollector(Collector):
    def __init__(self, db: Database) -> None:
        self._db = db

    def collect(self) -> Iterator[Metric]:
        counts = counts_by_status(self._db)
        videos = GaugeMetricFamily("c2v_videos", "Videos in the store by status", labels=["status"])
        for status in VideoStatus:
            videos.add_metric([status.value], counts[status])
        yield videos
        yield GaugeMetricFamily(
            "c2v_queue_depth", "Videos queued, waiting for a render slot", value=counts[VideoStatus.queued]
        )
        sums = totals(self._db)
        yield CounterMetricFamily(
            "c2v_render_seconds", "Seconds spent rendering sections, all videos", value=sums["render_s"]
        )
        yield CounterMetricFamily("c2v_llm_tokens", "LLM tokens of finished videos", value=sums["tokens"])
        yield CounterMetricFamily("c2v_llm_calls", "LLM calls paid for, all videos", value=sums["llm_calls"])
        yield CounterMetricFamily("c2v_renders", "Section renders done, all videos", value=sums["renders"])


def metrics_text(db: Database) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(db))
    return generate_latest(registry)
