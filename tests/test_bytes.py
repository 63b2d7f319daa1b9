"""BYTES tensors keep every byte, on every transport, through an Identity model over strings.

The binary transports (KServe's binary tensor extension and gRPC) carry arbitrary bytes. JSON
(KServe JSON and /run) carries text, as README says: NUL and empty elements survive, a request
that is not valid UTF-8 gets 400, and an output element that is not valid UTF-8 is written with
U+FFFD in place of each invalid byte."""
import numpy as np
import onnx
import pytest
import requests
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from onnx import TensorProto, helper

from conftest import Bento, Server, _free_port

# Valid UTF-8, with NUL at the start, middle and end, and empty elements.
TEXT = [b"he\x00llo", b"\x00lead", b"trail\x00", b"\x00", b"", b"plain", "caf\u00e9".encode(), b""]
# 64 four-byte blobs that hold every byte value 0..255 once.
BLOBS = [bytes(range(b, b + 4)) for b in range(0, 256, 4)]
# Not UTF-8, each with what a JSON output makes of it: U+FFFD for each byte that does not
# start a valid sequence. (Python's errors="replace" differs on a truncated sequence such as
# e2 82, which it replaces as one unit.)
NOT_UTF8 = {
    b"\xff\xfe": "\ufffd\ufffd",
    b"\x80": "\ufffd",                  # a lone continuation byte
    b"a\xbf\x80z": "a\ufffd\ufffdz",
    b"\xc3": "\ufffd",                  # a truncated two-byte sequence
    b"\xe2\x82": "\ufffd\ufffd",        # a truncated three-byte sequence
    b"\xed\xa0\x80": "\ufffd\ufffd\ufffd",  # an encoded surrogate
    b"\xc0\xaf": "\ufffd\ufffd",        # an overlong '/'
    b"ok\x00\xff": "ok\x00\ufffd",
}


def _tensor(elements, rows=2):
    assert len(elements) % rows == 0
    return np.array(elements, dtype=object).reshape(rows, -1)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bytes")
    x = helper.make_tensor_value_info("x", TensorProto.STRING, ["n", "m"])
    y = helper.make_tensor_value_info("y", TensorProto.STRING, ["n", "m"])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "ident", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, tmp / "ident.onnx")
    (tmp / "bentoml").mkdir()
    bento = Bento(tmp / "bentoml")
    bento.save(tmp / "ident.onnx", "ident")
    s = Server(bento, "ident", "--grpc-port", _free_port())
    s.grpc = f"127.0.0.1:{s.args[-1]}"
    s.wait_ready()
    yield s
    s.stop()


def _kserve_http(server, array, binary_in, binary_out):
    client = httpclient.InferenceServerClient(f"127.0.0.1:{server.port}")
    x = httpclient.InferInput("x", list(array.shape), "BYTES")
    x.set_data_from_numpy(array, binary_data=binary_in)
    y = httpclient.InferRequestedOutput("y", binary_data=binary_out)
    return client.infer("ident", [x], outputs=[y]).as_numpy("y")


def test_kserve_binary_carries_every_byte(server):
    array = _tensor(TEXT + BLOBS + list(NOT_UTF8))
    got = _kserve_http(server, array, binary_in=True, binary_out=True)
    assert got.shape == array.shape
    assert got.tolist() == array.tolist()


def test_grpc_carries_every_byte(server):
    array = _tensor(TEXT + BLOBS + list(NOT_UTF8))
    client = grpcclient.InferenceServerClient(server.grpc)
    x = grpcclient.InferInput("x", list(array.shape), "BYTES")
    x.set_data_from_numpy(array)
    got = client.infer("ident", [x], outputs=[grpcclient.InferRequestedOutput("y")]).as_numpy("y")
    assert got.shape == array.shape
    assert got.tolist() == array.tolist()


def test_kserve_json_carries_nul_and_empty_elements(server):
    array = _tensor(TEXT)
    got = _kserve_http(server, array, binary_in=False, binary_out=False)
    assert got.shape == array.shape
    assert got.tolist() == [[e.decode() for e in row] for row in array.tolist()]


def test_run_json_carries_nul_and_empty_elements(server):
    rows = [[e.decode() for e in row] for row in _tensor(TEXT).tolist()]
    r = requests.post(server.url + "/run", json={"x": rows})
    assert r.status_code == 200, r.text
    assert "\\u0000" in r.text  # NUL is escaped, never written raw
    assert r.json() == {"y": rows}


def test_json_output_replaces_each_invalid_byte_with_fffd(server):
    array = _tensor(list(NOT_UTF8))
    got = _kserve_http(server, array, binary_in=True, binary_out=False)
    assert got.tolist() == _tensor(list(NOT_UTF8.values())).tolist()


@pytest.mark.parametrize("body", [
    b'["a\xffb"]',          # a raw byte that is not UTF-8
    b'["\xed\xa0\x80"]',    # a raw encoded surrogate
    b'["a\\ud800b"]',       # an escaped lone surrogate, which no UTF-8 can hold
    b'["\\udc80"]',
])
def test_json_input_that_is_not_utf8_is_refused(server, body):
    run = b'{"x": [' + body + b']}'
    kserve = b'{"inputs": [{"name": "x", "datatype": "BYTES", "shape": [1, 1], "data": ' + \
        body + b'}]}'
    for route, data in [("/run", run), ("/v2/models/ident/infer", kserve)]:
        r = requests.post(server.url + route, data=data,
                          headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (route, r.text)
        assert "error" in r.json()
