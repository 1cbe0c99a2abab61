"""The web IDE's static export is served at / next to the API (--web-dir), beneath its
directory only: no symlink is followed, nothing outside it is reachable, and the API's
routes keep their answers. A file's precompressed sibling (NAME.gz, written by the web
build) is sent, as Content-Encoding: gzip, to clients that accept it; Next's hashed assets
are cached for good, everything else is checked again (no-cache)."""

import gzip
import http.client
import os

import pytest

from api_helpers import Server


BIG_JS = "".join(f"export const v{i} = {i};\n" for i in range(2000))
INDEX = "<!DOCTYPE html><title>coderunner IDE</title>" + "<p>IDE</p>" * 200


def raw_get(server, path, headers):
    """GET without any Accept-Encoding of the client library's own: (status, headers, raw bytes)."""
    host, port = server.url.split("//")[1].split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        c.putrequest("GET", path, skip_accept_encoding=True)
        for k, v in headers.items():
            c.putheader(k, v)
        c.endheaders()
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


@pytest.fixture(scope="module")
def web_server(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("serve runs the sandbox: root only")
    base = tmp_path_factory.mktemp("web")
    web = base / "out"
    (web / "_next" / "static").mkdir(parents=True)
    (web / "index.html").write_text(INDEX)
    (web / "404.html").write_text("not here")
    (web / "_next" / "static" / "app.js").write_text("console.log('ide')")
    (web / "_next" / "static" / "big.js").write_text(BIG_JS)
    (web / "_next" / "static" / "big.js.gz").write_bytes(gzip.compress(BIG_JS.encode(), mtime=0))
    (web / "index.html.gz").write_bytes(gzip.compress(INDEX.encode(), mtime=0))
    # Not gzip data: never sent as gzip.
    (web / "fake.css").write_text("body{}" * 100)
    (web / "fake.css.gz").write_bytes(b"not gzip at all, just bytes " * 4)
    # A sibling that is a symlink to a file outside the export: not read, so not served.
    (base / "outside.gz").write_bytes(gzip.compress(b"outside the export" * 50))
    # Left from another build of the file: gzip data, but not of this file's length.
    (web / "stale.js").write_text("const fresh = 1;\n" * 100)
    (web / "stale.js.gz").write_bytes(gzip.compress(b"const old = 1;\n" * 100, mtime=0))
    (web / "plain.txt").write_text("plain " * 100)
    (web / "plain.txt.gz").symlink_to(base / "outside.gz")
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


def test_gzip_when_accepted(web_server):
    for path, plain in (("/_next/static/big.js", BIG_JS), ("/", INDEX), ("/index.html", INDEX)):
        for accept in ("gzip", "br, gzip;q=0.5", "*"):
            status, h, body = raw_get(web_server, path, {"Accept-Encoding": accept})
            assert status == 200 and h.get("content-encoding") == "gzip", (path, accept, h)
            assert h.get("vary") == "Accept-Encoding", h
            assert int(h["content-length"]) == len(body) < len(plain)
            assert gzip.decompress(body).decode() == plain


def test_identity_otherwise(web_server):
    for accept in (None, "identity", "br, deflate", "gzip;q=0", "gzip;q=0, *"):
        status, h, body = raw_get(web_server, "/_next/static/big.js", {"Accept-Encoding": accept} if accept else {})
        assert status == 200 and "content-encoding" not in h, (accept, h)
        assert h.get("vary") == "Accept-Encoding", h  # a cache must not hand this to a gzip client
        assert body.decode() == BIG_JS
    # No sibling: identity whatever is asked, and nothing to vary on.
    status, h, body = raw_get(web_server, "/_next/static/app.js", {"Accept-Encoding": "gzip"})
    assert status == 200 and "content-encoding" not in h and "vary" not in h and body == b"console.log('ide')", h


def test_no_false_gzip(web_server):
    # A sibling that is not gzip data, one that is a symlink out of the export, and one of
    # another length (left from another build) are never sent.
    for path, plain in (("/fake.css", "body{}" * 100), ("/plain.txt", "plain " * 100), ("/stale.js", "const fresh = 1;\n" * 100)):
        status, h, body = raw_get(web_server, path, {"Accept-Encoding": "gzip"})
        assert status == 200 and "content-encoding" not in h and body.decode() == plain, (path, h)
    assert web_server.get("/plain.txt.gz").status_code == 404


def test_cache_headers(web_server):
    for path in ("/_next/static/app.js", "/_next/static/big.js"):
        assert web_server.get(path).headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for path in ("/", "/index.html", "/404", "/fake.css"):
        r = web_server.get(path)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-cache", (path, r.headers)
    # The API's answers are not the static tree's: no immutable caching there.
    assert "immutable" not in web_server.get("/languages").headers.get("Cache-Control", "")


def test_no_traversal_with_gzip(web_server):
    for path in ("/../outside.gz", "/%2e%2e/outside.gz", "/_next/static/../../outside.gz", "/leakdir/outside.gz"):
        status, h, body = raw_get(web_server, path, {"Accept-Encoding": "gzip"})
        assert status == 404 and b"outside the export" not in body, (path, status)
