"""GET /api/v2/connect in a cluster: the API node that holds the WebSocket and the worker that
runs the program meet only in Redis (src/live/live-redis.h). Piston's WebSocket suite, run
here against an API node (this module's `server` fixture): line by line, compiled stages, a
signal, wall time without input, the client leaving, the input and output limits. And what
only a cluster has: the session's submission is stored and judged once; a worker killed
mid-run ends its session with an error (and the submission, delivered again, is not run
without its session); an API node killed mid-session has its run killed; Redis keeps
nothing of a session that ended."""

import re
import signal
import time
from pathlib import Path

import pytest

from cluster_helpers import Cluster, box_pids, wait_until
from test_api_piston_connect import ECHO, init, stdin
# Piston's WebSocket suite, run here against an API node (this module's `server` fixture).
from test_api_piston_connect import (  # noqa: F401
    test_client_leaving_mid_run_ends_it,
    test_compile_error_ends_after_compile,
    test_compiled_stages_and_stderr,
    test_errors_after_init,
    test_input_limits,
    test_interactive_line_by_line,
    test_not_a_websocket,
    test_output_limit_holds,
    test_signal_kills_the_run,
    test_wall_time_holds_without_input,
)
from test_cluster import needs_backends
from ws_helpers import WebSocket

# How long a side's disappearance takes to be seen (LIVE_REDIS_TTL_MSEC, a tick) and acted on.
GONE_DEADLINE = 30


@pytest.fixture(scope="module")
def cluster():
    c = Cluster(needs_backends(), apis=2, workers=1).start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def server(cluster):
    return cluster.apis[0]


def cluster_boxes(cluster):
    return [p for w in cluster.workers if w.proc.poll() is None for p in box_pids(w)]


@pytest.fixture(autouse=True)
def no_leftover_box_processes(cluster):
    """Overrides conftest's check (on a shared machine other users' boxes would fail it):
    every test ends with no box left under this cluster's workers."""
    yield
    wait_until(lambda: not cluster_boxes(cluster), 10, f"no box left: {cluster_boxes(cluster)}")


def session_token(api, before):
    """The token of the session api logged after its first `before` characters of log."""
    found = re.findall(r"piston connect token=(\S+)", api.read_log()[before:])
    assert len(found) == 1, found
    return found[0]


def final_status(api, token, deadline=GONE_DEADLINE):
    return wait_until(lambda: (s := api.get(f"/submissions/{token}").json())["status"]["id"] >= 3 and s,
                      deadline, f"{token} finished")


def live_keys(cluster, token="*"):
    return cluster.redis.command("KEYS", f"*:live:{token}*")


def start_echo(api):
    """A session running ECHO on api, past its first answer; and its token."""
    before = len(api.read_log())
    ws = WebSocket(api.url)
    init(ws, "python", ECHO)
    assert ws.recv()["type"] == "runtime"
    assert ws.recv() == {"type": "stage", "stage": "run"}
    stdin(ws, "x\n")
    assert ws.recv()["data"] == "got x\n"
    return ws, session_token(api, before)


def test_no_longer_serve_only(cluster):
    """The 501 of API nodes without a channel is gone: an API node upgrades."""
    ws = WebSocket(cluster.apis[1].url)
    assert ws.status == 101
    ws.close()


def test_stored_and_judged_once(cluster):
    api = cluster.apis[0]
    ws, token = start_echo(api)
    stdin(ws, "bye\n")
    msgs, code = ws.messages_until_close()
    assert code == 4999 and msgs[-1]["type"] == "exit" and msgs[-1]["code"] == 0, msgs
    sub = final_status(cluster.apis[1], token)  # from the store, through another node
    assert sub["status"]["id"] == 3, sub  # (its output went to the client, as in serve)
    assert len(cluster.judged_lines(token)) == 1
    # The session's keys go with it.
    wait_until(lambda: live_keys(cluster, token) == [], 10, f"no live keys left: {live_keys(cluster, token)}")


def test_client_leaving_finishes_the_submission(cluster):
    api = cluster.apis[0]
    ws, token = start_echo(api)
    ws.close()
    assert final_status(api, token)["status"]["id"] >= 3
    wait_until(lambda: not cluster_boxes(cluster), 10, "the run's box gone")
    wait_until(lambda: live_keys(cluster, token) == [], 10, f"no live keys left: {live_keys(cluster, token)}")


def test_worker_killed_mid_run(cluster):
    api = cluster.apis[0]
    ws, token = start_echo(api)
    worker = cluster.workers[0]
    boxes = box_pids(worker)
    assert boxes
    worker.proc.send_signal(signal.SIGKILL)
    worker.proc.wait()
    worker.log.close()
    # The session sees its worker gone (its heartbeat in Redis ends) and says so.
    t0 = time.monotonic()
    msgs, code = ws.messages_until_close()
    assert code == 4002 and msgs == [
        {"type": "error", "message": "the run ended without a result (its worker stopped)"}], msgs
    assert time.monotonic() - t0 < GONE_DEADLINE
    wait_until(lambda: not [p for p in boxes if Path(f"/proc/{p}").exists()], GONE_DEADLINE,
               "the killed worker's box gone")
    # Delivered again to a worker, the submission is not run without its session.
    worker.start()
    cluster.wait_workers(1)
    sub = final_status(api, token, deadline=60)
    assert sub["status"]["id"] == 13 and "interactive session ended" in sub["message"], sub


def test_api_node_killed_mid_session(cluster):
    api = cluster.apis[1]
    ws, token = start_echo(api)
    api.proc.send_signal(signal.SIGKILL)
    api.proc.wait()
    api.log.close()
    ws.close()
    # Its worker sees the session gone (its key expires): the run is killed, the
    # submission finishes, and Redis forgets it.
    sub = final_status(cluster.apis[0], token)
    assert sub["status"]["id"] >= 3, sub
    wait_until(lambda: not cluster_boxes(cluster), 10, "the run's box gone")
    wait_until(lambda: live_keys(cluster) == [], GONE_DEADLINE, f"no live keys left: {live_keys(cluster)}")
    api.start()


def test_nothing_left_in_redis(cluster):
    """Of every session above, whatever its end, Redis keeps nothing once the sides' keys
    expired (those of sides that went away: LIVE_REDIS_TTL_MSEC)."""
    wait_until(lambda: live_keys(cluster) == [], GONE_DEADLINE, f"no live keys left: {live_keys(cluster)}")
