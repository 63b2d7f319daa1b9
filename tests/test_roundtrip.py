"""What goes in comes out: random tensors of every ONNX dtype, through an Identity model, on
every transport, come back exactly.

One model holds an Identity per dtype (x_<dtype> -> y_<dtype>); each request sends all of
them at once, with random shapes (empty ones included) and values that mix random bits with
the extremes: min and max, zero and -0.0, NaN, the infinities and subnormals.

- Binary transports (KServe's binary tensor extension, gRPC raw contents) carry bits: every
  element, NaN payloads included, must come back bit for bit.
- gRPC typed contents carry every dtype that has a typed field; FP16 and BF16 have none
  (the protocol sends them raw only), so that request leaves them out.
- JSON (KServe JSON and /run) carries what README's one writer rule says: each float as the
  shortest text that reads back the same, NaN and the infinities as bare tokens. So every
  value comes back bit for bit except NaN, which comes back NaN (its payload is not text).
  BYTES over JSON are text: random valid UTF-8 with NUL and empty elements (test_bytes.py
  pins what happens to bytes that are not UTF-8).
"""
import json

import ml_dtypes
import numpy as np
import onnx
import pytest
import requests
import tritonclient.grpc as grpcclient
import tritonclient.grpc.service_pb2 as pb
import tritonclient.grpc.service_pb2_grpc as pb_grpc
import tritonclient.http as httpclient
import grpc
from onnx import TensorProto, helper

from conftest import Bento, Server, _free_port

# KServe datatype: (ONNX element type, numpy dtype)
DTYPES = {
    "BOOL": (TensorProto.BOOL, np.dtype(np.bool_)),
    "INT8": (TensorProto.INT8, np.dtype(np.int8)),
    "INT16": (TensorProto.INT16, np.dtype(np.int16)),
    "INT32": (TensorProto.INT32, np.dtype(np.int32)),
    "INT64": (TensorProto.INT64, np.dtype(np.int64)),
    "UINT8": (TensorProto.UINT8, np.dtype(np.uint8)),
    "UINT16": (TensorProto.UINT16, np.dtype(np.uint16)),
    "UINT32": (TensorProto.UINT32, np.dtype(np.uint32)),
    "UINT64": (TensorProto.UINT64, np.dtype(np.uint64)),
    "FP16": (TensorProto.FLOAT16, np.dtype(np.float16)),
    "BF16": (TensorProto.BFLOAT16, np.dtype(ml_dtypes.bfloat16)),
    "FP32": (TensorProto.FLOAT, np.dtype(np.float32)),
    "FP64": (TensorProto.DOUBLE, np.dtype(np.float64)),
    "BYTES": (TensorProto.STRING, np.dtype(object)),
}
SEEDS = range(6)


def _name(datatype, io):
    return f"{io}_{datatype.lower()}"


NO_TYPED_FIELD = ("FP16", "BF16")


def _identities(datatypes, path):
    inputs, outputs, nodes = [], [], []
    for datatype in datatypes:
        x, y = _name(datatype, "x"), _name(datatype, "y")
        elem = DTYPES[datatype][0]
        inputs.append(helper.make_tensor_value_info(x, elem, [f"{x}_0", f"{x}_1"]))
        outputs.append(helper.make_tensor_value_info(y, elem, [f"{x}_0", f"{x}_1"]))
        nodes.append(helper.make_node("Identity", [x], [y]))
    graph = helper.make_graph(nodes, "identities", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)], ir_version=10)
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("roundtrip")
    (tmp / "bentoml").mkdir()
    bento = Bento(tmp / "bentoml")
    bento.save(_identities(DTYPES, tmp / "all.onnx"), "identities")
    typed = [d for d in DTYPES if d not in NO_TYPED_FIELD]
    bento.save(_identities(typed, tmp / "typed.onnx"), "typed")
    s = Server(bento, "identities", "typed", "--grpc-port", _free_port())
    s.grpc = f"127.0.0.1:{s.args[-1]}"
    s.wait_ready()
    yield s
    s.stop()


def _special(dtype):
    if dtype == np.bool_:
        return [False, True]
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return [info.min, info.max, 0, 1, info.max - 1]
    info = ml_dtypes.finfo(dtype) if dtype == ml_dtypes.bfloat16 else np.finfo(dtype)
    return [0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, info.max, -info.max,
            info.tiny, info.smallest_subnormal, -info.smallest_subnormal, info.eps, 1.0]


def _text(rng):
    alphabet = ["a", "Z", "\x00", " ", "\u00e9", "\u4e2d", "\U0001f600", '"', "\\", "\n", "\x7f"]
    return "".join(rng.choice(alphabet, rng.integers(0, 6))).encode()


def _bytes(rng):
    return bytes(rng.integers(0, 256, rng.integers(0, 9), dtype=np.uint8))


def _random(datatype, rng, text_only, min_rows):
    dtype = DTYPES[datatype][1]
    rows = int(rng.integers(min_rows, 6))  # 0: an empty tensor
    shape = (rows, int(rng.integers(1, 9)))
    n = rows * shape[1]
    if datatype == "BYTES":
        make = _text if text_only else _bytes
        return np.array([make(rng) for _ in range(n)], dtype=object).reshape(shape)
    if datatype == "BOOL":
        values = rng.integers(0, 2, n).astype(np.bool_)
    else:
        # Random bits: every pattern, NaNs with payloads and subnormals included.
        bits = rng.integers(0, 256, n * dtype.itemsize, dtype=np.uint8)
        values = bits.view(dtype).copy()
    special = np.array(_special(dtype), dtype=dtype)
    k = min(n, len(special))
    values[rng.choice(n, k, replace=False)] = special[rng.permutation(len(special))[:k]]
    return values.reshape(shape)


def _request(seed, text_only=False, without=(), min_rows=0):
    rng = np.random.default_rng(seed)
    return {d: _random(d, rng, text_only, min_rows) for d in DTYPES if d not in without}


def _same_bits(got, want, datatype, nan_payload=True):
    assert got.shape == want.shape, datatype
    if datatype == "BYTES":
        assert got.tolist() == want.tolist(), datatype
        return
    assert got.dtype == want.dtype, datatype
    if datatype == "BOOL":
        np.testing.assert_array_equal(got, want, err_msg=datatype)
        return
    view = np.dtype(f"u{want.dtype.itemsize}")
    got_bits, want_bits = got.view(view), want.view(view)
    if not nan_payload:
        # JSON keeps that a value is NaN, and its sign, not its payload.
        nan = np.isnan(want.astype(np.float64))
        np.testing.assert_array_equal(np.isnan(got.astype(np.float64)), nan, err_msg=datatype)
        got_bits, want_bits = got_bits[~nan], want_bits[~nan]
    np.testing.assert_array_equal(got_bits, want_bits, err_msg=datatype)


@pytest.mark.parametrize("seed", SEEDS)
def test_kserve_binary(server, seed):
    tensors = _request(seed)
    client = httpclient.InferenceServerClient(f"127.0.0.1:{server.port}")
    inputs = []
    for datatype, array in tensors.items():
        i = httpclient.InferInput(_name(datatype, "x"), list(array.shape), datatype)
        i.set_data_from_numpy(array, binary_data=True)
        inputs.append(i)
    outputs = [httpclient.InferRequestedOutput(_name(d, "y"), binary_data=True) for d in tensors]
    result = client.infer("identities", inputs, outputs=outputs)
    for datatype, array in tensors.items():
        _same_bits(result.as_numpy(_name(datatype, "y")), array, datatype)


@pytest.mark.parametrize("seed", SEEDS)
def test_grpc_raw_contents(server, seed):
    tensors = _request(seed)
    client = grpcclient.InferenceServerClient(server.grpc)
    inputs = []
    for datatype, array in tensors.items():
        i = grpcclient.InferInput(_name(datatype, "x"), list(array.shape), datatype)
        i.set_data_from_numpy(array)
        inputs.append(i)
    outputs = [grpcclient.InferRequestedOutput(_name(d, "y")) for d in tensors]
    result = client.infer("identities", inputs, outputs=outputs)
    for datatype, array in tensors.items():
        _same_bits(result.as_numpy(_name(datatype, "y")), array, datatype)


# The typed field of InferTensorContents that carries each dtype.
TYPED_FIELDS = {
    "BOOL": "bool_contents", "INT8": "int_contents", "INT16": "int_contents",
    "INT32": "int_contents", "INT64": "int64_contents", "UINT8": "uint_contents",
    "UINT16": "uint_contents", "UINT32": "uint_contents", "UINT64": "uint64_contents",
    "FP32": "fp32_contents", "FP64": "fp64_contents", "BYTES": "bytes_contents",
}


@pytest.mark.parametrize("seed", SEEDS)
def test_grpc_typed_contents(server, seed):
    tensors = _request(seed, without=NO_TYPED_FIELD)
    request = pb.ModelInferRequest(model_name="typed")
    for datatype, array in tensors.items():
        tensor = request.inputs.add(name=_name(datatype, "x"), datatype=datatype,
                                    shape=list(array.shape))
        getattr(tensor.contents, TYPED_FIELDS[datatype]).extend(array.ravel().tolist())
    with grpc.insecure_channel(server.grpc) as channel:
        reply = pb_grpc.GRPCInferenceServiceStub(channel).ModelInfer(request, timeout=30)
    got = {o.name: (o, raw) for o, raw in zip(reply.outputs, reply.raw_output_contents)}
    assert len(got) == len(tensors)
    for datatype, array in tensors.items():
        out, raw = got[_name(datatype, "y")]
        assert out.datatype == datatype and list(out.shape) == list(array.shape)
        if datatype == "BYTES":
            # Raw BYTES: each element as a 4-byte little-endian length, then its bytes.
            elements, at = [], 0
            while at < len(raw):
                size = int.from_bytes(raw[at:at + 4], "little")
                elements.append(raw[at + 4:at + 4 + size])
                at += 4 + size
            value = np.array(elements, dtype=object).reshape(array.shape)
        else:
            value = np.frombuffer(raw, dtype=array.dtype).reshape(array.shape)
        _same_bits(value, array, datatype)


def _json_value(array, datatype):
    if datatype == "BYTES":
        return [e.decode() for e in array.ravel().tolist()]
    if datatype in ("FP16", "BF16"):
        # The shortest text that reads back as the same half: Python's repr of the float32
        # it widens to exactly.
        return [float(v) for v in array.ravel().astype(np.float32)]
    return array.ravel().tolist()


def _from_json(values, datatype, shape):
    if datatype == "BYTES":
        return np.array([v.encode() for v in values], dtype=object).reshape(shape)
    dtype = DTYPES[datatype][1]
    if datatype in ("FP16", "BF16"):
        return np.array(values, dtype=np.float32).astype(dtype).reshape(shape)
    return np.array(values, dtype=dtype).reshape(shape)


@pytest.mark.parametrize("seed", SEEDS)
def test_kserve_json(server, seed):
    tensors = _request(seed, text_only=True)
    body = {"inputs": [{"name": _name(d, "x"), "datatype": d, "shape": list(a.shape),
                        "data": _json_value(a, d)} for d, a in tensors.items()]}
    r = requests.post(server.url + "/v2/models/identities/infer", data=json.dumps(body),
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    outputs = {o["name"]: o for o in r.json()["outputs"]}  # json reads NaN and Infinity
    for datatype, array in tensors.items():
        out = outputs[_name(datatype, "y")]
        assert out["datatype"] == datatype
        got = _from_json(out["data"], datatype, out["shape"])
        _same_bits(got, array, datatype, nan_payload=False)


@pytest.mark.parametrize("seed", SEEDS)
def test_run_json(server, seed):
    # /run's tensors are bare nested lists, whose shape is read from the nesting, so a tensor
    # with no rows cannot say its second dimension: each has at least one row here.
    tensors = _request(seed, text_only=True, min_rows=1)
    body = {_name(d, "x"): np.array(_json_value(a, d), dtype=object).reshape(a.shape).tolist()
            for d, a in tensors.items()}
    r = requests.post(server.url + "/identities/run", data=json.dumps(body),
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    answer = r.json()
    for datatype, array in tensors.items():
        got = np.array(answer[_name(datatype, "y")], dtype=object)
        assert got.shape == array.shape, datatype
        _same_bits(_from_json(got.ravel().tolist(), datatype, array.shape), array, datatype,
                   nan_payload=False)
