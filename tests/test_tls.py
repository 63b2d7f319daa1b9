"""HTTPS with BentoML's flags, --ssl-certfile and --ssl-keyfile, on a self-signed certificate
that openssl makes for each test run; and plain HTTP when no certificate is given."""
import pathlib
import socket
import ssl
import subprocess

import numpy as np
import onnxruntime as ort
import pytest
import requests

from conftest import BIN, ExampleServer, Server, https, tls_flags

SKIMAGE = pathlib.Path("/usr/lib/python3/dist-packages/skimage/data")


def _x():
    return np.random.default_rng(0).random((1, 3, 48, 192), dtype=np.float32)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated")
def test_https_serves_every_route_and_refuses_plain_http(bento, ocr_cls_model, cert):
    bento.save(ocr_cls_model, "ocr-cls")
    server = https(Server(bento, "ocr-cls", *tls_flags(cert)), cert)
    server.wait_ready()
    try:
        want = ort.InferenceSession(str(ocr_cls_model)).run(None, {"x": _x()})[0]
        with requests.Session() as s:  # keep-alive over one TLS connection
            v = server.verify
            for _ in range(3):
                r = s.post(server.url + "/run", json={"x": _x().tolist()}, verify=v)
                assert r.status_code == 200, r.text
                got = np.array(next(iter(r.json().values())), dtype=np.float32)
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
            assert s.get(server.url + "/docs.json", verify=v).json()["openapi"].startswith("3.")
            r = s.post(server.url + "/run", data=b"{", verify=v,
                       headers={"Content-Type": "application/json"})
            assert r.status_code == 400 and "error" in r.json()
        # The certificate is checked by the client: an unknown one fails the handshake.
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(server.url + "/livez", timeout=5)
        # Plain HTTP on the TLS port gets no HTTP answer; the connection is closed.
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
            assert not sock.recv(4096).startswith(b"HTTP/")
        # TLS 1.1 is refused by the server (SECLEVEL=0 lets this client offer it; it does
        # reach a server that takes TLS 1.1, such as openssl s_server -tls1_1).
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(server.verify)
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        with pytest.raises(ssl.SSLError):
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                ctx.wrap_socket(sock, server_hostname="127.0.0.1")
        assert requests.get(server.url + "/livez", verify=server.verify).status_code == 200
        assert "https://" in "".join(server.log)
    finally:
        assert server.stop() == 0


def test_a_cpp_service_serves_https_with_the_same_flags(bento, cert):
    if not (BIN / "image_classifier").exists():
        pytest.skip("image_classifier is not built")
    bento.save_image_classifier()
    server = https(ExampleServer(bento, "image_classifier", *tls_flags(cert)), cert)
    server.wait_ready()
    try:
        png = (SKIMAGE / "chelsea.png").read_bytes()
        r = requests.post(server.url + "/classify_image", verify=server.verify,
                          files={"image": ("chelsea.png", png, "image/png")})
        assert r.status_code == 200 and r.json()["predicted_class"] in range(281, 286), r.text
    finally:
        assert server.stop() == 0


def test_an_encrypted_key_with_its_password(bento, ocr_cls_model, cert):
    bento.save(ocr_cls_model, "ocr-cls")
    server = https(Server(bento, "ocr-cls", *tls_flags(cert, "encrypted.pem"),
                           "--ssl-keyfile-password", "pw"), cert)
    server.wait_ready()
    try:
        assert requests.get(server.url + "/livez", verify=server.verify).status_code == 200
    finally:
        assert server.stop() == 0


def test_plain_http_without_a_certificate(bento, ocr_cls_model):
    bento.save(ocr_cls_model, "ocr-cls")
    server = Server(bento, "ocr-cls")
    server.wait_ready()
    try:
        assert requests.get(server.url + "/livez").status_code == 200
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(server.url.replace("http:", "https:") + "/livez", timeout=5,
                         verify=False)
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("flags, needle", [
    (["--ssl-certfile", "{d}/cert.pem"], "--ssl-keyfile"),
    (["--ssl-keyfile", "{d}/key.pem"], "--ssl-certfile"),
    (["--ssl-certfile", "{d}/missing.pem", "--ssl-keyfile", "{d}/key.pem"], "missing.pem"),
    (["--ssl-certfile", "{d}/key.pem", "--ssl-keyfile", "{d}/key.pem"], "certificate"),
    (["--ssl-certfile", "{d}/cert.pem", "--ssl-keyfile", "{d}/cert.pem"],
     "expected a PEM private key"),
    (["--ssl-certfile", "{d}/cert.pem", "--ssl-keyfile", "{d}/other.pem"], "does not match"),
    (["--ssl-certfile", "{d}/cert.pem", "--ssl-keyfile", "{d}/encrypted.pem"], "password"),
    (["--ssl-certfile", "{d}/cert.pem", "--ssl-keyfile", "{d}/encrypted.pem",
      "--ssl-keyfile-password", "nope"], "password"),
])
def test_bad_tls_flags_are_a_clear_error_at_start(bento, ocr_cls_model, cert, flags, needle):
    bento.save(ocr_cls_model, "ocr-cls")
    proc = bento.run("serve", "ocr-cls", "--port", "0",
                     *[f.format(d=cert) for f in flags], check=False, timeout=30)
    assert proc.returncode != 0
    assert needle in proc.stderr + proc.stdout, proc.stderr
