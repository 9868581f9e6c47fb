"""Back-propagation on a flow graph (tutorial slides 43-57): forward in topological order, backward in reverse.

A `Graph` is a list of nodes in topological order; each node knows its parents and, once the forward pass has run,
the local derivative of its value with respect to each parent. The backward pass starts from dL/dL = 1 at the last
node and hands each parent  dL/dparent += dL/dnode * dnode/dparent,  keeping every such product so a page can show
the chain rule that made each gradient. Values are float64.

Graphs come from a formula a user types (`parse`: Python's own parser, then only arithmetic, numbers, variables
and known functions are let through; nothing is ever evaluated as code) or from a small network on one training
point (`network`). `check_formula` and `check_network` compare the graph's gradients with PyTorch's autograd and
with central finite differences.
"""
import ast
import math
from dataclasses import dataclass, field

import numpy as np
import torch

MAX_CHARS = 300
MAX_NODES = 80
MAX_EXPONENT = 10
MAX_CONSTANT = 1e6
FD_STEP = 1e-6


class FormulaError(ValueError):
    """A formula that is not allowed or cannot be evaluated, with a message for the user."""


def _sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


# name -> (value, derivative as a function of the input and the value, torch function)
FUNCTIONS = {
    "exp": (math.exp, lambda x, y: y, torch.exp),
    "log": (math.log, lambda x, y: 1 / x, torch.log),
    "sqrt": (math.sqrt, lambda x, y: 0.5 / y, torch.sqrt),
    "sin": (math.sin, lambda x, y: math.cos(x), torch.sin),
    "cos": (math.cos, lambda x, y: -math.sin(x), torch.cos),
    "tanh": (math.tanh, lambda x, y: 1 - y * y, torch.tanh),
    "sigmoid": (_sigmoid, lambda x, y: y * (1 - y), torch.sigmoid),
    "relu": (lambda x: max(x, 0.0), lambda x, y: float(x > 0), torch.relu),
}
DOMAIN = {"log": lambda x: x > 0, "sqrt": lambda x: x > 0}
BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "^"}


@dataclass
class Node:
    op: str                                   # "var", "const", "+", "-", "*", "/", "^", "neg", a function, "sum",
    parents: tuple[int, ...] = ()             # "loss"
    name: str = ""                            # a variable's or a unit's name
    const: float = 0.0                        # a constant's value, or the exponent of "^"
    weights: np.ndarray | None = None         # "sum": value = weights . parents + bias
    bias: float = 0.0
    target: float = 0.0                       # "loss": 0.5 (parent - target)^2
    value: float = 0.0
    local: tuple[float, ...] = ()             # d value / d parent, per parent
    grad: float = 0.0
    terms: list = field(default_factory=list)  # (child index, dL/dchild, dchild/dthis) summed into grad


@dataclass
class Graph:
    nodes: list[Node]
    variables: dict[str, int]                 # variable name -> node index

    def forward(self, values: dict[str, float]) -> float:
        """Every node's value and local derivatives, in topological order; the last node's value."""
        for node in self.nodes:
            p = [self.nodes[i].value for i in node.parents]
            node.value, node.local = _apply(node, p, values)
            if not math.isfinite(node.value):
                raise FormulaError(f"{label(node)} overflows or is undefined at these values")
        return self.nodes[-1].value

    def backward(self) -> None:
        """dL/d(node) for every node, from dL/dL = 1 at the last node, keeping each chain-rule product."""
        for node in self.nodes:
            node.grad, node.terms = 0.0, []
        self.nodes[-1].grad = 1.0
        for index in range(len(self.nodes) - 1, -1, -1):
            node = self.nodes[index]
            for parent, local in zip(node.parents, node.local):
                self.nodes[parent].grad += node.grad * local
                self.nodes[parent].terms.append((index, node.grad, local))

    def run(self, values: dict[str, float]) -> float:
        out = self.forward(values)
        self.backward()
        return out

    def gradients(self) -> dict[str, float]:
        return {name: self.nodes[i].grad for name, i in self.variables.items()}


def _apply(node: Node, p: list[float], values: dict[str, float]) -> tuple[float, tuple[float, ...]]:
    op = node.op
    try:
        if op == "var":
            return float(values[node.name]), ()
        if op == "const":
            return node.const, ()
        if op == "+":
            return p[0] + p[1], (1.0, 1.0)
        if op == "-":
            return p[0] - p[1], (1.0, -1.0)
        if op == "*":
            return p[0] * p[1], (p[1], p[0])
        if op == "/":
            if p[1] == 0:
                raise FormulaError(f"division by zero in {label(node)}")
            return p[0] / p[1], (1 / p[1], -p[0] / p[1] ** 2)
        if op == "^":
            k = node.const
            if p[0] == 0 and 0 < k < 1 or p[0] == 0 and k < 0 or p[0] < 0 and k != int(k):
                raise FormulaError(f"{p[0]:g} ^ {k:g} is undefined or has no derivative")
            return p[0] ** k, (k * p[0] ** (k - 1) if k else 0.0,)
        if op == "neg":
            return -p[0], (-1.0,)
        if op == "sum":
            return float(node.weights @ np.array(p)) + node.bias, tuple(float(w) for w in node.weights)
        if op == "loss":
            return 0.5 * (p[0] - node.target) ** 2, (p[0] - node.target,)
        value_of, derivative, _ = FUNCTIONS[op]
        if op in DOMAIN and not DOMAIN[op](p[0]):
            raise FormulaError(f"{op} needs a positive number; it got {p[0]:g}")
        y = value_of(p[0])
        return y, (derivative(p[0], y),)
    except OverflowError:
        raise FormulaError(f"{label(node)} overflows at these values") from None


def label(node: Node) -> str:
    if node.op in ("var", "sum"):
        return node.name
    if node.op == "const":
        return f"{node.const:g}"
    if node.op == "^":
        return f"^{node.const:g}"
    return node.op


# ---------------------------------------------------------------- formulas

def _check(tree: ast.AST) -> None:
    """Refuse every syntax but numbers, variables, + - * / **, unary minus and calls of FUNCTIONS."""
    callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if id(node) in callees and isinstance(node, ast.Name):
            continue
        if isinstance(node, ast.Expression | ast.Load | ast.operator | ast.unaryop):
            if isinstance(node, ast.operator) and type(node) not in BINARY:
                raise FormulaError(f"the operator {type(node).__name__} is not allowed; use + - * / **")
            if isinstance(node, ast.unaryop) and not isinstance(node, ast.USub | ast.UAdd):
                raise FormulaError("only - and + may stand before a term")
        elif isinstance(node, ast.BinOp | ast.UnaryOp | ast.Name):
            if isinstance(node, ast.Name) and (node.id in FUNCTIONS or node.id.startswith("_")):
                raise FormulaError(f"{node.id!r} is not a variable name")
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
                exponent = _number(node.right)
                if exponent is None:
                    raise FormulaError("an exponent must be a plain number, as in x**2")
                if abs(exponent) > MAX_EXPONENT:
                    raise FormulaError(f"exponents are limited to +-{MAX_EXPONENT}")
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise FormulaError(f"unknown function; known: {', '.join(FUNCTIONS)}")
            if len(node.args) != 1 or node.keywords:
                raise FormulaError(f"{node.func.id} takes one argument")
        elif isinstance(node, ast.Constant):
            if type(node.value) not in (int, float) or abs(node.value) > MAX_CONSTANT:
                raise FormulaError(f"numbers must be real and at most {MAX_CONSTANT:g} in size")
        else:
            raise FormulaError(f"{type(node).__name__.lower()} is not allowed: only arithmetic, numbers, "
                               f"variables and {', '.join(FUNCTIONS)}")


def _number(node: ast.AST) -> float | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _number(node.operand)
        return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    return None


def _tree(text: str) -> ast.Expression:
    if not text.strip():
        raise FormulaError("type a formula, for example tanh(w*x + b)")
    if len(text) > MAX_CHARS:
        raise FormulaError(f"the formula has {len(text):,} characters; at most {MAX_CHARS} are allowed")
    try:
        tree = ast.parse(text.replace("^", "**"), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise FormulaError("this is not a formula: check the brackets and operators") from None
    _check(tree)
    return tree


def parse(text: str) -> Graph:
    """The flow graph of a formula (`^` and `**` both mean power). Raises FormulaError with a clear message."""
    tree = _tree(text)
    nodes: list[Node] = []
    variables: dict[str, int] = {}

    def add(node: Node) -> int:
        if len(nodes) >= MAX_NODES:
            raise FormulaError(f"the formula makes more than {MAX_NODES} nodes; write a shorter one")
        nodes.append(node)
        return len(nodes) - 1

    def visit(n: ast.AST) -> int:
        if isinstance(n, ast.Name):
            if n.id not in variables:
                variables[n.id] = add(Node("var", name=n.id))
            return variables[n.id]
        if isinstance(n, ast.Constant):
            return add(Node("const", const=float(n.value)))
        if isinstance(n, ast.UnaryOp):
            inner = visit(n.operand)
            return add(Node("neg", (inner,))) if isinstance(n.op, ast.USub) else inner
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow):
            return add(Node("^", (visit(n.left),), const=_number(n.right)))
        if isinstance(n, ast.BinOp):
            left, right = visit(n.left), visit(n.right)
            return add(Node(BINARY[type(n.op)], (left, right)))
        return add(Node(n.func.id, (visit(n.args[0]),)))

    visit(tree.body)
    if not variables:
        raise FormulaError("the formula has no variable to differentiate by")
    return Graph(nodes, variables)


def _torch_value(n: ast.AST, env: dict[str, torch.Tensor]) -> torch.Tensor:
    """The formula evaluated by walking its syntax tree with PyTorch's operations (independent of the graph)."""
    if isinstance(n, ast.Name):
        return env[n.id]
    if isinstance(n, ast.Constant):
        return torch.tensor(float(n.value), dtype=torch.float64)
    if isinstance(n, ast.UnaryOp):
        inner = _torch_value(n.operand, env)
        return -inner if isinstance(n.op, ast.USub) else inner
    if isinstance(n, ast.BinOp):
        left = _torch_value(n.left, env)
        if isinstance(n.op, ast.Pow):
            return left ** _number(n.right)
        right = _torch_value(n.right, env)
        return {ast.Add: torch.add, ast.Sub: torch.sub, ast.Mult: torch.mul, ast.Div: torch.div}[type(n.op)](left, right)
    return FUNCTIONS[n.func.id][2](_torch_value(n.args[0], env))


@dataclass(frozen=True)
class Check:
    name: str
    backprop: float
    autograd: float
    finite_difference: float

    @property
    def error_autograd(self) -> float:
        return relative_error(self.backprop, self.autograd)

    @property
    def error_finite_difference(self) -> float:
        return relative_error(self.backprop, self.finite_difference)


def relative_error(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-12)


def _finite_difference(f, x: float) -> float:
    h = FD_STEP * max(1.0, abs(x))
    return (f(x + h) - f(x - h)) / (2 * h)


def check_formula(text: str, values: dict[str, float]) -> tuple[Graph, list[Check]]:
    """The formula's graph run at `values`, and each variable's gradient: back-prop, autograd, finite difference."""
    graph = parse(text)
    missing = [v for v in graph.variables if v not in values]
    if missing:
        raise FormulaError(f"give a value to {', '.join(missing)}")
    graph.run(values)
    grads = graph.gradients()
    env = {v: torch.tensor(float(values[v]), dtype=torch.float64, requires_grad=True) for v in graph.variables}
    _torch_value(_tree(text).body, env).backward()
    checks = []
    for name in graph.variables:
        def at(x: float, name=name) -> float:
            return graph.forward({**values, name: x})
        fd = _finite_difference(at, float(values[name]))
        auto = env[name].grad
        checks.append(Check(name, grads[name], float(auto) if auto is not None else 0.0, fd))
    graph.run(values)                          # leave the graph at the point asked for
    return graph, checks


# ---------------------------------------------------------------- a network on one point

def network(layers: list[tuple[np.ndarray, np.ndarray]], activation: str, output: str, x: np.ndarray,
            target: float, names: list[str]) -> Graph:
    """The flow graph of a small network on one point: inputs x (named), per unit a weighted sum and its
    activation, the output unit and the loss 0.5 (output - target)^2. layers: (W, b) from input to output."""
    nodes = [Node("var", name=n) for n in names]
    variables = {n: i for i, n in enumerate(names)}
    previous = list(range(len(names)))
    for depth, (w, b) in enumerate(layers, start=1):
        last = depth == len(layers)
        current = []
        for j in range(len(b)):
            unit = "out" if last else f"h{depth}.{j + 1}"
            nodes.append(Node("sum", tuple(previous), name=f"z {unit}", weights=np.asarray(w[j], np.float64),
                              bias=float(b[j])))
            act = output if last else activation
            if act != "linear":
                nodes.append(Node(act, (len(nodes) - 1,), name=unit))
            current.append(len(nodes) - 1)
        previous = current
    nodes.append(Node("loss", (previous[0],), name="loss", target=float(target)))
    graph = Graph(nodes, variables)
    graph.run({n: float(v) for n, v in zip(names, x)})
    return graph


def weight_gradients(graph: Graph) -> list[tuple[np.ndarray, np.ndarray]]:
    """dL/dW and dL/db per layer from the node gradients: dL/dw_ji = dL/dz_j * (input i of z_j), dL/db_j = dL/dz_j."""
    out, layer = [], None
    for node in graph.nodes:
        if node.op != "sum":
            continue
        inputs = np.array([graph.nodes[p].value for p in node.parents])
        key = node.parents
        if layer is None or layer[0] != key:
            layer = (key, [], [])
            out.append(layer)
        layer[1].append(node.grad * inputs)
        layer[2].append(node.grad)
    return [(np.array(dw), np.array(db)) for _, dw, db in out]


def check_network(graph: Graph, autograd: list[tuple[np.ndarray, np.ndarray]]) -> list[Check]:
    """Each weight's and bias's gradient by back-prop on the graph, beside `autograd` (the same, computed by
    PyTorch on the real network) and a central finite difference of the graph's loss."""
    values = {name: graph.nodes[i].value for name, i in graph.variables.items()}
    sums = [n for n in graph.nodes if n.op == "sum"]
    backprop = weight_gradients(graph)
    checks, k = [], 0
    for depth, ((dw, db), (aw, ab)) in enumerate(zip(backprop, autograd), start=1):
        for j in range(dw.shape[0]):
            node = sums[k]
            k += 1
            for i in range(dw.shape[1]):
                def at(v: float, node=node, i=i) -> float:
                    old = node.weights[i]
                    node.weights[i] = v
                    try:
                        return graph.forward(values)
                    finally:
                        node.weights[i] = old
                fd = _finite_difference(at, float(node.weights[i]))
                checks.append(Check(f"w{depth}[{j + 1},{i + 1}]", float(dw[j, i]), float(aw[j, i]), fd))

            def at_bias(v: float, node=node) -> float:
                old = node.bias
                node.bias = v
                try:
                    return graph.forward(values)
                finally:
                    node.bias = old
            checks.append(Check(f"b{depth}[{j + 1}]", float(db[j]), float(ab[j]), _finite_difference(at_bias, node.bias)))
    graph.run(values)
    return checks


# ---------------------------------------------------------------- drawing

def to_dot(graph: Graph, step: int) -> str:
    """Graphviz source of the graph after `step` steps: steps 1..n run the forward pass node by node, n+1..2n the
    backward pass from the last node to the first. Done nodes show their value (and gradient), the current one is
    highlighted."""
    n = len(graph.nodes)
    forward_done = min(step, n)
    backward_done = max(0, step - n)
    current = step - 1 if step <= n else n - backward_done
    lines = ["digraph G {", "rankdir=LR;", 'node [shape=box, style="rounded,filled", fontname="Helvetica", '
             'fontsize=11, fillcolor="#f4f4f6", color="#9a9aa6"];', 'edge [color="#9a9aa6"];']
    for i, node in enumerate(graph.nodes):
        rows = [_short(node)]
        if i < forward_done:
            rows.append(f"= {node.value:.4g}")
        if i >= n - backward_done:
            rows.append(f"grad {node.grad:.4g}")
        colour = ""
        if i == current and step > 0:
            colour = ', fillcolor="#ffd166", color="#c98a00", penwidth=2' if step <= n else \
                ', fillcolor="#8ecae6", color="#1d6fa5", penwidth=2'
        elif i >= n - backward_done:
            colour = ', fillcolor="#dcefff"'
        elif i < forward_done:
            colour = ', fillcolor="#fff4d6"'
        lines.append(f'n{i} [label="{_escape(rows)}"{colour}];')
        for parent in node.parents:
            lines.append(f"n{parent} -> n{i};")
    lines.append("}")
    return "\n".join(lines)


def _escape(rows: list[str]) -> str:
    return "\\n".join(r.replace('"', "'") for r in rows)


def explain(graph: Graph, step: int) -> str:
    """One line on what the step computes: the node's value from its parents, or its gradient by the chain rule."""
    n = len(graph.nodes)
    if step <= 0:
        return "Nothing computed yet: step forward to evaluate the graph node by node."
    if step <= n:
        node = graph.nodes[step - 1]
        parents = ", ".join(f"{_short(graph.nodes[p])} = {graph.nodes[p].value:.4g}" for p in node.parents)
        head = f"Forward {step}/{n}: {_short(node)} = {node.value:.6g}"
        return head + (f" from {parents}" if parents else " (an input)")
    index = n - (step - n)
    node = graph.nodes[index]
    if index == n - 1:
        return f"Backward {step - n}/{n}: d{_short(node)}/d{_short(node)} = 1, where the backward pass starts."
    terms = " + ".join(f"{g:.4g} x {loc:.4g}" for _, g, loc in node.terms)
    via = ", ".join(_short(graph.nodes[c]) for c, _, _ in node.terms)
    return (f"Backward {step - n}/{n}: dL/d{_short(node)} = sum over its children ({via}) of dL/dchild x "
            f"dchild/d{_short(node)} = {terms} = {node.grad:.6g}")


def _short(node: Node) -> str:
    return node.name if node.op in ("var", "sum", "loss") or node.name else label(node)
