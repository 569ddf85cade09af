"""The tagging head's place in the ONNX graph: where the encoder's last hidden
state is, a graph that also outputs it (to compute the head's training
features with onnxruntime), and the head spliced in as the output ``pos``.

The segmentation part of the graph is never changed: its nodes, initialisers
and the ``scores`` output stay as they are, and the head only reads the
tensor the 4-score projection reads. So a model with the head cuts exactly
as the model without it (tests/test_pos_model.py holds the scores equal).
"""

from __future__ import annotations

import onnx
from onnx import helper

from ..model import POS_OUTPUT, WITH_POS_INPUT

SCORES_OUTPUT = "scores"
HIDDEN_OUTPUT = "hidden"  # the extraction graph's extra output: (batch, length, hidden)
HEAD_INPUT = "hidden"  # the exported head's input: (batch, hidden, length), as the projection reads it
PREFIX = "pos/"  # the head's node and tensor names in the spliced graph


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

