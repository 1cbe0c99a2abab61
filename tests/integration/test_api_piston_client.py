"""A Piston v2 client library (PyPI `aiopyston` 1.2.1, imported as `pyston`; pinned in
tests/requirements.txt, `make deps-test` installs it) pointed at `coderunner serve`,
unchanged. What it relies on: GET {base}runtimes/ and POST {base}execute/ (with the
trailing slash), a JSON body with files [{name: "", content}], run_memory_limit and
compile_memory_limit -1 by default, and the answer's language, version, run and compile
stages. Two other clients on the registries (PyPI `pistonapi` posts a form, npm
`piston-client` posts text/plain) get Piston's own 415 from a current Piston as from us,
so they are not usable against either."""

import asyncio

import pytest

from api_helpers import Server

pyston = pytest.importorskip(
    "pyston", reason="aiopyston is not installed (make deps-test installs tests/requirements.txt)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("pyston") / "data", args=["--workers=2"]).start()
    yield s
    s.stop()


def run(server, use):
    """use(client) with a client of the server, then closed the library's way: its
    destructor schedules a close on the loop it was made on, so it goes while that loop
    still runs."""
    async def go():
        client = pyston.PystonClient(base_url=server.url + "/api/v2/")
        try:
            return await use(client)
        finally:
            await client.close_session()
            del client
            await asyncio.sleep(0)
    return asyncio.run(go())


def test_runtimes_and_languages(server):
    async def use(client):
        return await client.languages(), await client.get_runtimes("py")
    langs, pys = run(server, use)
    assert {"python", "c"} <= langs
    assert pys[0].language == "python" and "py3" in pys[0].aliases and pys[0].version.startswith("3.")


def test_execute_python_and_c(server):
    async def use(client):
        py = await client.execute("python", [pyston.File("print(input()[::-1])")], stdin="abc")
        c = await client.execute("c", [pyston.File('#include <stdio.h>\nint main(int n, char **v)'
                                                   ' { printf("%s\\n", v[1]); return 2; }', "x.c")],
                                 args=["arg"])
        return py, c
    py, c = run(server, use)
    assert str(py) == "cba\n" and py.success and py.compile_stage is None
    assert py.raw_json["language"] == "python"
    assert c.compile_stage is not None and c.compile_stage.code == 0
    assert c.run_stage.stdout == "arg\n" and c.run_stage.code == 2


def test_execution_error_is_piston_400(server):
    async def use(client):
        try:
            await client.execute("python", [pyston.File("print(1)")], version="1.0")
        except pyston.exceptions.ExecutionError as e:  # the library's error for a 400
            return str(e)
        return None
    assert run(server, use) == "python-1.0 runtime is unknown"
