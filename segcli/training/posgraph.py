"""The tagging head's place in the ONNX graph: where the encoder's last hidden
state is, a graph that also outputs it (to compute the head's training
features with onnxruntime), the head spliced in as the output ``pos``, and
the head's own graph (head_graph) and its weights read back from a spliced
graph (head_weights: ``python -m segcli.training.pos --reexport``).

The segmentation part of the graph is never changed: its nodes, initialisers
and the ``scores`` output stay as they are, and the head only reads the
tensor the 4-score projection reads. So a model with the head cuts exactly
as the model without it (tests/test_pos_model.py holds the scores equal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import helper

from ..model import POS_OUTPUT, WITH_POS_INPUT

SCORES_OUTPUT = "scores"
HIDDEN_OUTPUT = "hidden"  # the extraction graph's extra output: (batch, length, hidden)
HEAD_INPUT = "hidden"  # the exported head's input: (batch, hidden, length), as the projection reads it
PREFIX = "pos/"  # the head's node and tensor names in the spliced graph
CHARS_INPUT = "chars"  # the graph inputs the head reads besides the hidden state
BIGRAM_INPUT = "ngrams2"


def hidden_tensor(graph: onnx.GraphProto) -> str:
    """The name of the tensor the 4-score projection reads: (batch, hidden,
    length), the encoder's last hidden state (in a quantised graph, the
    dequantised one, exactly what the projection sees). Found by walking
    back from ``scores`` to the first Conv."""
    producer = {out: node for node in graph.node for out in node.output}
    outputs = [o.name for o in graph.output]
    if SCORES_OUTPUT not in outputs:
        raise ValueError(f"the graph has no {SCORES_OUTPUT!r} output")
    name = SCORES_OUTPUT
    for _ in range(len(graph.node)):
        node = producer.get(name)
        if node is None:
            break
        if node.op_type == "Conv":
            return node.input[0]
        name = node.input[0]
    raise ValueError("no convolution feeds the scores output: not an FCN graph")


def with_hidden_output(model: onnx.ModelProto, width: int) -> onnx.ModelProto:
    """A copy of the graph with one more output, ``hidden``: the encoder's
    last hidden state (``width`` channels) transposed to (batch, length,
    width), laid out like ``scores`` so the scorer puts it back per character."""
    result = onnx.ModelProto()
    result.CopyFrom(model)
    graph = result.graph
    source = hidden_tensor(graph)
    graph.node.append(helper.make_node("Transpose", [source], [HIDDEN_OUTPUT], perm=[0, 2, 1],
                                       name=PREFIX + "hidden_transpose"))
    graph.output.append(helper.make_tensor_value_info(HIDDEN_OUTPUT, onnx.TensorProto.FLOAT,
                                                      ["batch", "length", width]))
    return result


def splice_head(model: onnx.ModelProto, head: onnx.ModelProto, tags: int) -> onnx.ModelProto:
    """A copy of ``model`` with ``head`` (an exported graph from ``hidden``,
    (batch, hidden, length), and any of the graph's own inputs to ``pos``,
    (batch, length, tags)) reading the encoder's last hidden state: one more
    input, ``with_pos`` (bool, a scalar), and one more output, ``pos``.

    onnxruntime computes every node of a graph whatever outputs a run asks
    for (measured: a large head cost a scores-only run as much as a run of
    both), so the head sits in the then-branch of an If on ``with_pos``:
    false computes an empty ``pos`` and nothing of the head. In a quantised
    graph the branch reads the quantised hidden state and dequantises it
    itself: a dequantised copy outside the branch would be computed by every
    run. The head's names are prefixed so they cannot collide with the encoder's."""
    result = onnx.ModelProto()
    result.CopyFrom(model)
    graph = result.graph
    if POS_OUTPUT in [o.name for o in graph.output]:
        raise ValueError(f"the graph already has a {POS_OUTPUT!r} output")
    head_graph = head.graph
    initializer_names = {t.name for t in head_graph.initializer}
    head_inputs = [i.name for i in head_graph.input if i.name not in initializer_names]
    outer_inputs = {i.name for i in graph.input}
    if HEAD_INPUT not in head_inputs or not set(head_inputs) - {HEAD_INPUT} <= outer_inputs:
        raise ValueError(f"the head must take {HEAD_INPUT!r} and inputs of the graph ({', '.join(outer_inputs)})")
    if [o.name for o in head_graph.output] != [POS_OUTPUT]:
        raise ValueError(f"the head must have one output, {POS_OUTPUT!r}")
    source = hidden_tensor(graph)
    producer = {out: node for node in graph.node for out in node.output}
    branch_nodes = []
    dequantize = producer.get(source)
    if dequantize is not None and dequantize.op_type == "DequantizeLinear":
        copy = onnx.NodeProto()
        copy.CopyFrom(dequantize)
        copy.name = PREFIX + "dequantize"
        copy.output[:] = [PREFIX + HEAD_INPUT]
        branch_nodes.append(copy)
        source = PREFIX + HEAD_INPUT

    def renamed(name: str) -> str:
        if name == HEAD_INPUT:
            return source
        if name == POS_OUTPUT or name in head_inputs or not name:  # the graph's own inputs keep their names
            return name
        return PREFIX + name

    branch_initializers = []
    for tensor in head_graph.initializer:
        copy = onnx.TensorProto()
        copy.CopyFrom(tensor)
        copy.name = renamed(tensor.name)
        branch_initializers.append(copy)
    for node in head_graph.node:
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.name = PREFIX + (node.name or node.op_type)
        copy.input[:] = [renamed(n) for n in node.input]
        copy.output[:] = [renamed(n) for n in node.output]
        branch_nodes.append(copy)
    pos_type = helper.make_tensor_value_info(POS_OUTPUT, onnx.TensorProto.FLOAT, ["batch", "length", tags])
    then_branch = helper.make_graph(branch_nodes, PREFIX + "head", [], [pos_type], branch_initializers)
    empty = helper.make_tensor(PREFIX + "empty", onnx.TensorProto.FLOAT, [0, 0, tags], [])
    else_branch = helper.make_graph(
        [helper.make_node("Constant", [], [POS_OUTPUT], value=empty, name=PREFIX + "none")],
        PREFIX + "none", [], [helper.make_tensor_value_info(POS_OUTPUT, onnx.TensorProto.FLOAT, [0, 0, tags])])
    graph.input.append(helper.make_tensor_value_info(WITH_POS_INPUT, onnx.TensorProto.BOOL, []))
    graph.node.append(helper.make_node("If", [WITH_POS_INPUT], [POS_OUTPUT], name=PREFIX + "if",
                                       then_branch=then_branch, else_branch=else_branch))
    graph.output.append(helper.make_tensor_value_info(POS_OUTPUT, onnx.TensorProto.FLOAT,
                                                      [None, None, tags]))
    onnx.checker.check_model(result)
    return result


def without_head(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of the graph without a spliced head (the graph itself if it has none)."""
    if POS_OUTPUT not in [o.name for o in model.graph.output]:
        return model
    result = onnx.ModelProto()
    result.CopyFrom(model)
    graph = result.graph
    keep_nodes = [n for n in graph.node if POS_OUTPUT not in n.output]
    del graph.node[:]
    graph.node.extend(keep_nodes)
    keep_inputs = [i for i in graph.input if i.name != WITH_POS_INPUT]
    del graph.input[:]
    graph.input.extend(keep_inputs)
    keep_outputs = [o for o in graph.output if o.name != POS_OUTPUT]
    del graph.output[:]
    graph.output.extend(keep_outputs)
    return result



# --- the head's own graph ---------------------------------------------------------------

@dataclass
class HeadWeights:
    """A trained head as it ships (training/pos.py Int8Head), and where its
    table's rows are: the table int8, its rows the character ids at each of
    ``char_offsets`` (``chars`` rows each), then the bigram buckets at each
    of ``bigram_offsets`` (``buckets`` rows each). inp_weight (hidden,
    width) and out_weight (mid, tags) as MatMul's right operands; mid 0: no
    out layer, the tag scores are the units times ``scale``."""

    table: np.ndarray
    inp_weight: np.ndarray
    inp_bias: np.ndarray
    out_weight: np.ndarray | None
    out_bias: np.ndarray | None
    scale: np.ndarray | None
    chars: int
    buckets: int
    char_offsets: tuple[int, ...]
    bigram_offsets: tuple[int, ...]

    def check(self) -> None:
        rows = len(self.char_offsets) * self.chars + len(self.bigram_offsets) * self.buckets
        if self.table.dtype != np.int8 or self.table.shape[0] != rows:
            raise ValueError(f"the head's table must be int8 with {rows} rows, not {self.table.dtype} "
                             f"{tuple(self.table.shape)}")
        if (self.out_weight is None) != (self.scale is not None):
            raise ValueError("a head has either an out layer or a scale (mid 0)")


def head_graph(weights: HeadWeights, opset: int = 17) -> onnx.ModelProto:
    """The head as an ONNX graph, hidden (batch, hidden, length), chars and
    ngrams2 (batch, length) -> pos (batch, length, tags), built for
    onnxruntime's CPU kernels: each table part a float copy of the int8
    one, made when the session loads (Cast and Slice of an initializer are
    constant-folded, so the file keeps the int8 table), the inp bias folded
    into the first part's rows (each position gets exactly one row of each
    part), one Gather per part on the flattened shifted ids, their sum the
    third operand of a Gemm that onnxruntime fuses with the ReLU, and the
    out layer one Gemm with its bias. The torch export it replaced (one
    (N, 5, width) int8 Gather, Cast, ReduceSum, MatMuls and Adds on 3-D
    tensors) computed the same to float rounding, in more passes."""
    from onnx import TensorProto, numpy_helper

    weights.check()
    nodes, initializers = [], []

    def constant(name: str, value: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attributes) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    hidden_width, width = weights.inp_weight.shape
    table = constant("table", weights.table)
    one = constant("axis1", np.array([1], np.int64))
    flat = constant("flat", np.array([-1], np.int64))
    bigrams = node("Mod", [BIGRAM_INPUT, constant("buckets", np.array(weights.buckets, np.int64))], "bigram_buckets")
    parts = [(CHARS_INPUT, o, k * weights.chars, weights.chars) for k, o in enumerate(weights.char_offsets)]
    base = len(weights.char_offsets) * weights.chars
    parts += [(bigrams, o, base + k * weights.buckets, weights.buckets) for k, o in enumerate(weights.bigram_offsets)]
    scale = None if weights.scale is None else constant("scale", weights.scale.astype(np.float32))
    gathered = []
    for k, (ids, offset, first, count) in enumerate(parts):
        rows = node("Slice", [table, constant(f"part{k}.first", np.array([first], np.int64)),
                              constant(f"part{k}.end", np.array([first + count], np.int64)),
                              constant(f"part{k}.axis", np.array([0], np.int64))], f"part{k}.int8")
        rows = node("Cast", [rows], f"part{k}.float", to=TensorProto.FLOAT)
        if k == 0:
            rows = node("Add", [rows, constant("inp.bias", weights.inp_bias.astype(np.float32))], "part0.biased")
        if scale is not None:
            rows = node("Mul", [rows, scale], f"part{k}.scaled")
        gathered.append(node("Gather", [rows, node("Reshape", [_shifted(node, constant, ids, offset, one, k), flat],
                                                    f"part{k}.flat_ids")], f"part{k}.rows"))
    total = gathered[0]
    for k, rows in enumerate(gathered[1:], 1):
        total = node("Add", [total, rows], f"rows_sum{k}")
    inp_weight = constant("inp.weight", weights.inp_weight.astype(np.float32))
    if scale is not None:  # mid 0: scores = (inp(h) + rows) * scale, the rows scaled above
        inp_weight = node("Mul", [inp_weight, scale], "inp.scaled")
    states = node("Reshape", [node("Transpose", [HEAD_INPUT], "hidden_t", perm=[0, 2, 1]),
                              constant("states_shape", np.array([-1, hidden_width], np.int64))], "states")
    units = node("Gemm", [states, inp_weight, total], "units")
    if weights.out_weight is not None:
        units = node("Gemm", [node("Relu", [units], "relu"), constant("out.weight", weights.out_weight.astype(np.float32)),
                              constant("out.bias", weights.out_bias.astype(np.float32))], "tag_scores")
    shape = node("Concat", [node("Shape", [CHARS_INPUT], "ids_shape"), constant("last", np.array([-1], np.int64))],
                 "pos_shape", axis=0)
    node("Reshape", [units, shape], POS_OUTPUT)
    int_ids = ["batch", "length"]
    graph = helper.make_graph(
        nodes, "pos_head",
        [helper.make_tensor_value_info(HEAD_INPUT, TensorProto.FLOAT, ["batch", hidden_width, "length"]),
         helper.make_tensor_value_info(CHARS_INPUT, TensorProto.INT64, int_ids),
         helper.make_tensor_value_info(BIGRAM_INPUT, TensorProto.INT64, int_ids)],
        [helper.make_tensor_value_info(POS_OUTPUT, TensorProto.FLOAT, ["batch", "length", units_width(weights)])],
        initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model)
    return model


def units_width(weights: HeadWeights) -> int:
    return weights.inp_weight.shape[1] if weights.out_weight is None else weights.out_weight.shape[1]


def _shifted(node, constant, ids: str, offset: int, axis: str, k: int) -> str:
    """ids (batch, length) moved so position i holds the id at i + offset,
    PAD (0) past either end of the row (training/pos.py shifted)."""
    if offset == 0:
        return ids
    pads = constant(f"part{k}.pads", np.array([0, max(-offset, 0), 0, max(offset, 0)], np.int64))
    padded = node("Pad", [ids, pads], f"part{k}.padded")
    start = constant(f"part{k}.start", np.array([max(offset, 0)], np.int64))
    end = constant(f"part{k}.stop", np.array([offset if offset < 0 else np.iinfo(np.int64).max], np.int64))
    return node("Slice", [padded, start, end, axis], f"part{k}.ids")


def head_weights(model: onnx.ModelProto, chars: int, buckets: int, char_offsets, bigram_offsets) -> HeadWeights:
    """The weights of the head spliced into `model`: as head_graph lays them
    out, or as the torch export before it did (one int8 table, the inp
    MatMul after the hidden state's Transpose, the out MatMul after the ReLU)."""
    from onnx import numpy_helper

    branch = None
    for graph_node in model.graph.node:
        if graph_node.op_type == "If" and POS_OUTPUT in graph_node.output:
            branch = next(a.g for a in graph_node.attribute if a.name == "then_branch")
    if branch is None:
        raise ValueError("the graph has no part-of-speech head")
    values = {t.name[len(PREFIX):] if t.name.startswith(PREFIX) else t.name: numpy_helper.to_array(t)
              for t in branch.initializer}
    if "inp.weight" not in values:  # the torch export's layout
        producer = {out: n for n in branch.node for out in n.output}
        matmuls = [n for n in branch.node if n.op_type == "MatMul"]
        inp = next(n for n in matmuls if producer.get(n.input[0]) is not None
                   and producer[n.input[0]].op_type == "Transpose")
        out = [n for n in matmuls if n is not inp]
        values["inp.weight"] = numpy_helper.to_array(next(t for t in branch.initializer if t.name == inp.input[1]))
        if out:
            values["out.weight"] = numpy_helper.to_array(next(t for t in branch.initializer
                                                              if t.name == out[0].input[1]))
    weights = HeadWeights(values["table"], values["inp.weight"], values["inp.bias"], values.get("out.weight"),
                          values.get("out.bias"), values.get("scale"), chars, buckets, tuple(char_offsets),
                          tuple(bigram_offsets))
    weights.check()
    return weights
