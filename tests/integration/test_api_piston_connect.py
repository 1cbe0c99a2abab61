"""GET /api/v2/connect, Piston's WebSocket protocol (engineer-man/piston, api/src/api/v2.js),
on `coderunner serve`: an interactive program driven line by line (it reads stdin as it
arrives), the compile and run stages, a signal that ends the run, the limits that still hold
(wall time with no input), Piston's close codes for protocol errors, and the WebSocket's own
errors (an unmasked frame, a binary message)."""

import time

import pytest

from api_helpers import Server
from ws_helpers import WebSocket

# Answers each line as it comes: the test waits for each answer before it sends the next.
ECHO = ("import sys\n"
        "for line in sys.stdin:\n"
        "    line = line.strip()\n"
        "    print('got ' + line, flush=True)\n"
        "    if line == 'bye':\n"
        "        break\n")
C_ASK = ('#include <stdio.h>\n'
         'int main(void) { int a, b; printf("a?\\n"); fflush(stdout);\n'
         '  if (scanf("%d", &a) != 1) return 1; printf("b?\\n"); fflush(stdout);\n'
         '  if (scanf("%d", &b) != 1) return 1; fprintf(stderr, "sum\\n"); printf("%d\\n", a + b); return 3; }\n')
WAIT_FOREVER = "import sys\nsys.stdin.readline()\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("connect") / "data", args=["--workers=2"]).start()
    yield s
    s.stop()


def init(ws, language, content, **kw):
    ws.send({"type": "init", "language": language, "version": "*", "files": [{"content": content}], **kw})


def stdin(ws, data):
    ws.send({"type": "data", "stream": "stdin", "data": data})


def test_interactive_line_by_line(server):
    ws = WebSocket(server.url)
    assert ws.status == 101
    init(ws, "python", ECHO)
    rt = ws.recv()
    assert rt["type"] == "runtime" and rt["language"] == "python" and rt["version"].startswith("3.")
    assert ws.recv() == {"type": "stage", "stage": "run"}
    for word in ["one", "two", "three"]:
        stdin(ws, word + "\n")
        # The answer to this line comes before the next line is sent: the program reads
        # its stdin as it arrives.
        assert ws.recv() == {"type": "data", "stream": "stdout", "data": f"got {word}\n"}
    stdin(ws, "bye\n")
    msgs, code = ws.messages_until_close()
    assert msgs == [{"type": "data", "stream": "stdout", "data": "got bye\n"},
                    {"type": "exit", "stage": "run", "code": 0, "signal": None, "status": None, "message": None}]
    assert code == 4999


def test_end_of_input(server):
    """Our extension: {"type":"data","stream":"stdin","eof":true} ends the program's input
    (after what came before it), so a program reading to the end finishes. Without it the
    program would wait until its wall time (status TO)."""
    ws = WebSocket(server.url)
    init(ws, "python", "import sys\ndata = sys.stdin.read()\nprint(len(data), data.split())\n")
    assert ws.recv()["type"] == "runtime"
    assert ws.recv() == {"type": "stage", "stage": "run"}
    stdin(ws, "one\n")
    ws.send({"type": "data", "stream": "stdin", "data": "two\n", "eof": True})
    msgs, code = ws.messages_until_close()
    assert msgs == [{"type": "data", "stream": "stdout", "data": "8 ['one', 'two']\n"},
                    {"type": "exit", "stage": "run", "code": 0, "signal": None, "status": None, "message": None}]
    assert code == 4999


def test_compiled_stages_and_stderr(server):
    ws = WebSocket(server.url)
    init(ws, "c", C_ASK)
    assert ws.recv()["type"] == "runtime"
    assert ws.recv() == {"type": "stage", "stage": "compile"}
    ex = ws.recv()
    assert ex["type"] == "exit" and ex["stage"] == "compile" and ex["code"] == 0, ex
    assert ws.recv() == {"type": "stage", "stage": "run"}
    assert ws.recv() == {"type": "data", "stream": "stdout", "data": "a?\n"}
    stdin(ws, "40\n")
    assert ws.recv() == {"type": "data", "stream": "stdout", "data": "b?\n"}
    stdin(ws, "2\n")
    msgs, code = ws.messages_until_close()
    data = {m["stream"]: m["data"] for m in msgs if m["type"] == "data"}
    assert data == {"stdout": "42\n", "stderr": "sum\n"}
    assert msgs[-1] == {"type": "exit", "stage": "run", "code": 3, "signal": None, "status": "RE",
                        "message": msgs[-1]["message"]}
    assert code == 4999


def test_compile_error_ends_after_compile(server):
    ws = WebSocket(server.url)
    init(ws, "c", "int main(void) { return x; }\n")
    msgs, code = ws.messages_until_close()
    assert [m["type"] for m in msgs][:2] == ["runtime", "stage"]
    assert any(m["type"] == "data" and m["stream"] == "stderr" and "error" in m["data"] for m in msgs)
    assert msgs[-1]["type"] == "exit" and msgs[-1]["stage"] == "compile" and msgs[-1]["code"] != 0
    assert not any(m.get("stage") == "run" for m in msgs)
    assert code == 4999


def test_signal_kills_the_run(server):
    ws = WebSocket(server.url)
    init(ws, "python", ECHO)
    assert ws.recv()["type"] == "runtime"
    assert ws.recv() == {"type": "stage", "stage": "run"}
    stdin(ws, "ping\n")
    assert ws.recv()["data"] == "got ping\n"  # it runs, waiting for more input
    ws.send({"type": "signal", "signal": "SIGTERM"})
    msgs, code = ws.messages_until_close()
    assert msgs[-1]["type"] == "exit" and msgs[-1]["stage"] == "run"
    assert msgs[-1]["signal"] == "SIGKILL" and msgs[-1]["status"] == "SG" and msgs[-1]["code"] is None
    assert "killed on request (signal 15)" in msgs[-1]["message"]
    assert code == 4999


def test_wall_time_holds_without_input(server):
    ws = WebSocket(server.url)
    init(ws, "python", WAIT_FOREVER, run_timeout=1000)
    msgs, code = ws.messages_until_close()
    assert msgs[-1]["type"] == "exit" and msgs[-1]["status"] == "TO" and msgs[-1]["signal"] == "SIGKILL", msgs
    assert code == 4999


@pytest.mark.parametrize("first,code", [
    ({"type": "data", "stream": "stdin", "data": "x"}, 4003),
    ({"type": "signal", "signal": "SIGKILL"}, 4003),
])
def test_not_yet_initialized(server, first, code):
    ws = WebSocket(server.url)
    ws.send(first)
    assert ws.messages_until_close() == ([], code)


def test_init_timeout(server):
    ws = WebSocket(server.url)
    assert ws.messages_until_close() == ([], 4001)


def test_errors_after_init(server):
    for second, code in [
        ({"type": "init", "language": "python", "version": "*", "files": [{"content": ECHO}]}, 4000),
        ({"type": "data", "stream": "stdout", "data": "x"}, 4004),
        ({"type": "signal", "signal": "SIGNOPE"}, 4005),
        ({"type": "signal", "signal": 9}, 4005),
    ]:
        ws = WebSocket(server.url)
        init(ws, "python", ECHO)
        assert ws.recv()["type"] == "runtime"
        ws.send(second)
        msgs, got = ws.messages_until_close()
        assert got == code, (second, msgs)


def test_notified_errors(server):
    ws = WebSocket(server.url)
    ws.send_frame(0x1, b"{not json")
    msgs, code = ws.messages_until_close()
    assert code == 4002 and msgs[0]["type"] == "error" and msgs[0]["message"].startswith("malformed JSON")
    ws = WebSocket(server.url)
    init(ws, "nosuchlanguage", "x")
    assert ws.messages_until_close() == ([{"type": "error", "message": "nosuchlanguage-* runtime is unknown"}], 4002)


def test_websocket_protocol_errors(server):
    ws = WebSocket(server.url)
    ws.send_frame(0x1, b'{"type":"init"}', mask=False)  # a client's frames must be masked
    assert ws.messages_until_close() == ([], 1002)
    ws = WebSocket(server.url)
    ws.send_frame(0x2, b"\x00\x01")  # binary
    assert ws.messages_until_close() == ([], 1003)
    ws = WebSocket(server.url)
    ws.send_frame(0x1, b'{"type":', fin=False)  # fragmented
    assert ws.messages_until_close() == ([], 1003)
    ws = WebSocket(server.url)
    ws.send_frame(0x9, b"x" * 126)  # a control frame longer than 125 bytes
    assert ws.messages_until_close() == ([], 1002)
    # A ping is answered with a pong carrying its payload.
    ws = WebSocket(server.url)
    ws.send_frame(0x9, b"hi")
    assert ws.recv_frame() == (0xA, b"hi")
    ws.close()


def test_not_a_websocket(server):
    r = server.get("/api/v2/connect")
    assert r.status_code == 400 and "WebSocket handshake" in r.json()["message"]


def test_client_leaving_mid_run_ends_it(server):
    ws = WebSocket(server.url)
    init(ws, "python", ECHO)
    assert ws.recv()["type"] == "runtime"
    assert ws.recv() == {"type": "stage", "stage": "run"}
    stdin(ws, "x\n")
    assert ws.recv()["data"] == "got x\n"
    ws.close()  # the program still waits for input: the session ends it
    # (the autouse fixture then checks that no box process is left on the host)


def test_queue_full_is_notified(tmp_path):
    s = Server(tmp_path / "data", args=["--workers=1", "--max-queue-size=1"]).start()
    try:
        slow = {"source_code": "import time\ntime.sleep(3)\n", "language_id": 71}
        first = s.submit(slow).json()["token"]
        end = time.monotonic() + 30  # the worker takes the first; the second then fills the queue
        while s.get(f"/submissions/{first}").json()["status"]["id"] == 1:
            assert time.monotonic() < end
            time.sleep(0.02)
        assert s.submit(slow).status_code == 201
        ws = WebSocket(s.url)
        init(ws, "python", ECHO)
        assert ws.messages_until_close() == ([{"type": "error", "message": "queue is full"}], 4002)
        assert s.metric("coderunner_queue_length") == 1  # the refused one was not queued
    finally:
        s.stop()


def test_input_limits(server):
    # More input than the channel holds while the program does not read: the client is
    # told, never silently truncated.
    ws = WebSocket(server.url)
    init(ws, "python", "import time, sys\ntime.sleep(30)\nsys.stdin.read()\n")
    assert ws.recv()["type"] == "runtime"
    assert ws.recv() == {"type": "stage", "stage": "run"}
    stdin(ws, "x" * (3 * 1024 * 1024))
    msgs, code = ws.messages_until_close()
    assert code == 4002 and msgs == [
        {"type": "error", "message": "stdin: the program has not read what was sent before"}], msgs
    # A message over 4 MiB: 1009, before any of it is read as JSON.
    ws = WebSocket(server.url)
    ws.send_frame(0x1, b" " * (4 * 1024 * 1024 + 1))
    assert ws.messages_until_close() == ([], 1009)


def test_output_limit_holds(server):
    ws = WebSocket(server.url)
    init(ws, "python", "import sys\nwhile True:\n    sys.stdout.write('y' * 4096)\n")
    msgs, code = ws.messages_until_close()
    sent = sum(len(m["data"]) for m in msgs if m["type"] == "data")
    assert msgs[-1]["type"] == "exit" and msgs[-1]["status"] == "OL", msgs[-1]
    assert code == 4999
    # What went out is bounded by the run's output cap (max_file_size: 1024 KiB by default).
    assert 0 < sent <= 1024 * 1024, sent
