"""A limit of 0 in a submission never turns the limit off (Judge0 passes 0 to isolate as
"no limit"): it means the configured maximum (docs/API.md)."""

from api_helpers import PY_ID, Server

SPIN = "while True:\n    pass\n"
WRITE_1MIB = "open('big', 'wb').write(b'x' * (1024 * 1024))\nprint('wrote')\n"


def test_zero_limits_mean_the_maximum(tmp_path):
    server = Server(tmp_path / "data", args=["--workers=1", "--cpu-time-limit=1", "--max-cpu-time-limit=1",
                                             "--max-file-size=64", "--max-max-file-size=64"]).start()
    try:
        r = server.submit({"source_code": SPIN, "language_id": PY_ID, "cpu_time_limit": 0},
                          params={"wait": "true", "fields": "status,cpu_time_limit,time"})
        assert r.status_code == 201, r.text
        sub = r.json()
        assert sub["status"]["id"] == 5, sub  # Time Limit Exceeded, at the maximum
        assert float(sub["cpu_time_limit"]) == 1.0, sub
        assert float(sub["time"]) < 3, sub  # stopped by the CPU limit, not the 10 s wall clock
        r = server.submit({"source_code": WRITE_1MIB, "language_id": PY_ID, "max_file_size": 0},
                          params={"wait": "true", "fields": "status,max_file_size,stdout"})
        assert r.status_code == 201, r.text
        sub = r.json()
        assert sub["status"]["id"] != 3 and sub["stdout"] is None, sub  # no 1 MiB file past 64 KiB
        assert sub["max_file_size"] == 64, sub
        r = server.submit({"source_code": "print('ok')\n", "language_id": PY_ID, "stack_limit": 0},
                          params={"wait": "true", "fields": "status,stack_limit"})
        assert r.status_code == 201, r.text
        assert r.json()["status"]["id"] == 3 and r.json()["stack_limit"] > 0, r.json()
    finally:
        server.stop()
