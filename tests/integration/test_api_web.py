"""The web IDE's static export is served at / next to the API (--web-dir), beneath its
directory only: no symlink is followed, nothing outside it is reachable, and the API's
routes keep their answers."""

import os

import pytest

from api_helpers import Server


@pytest.fixture(scope="module")
def web_server(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("serve runs the sandbox: root only")
    base = tmp_path_factory.mktemp("web")
    web = base / "out"
    (web / "_next" / "static").mkdir(parents=True)
    (web / "index.html").write_text("<!DOCTYPE html><title>coderunner IDE</title>")
    (web / "404.html").write_text("not here")
    (web / "_next" / "static" / "app.js").write_text("console.log('ide')")
    (base / "secret.txt").write_text("outside the export")
    (web / "leak.txt").symlink_to(base / "secret.txt")
    (web / "leakdir").symlink_to(base)
    server = Server(base / "data", args=[f"--web-dir={web}"]).start()
    yield server
    server.stop()


def test_index_at_root(web_server):
    r = web_server.get("/")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html"), r.headers
    assert "coderunner IDE" in r.text


def test_assets_with_types(web_server):
    r = web_server.get("/_next/static/app.js")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/javascript"), r.headers
    assert r.text == "console.log('ide')"
    assert web_server.get("/404").text == "not here"  # Next's export names pages NAME.html


def test_nothing_outside_the_export(web_server):
    for path in ("/leak.txt", "/leakdir/secret.txt", "/../secret.txt", "/%2e%2e/secret.txt", "/nope.js"):
        r = web_server.get(path)
        assert r.status_code == 404 and "outside the export" not in r.text, (path, r.status_code, r.text)


def test_api_routes_still_answer(web_server):
    assert web_server.get("/languages").status_code == 200
    assert web_server.get("/about").json()["version"]
    r = web_server.get("/submissions/00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/json")
