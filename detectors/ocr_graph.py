"""The OCR's pinned ONNX models with their operators fused, in memory, before onnxruntime
loads them: the same weights and the same arithmetic, in fewer and cheaper operators.

RapidOCR's PP-OCRv4 models (exported from Paddle by paddle2onnx) spell every activation of
their PPLCNetV3 backbone out in element-wise operators:

    Conv -> Mul(a) -> Add(b) -> Add(3) -> Clip(0, 6) -> Mul(x, .) -> Div(6) -> Mul(c) -> Add(d)
            (affine before)     (hard-swish, four operators)          (affine after)

onnxruntime fuses none of them (no pattern of its own matches), and each one is a pass over
the whole feature map that also takes the tensor out of and back into the blocked layout its
convolutions run in (NCHWc). Rewritten here, exactly:

- the affine before: Conv(W, B) then *a + b is Conv(a*W, a*B + b);
- hard-swish: x * Clip(x + 3, 0, 6) / 6 is x * HardSigmoid(x; 1/6, 1/2), which onnxruntime
  then fuses into its convolution (a "HardSwish" activation of its NCHWc Conv);
- the affine after, when a 1x1 convolution without padding follows: Conv(W, B) of c*x + d
  is Conv(c*W, B + d * sum(W)); otherwise it becomes a BatchNormalization with scale c,
  bias d, mean 0, variance 1 and epsilon 0, which onnxruntime runs in the blocked layout.

The results differ from the unfused model's by float rounding only (tests/detectors/
test_ocr.py compares them: ~1e-6 on the recogniser's probabilities, the same text read).
Measured (bench/files.py, docs/detectors.md): recognition ~42 -> ~32 us of CPU per column,
detection ~0.14 -> ~0.10 s. The files are the verified ones (ocr.py verifies the package
against its manifest first); nothing is written to disk.

Protobuf is read and written at the wire level (shadowmap/protowire.py; the `onnx` package is not installed): only
the graph's nodes are decoded and re-encoded, every other field is copied byte for byte.
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np

from shadowmap import protowire

# ONNX protobuf field numbers (onnx.proto3)
_MODEL_GRAPH = 7
_GRAPH_NODE, _GRAPH_OUTPUT = 1, 12
_NODE_INPUT, _NODE_OUTPUT, _NODE_NAME, _NODE_OP, _NODE_ATTR = 1, 2, 3, 4, 5
_ATTR_NAME, _ATTR_F, _ATTR_I, _ATTR_T, _ATTR_INTS, _ATTR_TYPE = 1, 2, 3, 5, 8, 20
_ATTR_FLOAT, _ATTR_TENSOR = 1, 4
_TENSOR_DIMS, _TENSOR_TYPE, _TENSOR_FLOATS, _TENSOR_RAW = 1, 2, 4, 9
_FLOAT = 1


def _packed_ints(wire: int, value: Any) -> list[int]:
    if wire == 0:
        return [value]
    out, i = [], 0
    while i < len(value):
        number, i = protowire.read_varint(value, i)
        out.append(number)
    return out


class _Node:
    """One NodeProto: inputs, outputs, operator; its attributes kept as encoded."""

    def __init__(self, op: str, inputs: list[str], outputs: list[str], attributes: bytes = b"",
                 name: str = "", extra: bytes = b""):
        self.op, self.inputs, self.outputs = op, inputs, outputs
        self.attributes, self.name, self.extra = attributes, name, extra

    @classmethod
    def decode(cls, data: bytes) -> _Node:
        node = cls("", [], [])
        attributes, extra = [], []
        for number, _, value, start, end in protowire.fields(data):
            if number == _NODE_INPUT:
                node.inputs.append(value.decode())
            elif number == _NODE_OUTPUT:
                node.outputs.append(value.decode())
            elif number == _NODE_NAME:
                node.name = value.decode()
            elif number == _NODE_OP:
                node.op = value.decode()
            elif number == _NODE_ATTR:
                attributes.append(data[start:end])
            else:                                   # domain, doc string: kept as they are
                extra.append(data[start:end])
        node.attributes, node.extra = b"".join(attributes), b"".join(extra)
        return node

    def encode(self) -> bytes:
        out = [protowire.length_delimited(_NODE_INPUT, name.encode()) for name in self.inputs]
        out += [protowire.length_delimited(_NODE_OUTPUT, name.encode()) for name in self.outputs]
        if self.name:
            out.append(protowire.length_delimited(_NODE_NAME, self.name.encode()))
        out += [protowire.length_delimited(_NODE_OP, self.op.encode()), self.attributes, self.extra]
        return b"".join(out)

    def _attribute(self, name: str) -> list[tuple[int, int, Any]]:
        """The fields (number, wire type, value) of the named attribute; [] when absent."""
        for _, _, attr, _, _ in protowire.fields(self.attributes):
            items = [(number, wire, value) for number, wire, value, _, _ in protowire.fields(attr)]
            if any(number == _ATTR_NAME and value.decode() == name for number, _, value in items):
                return items
        return []

    def tensor(self, name: str) -> bytes | None:
        """The TensorProto of a tensor attribute (a Constant's ``value``)."""
        return next((value for number, _, value in self._attribute(name) if number == _ATTR_T), None)

    def ints(self, name: str) -> list[int]:
        out: list[int] = []
        for number, wire, value in self._attribute(name):
            if number in (_ATTR_I, _ATTR_INTS):         # one int, or a list
                out += _packed_ints(wire, value)
        return out


def _tensor(data: bytes) -> np.ndarray | None:
    """A float TensorProto as an array; None for other element types."""
    dims: list[int] = []
    kind, raw, floats = None, None, []
    for number, wire, value, _, _ in protowire.fields(data):
        if number == _TENSOR_DIMS:
            dims += _packed_ints(wire, value)
        elif number == _TENSOR_TYPE:
            kind = value
        elif number == _TENSOR_RAW:
            raw = value
        elif number == _TENSOR_FLOATS:
            floats += [struct.unpack("<f", value)[0]] if wire == 5 else list(
                struct.unpack(f"<{len(value) // 4}f", value))
    if kind != _FLOAT:
        return None
    array = np.frombuffer(raw, np.float32) if raw is not None else np.array(floats, np.float32)
    return array.reshape(dims)


def _float_attribute(name: str, value: float) -> bytes:
    return protowire.length_delimited(_NODE_ATTR, protowire.length_delimited(_ATTR_NAME, name.encode()) + protowire.key(_ATTR_F, 5)
                        + struct.pack("<f", value) + protowire.key(_ATTR_TYPE, 0) + protowire.varint(_ATTR_FLOAT))


def _constant(name: str, array: np.ndarray) -> _Node:
    array = np.ascontiguousarray(array, np.float32)
    tensor = (b"".join(protowire.key(_TENSOR_DIMS, 0) + protowire.varint(d) for d in array.shape)
              + protowire.key(_TENSOR_TYPE, 0) + protowire.varint(_FLOAT) + protowire.length_delimited(_TENSOR_RAW, array.tobytes()))
    value = (protowire.length_delimited(_ATTR_NAME, b"value") + protowire.length_delimited(_ATTR_T, tensor)
             + protowire.key(_ATTR_TYPE, 0) + protowire.varint(_ATTR_TENSOR))
    return _Node("Constant", [], [name], protowire.length_delimited(_NODE_ATTR, value))


class _Graph:
    def __init__(self, nodes: list[_Node], outputs: set[str]):
        self.nodes, self.graph_outputs = nodes, outputs
        self.constants: dict[str, np.ndarray] = {}
        for node in nodes:
            if node.op == "Constant":
                tensor = node.tensor("value")
                array = _tensor(tensor) if tensor is not None else None
                if array is not None:
                    self.constants[node.outputs[0]] = array
        self.added: list[_Node] = []
        self.removed: set[int] = set()
        self.fused = {"affine_before": 0, "hard_swish": 0, "affine_after_1x1": 0, "affine_after_bn": 0}

    def consumers(self) -> dict[str, list[_Node]]:
        found: dict[str, list[_Node]] = {}
        for node in self.nodes:
            for name in node.inputs:
                found.setdefault(name, []).append(node)
        return found

    def only_consumer(self, consumers: dict[str, list[_Node]], name: str, op: str) -> _Node | None:
        users = consumers.get(name, [])
        if len(users) != 1 or users[0].op != op or name in self.graph_outputs:
            return None
        return users[0]

    def scalar(self, name: str) -> float | None:
        array = self.constants.get(name)
        return None if array is None or array.size != 1 else float(array.ravel()[0])

    def scaled_by(self, node: _Node) -> tuple[str, float] | None:
        """For x * c (either order) with c a one-element constant: (x, c)."""
        for i in (0, 1):
            factor = self.scalar(node.inputs[i])
            if factor is not None:
                return node.inputs[1 - i], factor
        return None

    def add(self, name: str, array: np.ndarray) -> str:
        name = f"shadowmap.fused.{len(self.added)}.{name}"
        self.added.append(_constant(name, array))
        self.constants[name] = array
        return name

    def affine_after(self, mul: _Node, consumers: dict[str, list[_Node]]) -> tuple[str, float, _Node, float] | None:
        """x * c + d with one-element constants: (x, c, the Add, d)."""
        if mul.op != "Mul" or len(mul.inputs) != 2:
            return None
        scaled = self.scaled_by(mul)
        add = self.only_consumer(consumers, mul.outputs[0], "Add")
        if scaled is None or add is None:
            return None
        shift = self.scalar(add.inputs[1] if add.inputs[0] == mul.outputs[0] else add.inputs[0])
        return None if shift is None else (scaled[0], scaled[1], add, shift)

    def sweep(self) -> None:
        self.nodes = [node for node in self.nodes if id(node) not in self.removed]
        self.removed.clear()

    def fold_affine_before(self) -> None:
        consumers = self.consumers()
        for conv in self.nodes:
            if conv.op != "Conv" or len(conv.inputs) < 2 or conv.inputs[1] not in self.constants:
                continue
            mul = self.only_consumer(consumers, conv.outputs[0], "Mul")
            found = self.affine_after(mul, consumers) if mul is not None else None
            if mul is None or found is None:
                continue
            _, scale, add, shift = found
            weight = self.constants[conv.inputs[1]]
            bias = self.constants.get(conv.inputs[2]) if len(conv.inputs) > 2 else np.zeros(weight.shape[0], np.float32)
            if bias is None:
                continue
            conv.inputs = [conv.inputs[0], self.add("w", weight * np.float32(scale)),
                           self.add("b", bias * np.float32(scale) + np.float32(shift))]
            conv.outputs = list(add.outputs)
            self.removed.update((id(mul), id(add)))
            self.fused["affine_before"] += 1
        self.sweep()

    def fuse_hard_swish(self) -> None:
        consumers = self.consumers()
        for add in self.nodes:
            if add.op != "Add" or len(add.inputs) != 2 or self.scalar(add.inputs[1]) != 3.0:
                continue
            x = add.inputs[0]
            clip = self.only_consumer(consumers, add.outputs[0], "Clip")
            if (clip is None or len(clip.inputs) != 3 or self.scalar(clip.inputs[1]) != 0.0
                    or self.scalar(clip.inputs[2]) != 6.0):
                continue
            mul = self.only_consumer(consumers, clip.outputs[0], "Mul")
            if mul is None or sorted(mul.inputs) != sorted([x, clip.outputs[0]]):
                continue
            div = self.only_consumer(consumers, mul.outputs[0], "Div")
            if div is None or div.inputs[0] != mul.outputs[0] or self.scalar(div.inputs[1]) != 6.0:
                continue
            add.op, add.inputs = "HardSigmoid", [x]
            add.attributes = _float_attribute("alpha", 1 / 6) + _float_attribute("beta", 0.5)
            mul.inputs, mul.outputs = [x, add.outputs[0]], list(div.outputs)
            self.removed.update((id(clip), id(div)))
            self.fused["hard_swish"] += 1
        self.sweep()

    def fold_affine_after(self) -> None:
        consumers = self.consumers()
        producers = {name: node for node in self.nodes for name in node.outputs}
        for mul in self.nodes:
            found = self.affine_after(mul, consumers)
            if found is None:
                continue
            x, scale, add, shift = found
            conv = self.only_consumer(consumers, add.outputs[0], "Conv")
            if conv is not None and conv.inputs[0] == add.outputs[0] and conv.inputs[1] in self.constants:
                weight = self.constants[conv.inputs[1]]
                bias = self.constants.get(conv.inputs[2]) if len(conv.inputs) > 2 else np.zeros(weight.shape[0], np.float32)
                if (bias is not None and weight.shape[2:] == (1, 1) and not any(conv.ints("pads"))
                        and conv.ints("group") in ([], [1])):
                    conv.inputs = [x, self.add("w", weight * np.float32(scale)),
                                   self.add("b", bias + np.float32(shift) * weight.sum(axis=(1, 2, 3)))]
                    self.removed.update((id(mul), id(add)))
                    self.fused["affine_after_1x1"] += 1
                    continue
            # otherwise a per-channel BatchNormalization: the channels are those of the
            # convolution whose activation made x
            activation = producers.get(x)
            source = next((producers[name] for name in (activation.inputs if activation else [])
                           if name in producers and producers[name].op == "Conv"), None)
            if activation is None or activation.op != "Mul" or source is None or source.inputs[1] not in self.constants:
                continue
            channels = self.constants[source.inputs[1]].shape[0]
            mul.op = "BatchNormalization"
            mul.inputs = [x, self.add("scale", np.full(channels, scale, np.float32)),
                          self.add("bias", np.full(channels, shift, np.float32)),
                          self.add("mean", np.zeros(channels, np.float32)),
                          self.add("var", np.ones(channels, np.float32))]
            mul.outputs, mul.attributes = list(add.outputs), _float_attribute("epsilon", 0.0)
            self.removed.add(id(add))
            self.fused["affine_after_bn"] += 1
        self.sweep()

    def drop_unused_constants(self) -> None:
        used = {name for node in self.nodes for name in node.inputs} | self.graph_outputs
        self.nodes = [node for node in self.added + self.nodes
                      if node.op != "Constant" or any(name in used for name in node.outputs)]
        self.added = []


def fuse(model: bytes) -> tuple[bytes, dict[str, int]]:
    """The model with its activations and affine layers fused (see the module's doc), and
    how many of each were fused."""
    top: list[bytes | None] = []
    graph = b""
    for number, _, value, start, end in protowire.fields(model):
        top.append(None if number == _MODEL_GRAPH else model[start:end])
        graph = value if number == _MODEL_GRAPH else graph
    rest: list[bytes | None] = []
    nodes: list[_Node] = []
    outputs: set[str] = set()
    for number, _, value, start, end in protowire.fields(graph):
        if number == _GRAPH_NODE:
            if not nodes:
                rest.append(None)                   # the nodes go back where they were
            nodes.append(_Node.decode(value))
            continue
        if number == _GRAPH_OUTPUT:
            outputs.update(item.decode() for n, _, item, _, _ in protowire.fields(value) if n == 1)
        rest.append(graph[start:end])
    work = _Graph(nodes, outputs)
    work.fold_affine_before()
    work.fuse_hard_swish()
    work.fold_affine_after()
    work.drop_unused_constants()
    encoded = b"".join(protowire.length_delimited(_GRAPH_NODE, node.encode()) for node in work.nodes)
    new_graph = b"".join(encoded if part is None else part for part in rest)
    return b"".join(protowire.length_delimited(_MODEL_GRAPH, new_graph) if part is None else part for part in top), work.fused


def fused_model(path: Path) -> bytes:
    """The ONNX file at ``path`` (already verified by the caller), fused."""
    return fuse(path.read_bytes())[0]
