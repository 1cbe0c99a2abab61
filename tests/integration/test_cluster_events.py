"""Streaming in a cluster. GET /submissions/:token/events: the worker publishes progress through Redis,
an API node other than the one that took the submission streams it; a client that leaves
mid-stream leaves nothing behind on its node. (GET /api/v2/connect in a cluster:
test_connect_cluster.py.)"""

import pytest

from cluster_helpers import Cluster
from test_api_events import disconnect_leaves_nothing, events_in_order
from test_cluster import needs_backends


@pytest.fixture(scope="module")
def cluster():
    c = Cluster(needs_backends(), apis=2, workers=1, api_args=["--event-heartbeat=0.2"]).start()
    yield c
    c.stop()


def test_events_through_another_api_node(cluster):
    events_in_order(cluster.apis[0], cluster.apis[1])


def test_disconnect_on_an_api_node(cluster):
    disconnect_leaves_nothing(cluster.apis[0], cluster.apis[1])

