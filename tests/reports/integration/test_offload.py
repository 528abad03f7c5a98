"""Charts drawn off the hub, several asked for at once, in a monkey-patched process."""
import eventlet

from services.reports.domain import InMemoryStore, overview
from services.reports.handlers import project
from services.reports.offload import in_thread
from services.reports.views import members_chart
from tests.reports.streams import at, seeded_stream


def test_concurrent_charts_in_os_threads_all_finish():
    model = InMemoryStore()
    for event in seeded_stream():
        project(event, model)
    picture = overview(model, at("2024-06-01T00:00:00"))
    jobs = [eventlet.spawn(in_thread, members_chart, picture.series, picture.progress, "en")
            for _ in range(4)]
    # Without the one-at-a-time gate this hangs: the timeout turns a hang into a failure.
    with eventlet.Timeout(60):
        charts = [job.wait() for job in jobs]
    assert all(chart.startswith(b"\x89PNG") for chart in charts)
