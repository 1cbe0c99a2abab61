"""The cluster: `coderunner api` nodes and `coderunner worker` nodes on a real PostgreSQL and
a real Redis (append-only file on), each a process of its own (cluster_helpers.py). The Judge0
API suite against an API node; results written by a worker, published through Redis and
waited on by another process; the languages and workers an API node shows come from the
workers' registry; any node killed at any time: nothing lost, nothing judged twice."""

import signal
import time

import pytest

from api_helpers import C_HELLO, C_ID, PY_ID
from cluster_helpers import NOBODY, Cluster, box_pids, process_children, process_uid, wait_until
from conftest import host_processes
from pg_helpers import find_bindir
from redis_helpers import find_redis_server
# The Judge0 API suite, run here against an API node (this module's `server` fixture).
from test_api_submissions import (  # noqa: F401
    test_base64_round_trip,
    test_batch,
    test_c_wait_true,
    test_concurrent_clients,
    test_fields_star_and_bad_field,
    test_json_suffix_and_cors,
    test_list_pagination,
    test_many_tests_extension,
    test_oversized_body,
    test_python_polling,
    test_unknown_token_and_route,
    test_validation_errors,
    test_wrong_answer_and_compile_error,
)

SLOW = "import time\ntime.sleep({s})\nprint('done')\n"


def needs_backends():
    bindir = find_bindir()
    if not bindir or not find_redis_server():
        pytest.skip("PostgreSQL or redis-server is not installed")
    return bindir


@pytest.fixture(scope="module")
def cluster():
    c = Cluster(needs_backends(), apis=2, workers=2, worker_args=["--workers=2"]).start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def server(cluster):
    return cluster.apis[0]


def test_result_through_another_api_node(cluster):
    a, b = cluster.apis
    r = a.submit({"source_code": C_HELLO, "language_id": C_ID}, {"wait": "true"})
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["status"]["id"] == 3 and sub["stdout"] == "hello, world\n"
    assert b.get(f"/submissions/{sub['token']}").json()["stdout"] == "hello, world\n"
    # Created on b, waited on b: the worker's notification reaches b through Redis.
    r = b.submit({"source_code": SLOW.format(s=0.3), "language_id": PY_ID}, {"wait": "true"})
    assert r.json()["status"]["id"] == 3 and r.json()["stdout"] == "done\n"
    assert len(cluster.judged_lines(r.json()["token"])) == 1


def test_languages_and_workers_come_from_the_registry(cluster):
    api = cluster.apis[1]
    langs = api.get("/languages").json()
    assert any(l["id"] == C_ID and l["name"].startswith("C (GCC") for l in langs)
    w = api.get("/workers").json()
    assert w[0]["available"] == 4  # two workers of two slots
    h = api.get("/health").json()
    assert h["status"] == "ok" and h["store"] == "postgres" and h["queue"] == "redis"
    assert h["worker_pools"] == 2
    m = api.get("/metrics").text
    assert "coderunner_worker_pools 2" in m and "coderunner_queue_dead_letters" in m


def test_piston_execute_through_an_api_node(cluster):
    """Piston's routes on an API node: the runtimes are what the workers advertise, and an
    execute is queued, judged by a worker and answered through Redis like wait=true."""
    api = cluster.apis[1]
    rts = api.get("/api/v2/runtimes").json()
    c = next(rt for rt in rts if rt["language"] == "c" and rt.get("runtime") == "gcc")
    name = next(l["name"] for l in api.get("/languages").json() if l["id"] == C_ID)
    assert name.endswith(c["version"] + ")"), (name, c)
    r = api.post("/api/v2/execute", json={"language": "c", "version": c["version"], "stdin": "5", "files": [
        {"name": "main.c", "content": '#include <stdio.h>\n#include "sq.h"\n'
                                      'int main(void) { int x; scanf("%d", &x); printf("%d\\n", sq(x)); }'},
        {"name": "sq.h", "content": "static int sq(int x) { return x * x; }\n"}]})
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["compile"]["code"] == 0 and res["run"]["stdout"] == "25\n" and res["run"]["status"] is None


def test_api_node_is_unprivileged_and_runs_no_code(cluster):
    for api in cluster.apis:
        assert process_uid(api.proc.pid) == NOBODY
    for w in cluster.workers:  # only their sandbox supervisors keep root
        assert process_uid(w.proc.pid) == NOBODY
        assert all(process_uid(k) == 0 for k in process_children(w.proc.pid))
    tokens = [cluster.apis[0].submit({"source_code": SLOW.format(s=1), "language_id": PY_ID}).json()["token"]
              for _ in range(3)]
    seen_busy = False
    end = time.monotonic() + 30
    while time.monotonic() < end and not seen_busy:
        seen_busy = any(cluster.apis[0].get(f"/submissions/{t}").json()["status"]["id"] == 2 for t in tokens)
        for api in cluster.apis:
            assert process_children(api.proc.pid) == [], "an API node has a child process"
    assert seen_busy
    for t in tokens:
        assert cluster.apis[0].wait_final(t)["stdout"] == "done\n"


def test_api_refuses_root_without_user(tmp_path):
    import subprocess
    from conftest import CODERUNNER
    p = subprocess.run([str(CODERUNNER), "api", "--store=postgres://x@127.0.0.1:1/x", "--queue=redis://127.0.0.1:1"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "--user" in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_kill9_a_worker_mid_run(cluster):
    api = cluster.apis[0]
    tokens = [api.submit({"source_code": SLOW.format(s=1.5), "language_id": PY_ID}).json()["token"]
              for _ in range(6)]
    # Wait until worker-1 judges one of them, then kill it.
    victim = cluster.workers[0]
    wait_until(lambda: any(api.get(f"/submissions/{t}").json()["status"]["id"] == 2 for t in tokens), 30,
               "a submission in Processing")
    victim.kill9()
    for t in tokens:
        sub = api.wait_final(t, deadline=90)
        assert sub["status"]["id"] == 3 and sub["stdout"] == "done\n", sub
        assert len(cluster.judged_lines(t)) == 1, cluster.judged_lines(t)
    victim.start()
    cluster.wait_workers(2)


def test_kill9_an_api_node(cluster):
    a, b = cluster.apis
    token = a.submit({"source_code": SLOW.format(s=0.5), "language_id": PY_ID}).json()["token"]
    a.kill9()
    sub = b.wait_final(token)
    assert sub["stdout"] == "done\n"
    r = b.submit({"source_code": C_HELLO, "language_id": C_ID}, {"wait": "true"})
    assert r.json()["status"]["id"] == 3
    a.start()


def test_redis_restart_loses_nothing(cluster):
    api = cluster.apis[0]
    tokens = [api.submit({"source_code": SLOW.format(s=0.5), "language_id": PY_ID}).json()["token"]
              for _ in range(8)]
    cluster.redis.restart()  # SIGTERM: the append-only file is written
    for t in tokens:
        assert api.wait_final(t, deadline=90)["stdout"] == "done\n"
    r = api.submit({"source_code": C_HELLO, "language_id": C_ID}, {"wait": "true"})
    assert r.json()["status"]["id"] == 3


def test_postgres_outage_503_then_recovery(cluster):
    api = cluster.apis[1]
    before = api.submit({"source_code": SLOW.format(s=0.2), "language_id": PY_ID}).json()["token"]
    api.wait_final(before)
    cluster.pg.pause()
    try:
        r = api.submit({"source_code": C_HELLO, "language_id": C_ID})
        assert r.status_code in (500, 503), r.text
        assert "error" in r.json()
        h = api.get("/health")
        assert h.status_code == 503 and h.json()["store_ok"] is False
    finally:
        cluster.pg.resume()
    wait_until(lambda: api.get("/health").status_code == 200, 60, "health back")
    r = api.submit({"source_code": C_HELLO, "language_id": C_ID}, {"wait": "true"})
    assert r.status_code == 201 and r.json()["status"]["id"] == 3
    assert api.get(f"/submissions/{before}").json()["stdout"] == "done\n"


def test_a_long_store_outage_neither_loses_nor_dead_letters(cluster):
    """Workers that take jobs from Redis while PostgreSQL is down for longer than several
    leases (2 s each here, 3 deliveries at most) hold them and retry: when the store comes
    back the jobs are judged normally, once, not ended as 13 for deliveries they never had."""
    api = cluster.apis[0]
    workers = [w for w in cluster.workers if w.proc.poll() is None]
    for w in workers:  # frozen: the jobs below wait in Redis, unclaimed
        w.proc.send_signal(signal.SIGSTOP)
    try:
        tokens = [api.submit({"source_code": SLOW.format(s=0.1), "language_id": PY_ID}).json()["token"]
                  for _ in range(2)]
        cluster.pg.pause()
    finally:
        for w in workers:
            w.proc.send_signal(signal.SIGCONT)
    try:
        # The outage is what is tested: the workers claim both jobs from Redis now and
        # cannot claim them in the store for four leases.
        time.sleep(8)
    finally:
        cluster.pg.resume()
    for t in tokens:
        sub = api.wait_final(t, deadline=90)
        assert sub["status"]["id"] == 3 and sub["stdout"] == "done\n", sub
        assert len(cluster.judged_lines(t)) == 1
    cluster.wait_workers(len(workers))


def test_sigterm_drains_a_worker(cluster):
    api = cluster.apis[0]
    w = cluster.workers[1]
    tokens = [api.submit({"source_code": SLOW.format(s=1), "language_id": PY_ID}).json()["token"]
              for _ in range(4)]
    wait_until(lambda: any(api.get(f"/submissions/{t}").json()["status"]["id"] == 2 for t in tokens), 30,
               "a submission in Processing")
    w.stop(signal.SIGTERM)  # asserts a clean exit
    for t in tokens:
        assert api.wait_final(t, deadline=90)["stdout"] == "done\n"
        assert len(cluster.judged_lines(t)) == 1
    w.start()
    cluster.wait_workers(2)


def test_a_job_that_kills_its_worker_ends_as_internal_error(cluster):
    """Each time a worker takes the job, the worker dies (kill -9 while it runs it): after
    max_deliveries (3) the job is dead-lettered and the submission ends as 13."""
    api = cluster.apis[0]
    r = api.submit({"source_code": SLOW.format(s=15), "language_id": PY_ID, "wall_time_limit": 20})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    kills = 0
    end = time.monotonic() + 180
    while time.monotonic() < end:
        sub = api.get(f"/submissions/{token}", params={"fields": "status,message"}).json()
        if sub["status"]["id"] not in (1, 2):
            break
        running = [w for w in cluster.workers if w.proc.poll() is None and box_pids(w)]
        for w in running:
            w.kill9()
            kills += 1
            w.start()
        time.sleep(0.1)
    assert sub["status"]["id"] == 13, sub
    assert "dead-lettered" in sub["message"] and "delivered 4 times" in sub["message"], sub
    assert 3 <= kills <= 4, kills
    h = api.get("/metrics").text
    assert "coderunner_queue_dead_letters 1" in h
    cluster.wait_workers(2)
    # The last killed worker's box is killed by its slot once the supervisor sees the
    # worker gone: give a loaded machine (a sanitizer build) time for that.
    wait_until(lambda: not host_processes(), 30, "the killed workers' boxes gone")

