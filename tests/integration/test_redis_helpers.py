"""The redis-server helper the cluster tests stand on (redis_helpers.py): a restart keeps
the data with the append-only file and loses it without; a crash (SIGKILL) with the
append-only file keeps what was written a second before."""

import signal
import time

import pytest

from redis_helpers import Redis, RedisError, find_redis_server

pytestmark = pytest.mark.skipif(not find_redis_server(), reason="redis-server is not installed")


@pytest.fixture(autouse=True)
def no_leftover_box_processes():
    """These tests run no sandbox: conftest's check for box processes does not apply."""
    yield


def wait_aof_synced(redis, deadline=10):
    """Until the append-only file has been written and fsynced (everysec)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        info = redis.command("INFO", "persistence")
        fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
        if fields.get("aof_rewrite_in_progress") == "0" and fields.get("aof_pending_bio_fsync") == "0" \
                and int(fields.get("aof_delayed_fsync", "0")) == 0 and fields.get("aof_last_write_status") == "ok":
            return
        time.sleep(0.05)
    raise AssertionError("the append-only file was not synced in time")


def test_restart_with_aof_keeps_data():
    redis = Redis(aof=True).start()
    try:
        port = redis.port
        assert redis.command("XADD", "s", "*", "token", "t1").count("-") == 1
        assert redis.command("XLEN", "s") == 1
        redis.restart()
        assert redis.port == port
        assert redis.command("XLEN", "s") == 1
        with pytest.raises(RedisError, match="WRONGTYPE"):
            redis.command("INCR", "s")
    finally:
        redis.stop()
    assert not redis.dir.exists()


def test_crash_with_aof_keeps_synced_writes():
    redis = Redis(aof=True).start()
    try:
        redis.command("SET", "k", "v")
        wait_aof_synced(redis)
        redis.restart(signal.SIGKILL)
        assert redis.command("GET", "k") == "v"
    finally:
        redis.stop()


def test_restart_without_aof_loses_data():
    redis = Redis().start()
    try:
        redis.command("SET", "k", "v")
        redis.restart()
        assert redis.command("GET", "k") is None
    finally:
        redis.stop()
