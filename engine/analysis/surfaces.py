"""Optimizers racing on 2-D loss surfaces (slides 35-38; Dauphin et al. 2014, "Identifying and attacking the saddle
point problem in high-dimensional non-convex optimization", arXiv 1406.2572).

The tutorial's points: in high dimension most critical points are saddles, not local minima; Newton's method is
attracted to saddles (it rescales every direction by 1 / lambda, so a negative-curvature direction is followed
uphill towards the critical point); gradient descent is not attracted but slows down near them; saddle-free Newton
rescales by 1 / |lambda| and escapes.

Surfaces are formulas in x and y, parsed into a tree of whitelisted operations and evaluated with torch (float64),
never with eval(); gradients and Hessians come from autograd.
"""
import ast
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

MAX_FORMULA = 200
ESCAPE_RADIUS = 1e3          # a path that leaves this box has diverged; it stops there
FUNCTIONS = {"sin": torch.sin, "cos": torch.cos, "tanh": torch.tanh, "exp": torch.exp, "log": torch.log,
             "sqrt": torch.sqrt, "abs": torch.abs}
BINARY = {ast.Add: torch.add, ast.Sub: torch.sub, ast.Mult: torch.mul, ast.Div: torch.div, ast.Pow: torch.pow}


class FormulaError(ValueError):
    """A surface formula that cannot be used, with the reason in words."""


Surface = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def parse(text: str) -> Surface:
    """f(x, y) from a formula such as "x^2 - y^2" or "sin(x) * exp(-y^2)"; raises FormulaError otherwise."""
    text = text.strip()
    if not text:
        raise FormulaError("the formula is empty")
    if len(text) > MAX_FORMULA:
        raise FormulaError(f"the formula is longer than {MAX_FORMULA} characters")
    try:
        tree = ast.parse(text.replace("^", "**"), mode="eval").body
    except SyntaxError as e:
        raise FormulaError(f"not a formula: {e.msg} at character {e.offset}") from None
    _check(tree)
    probe = _evaluate(tree, torch.zeros(3, dtype=torch.float64), torch.linspace(-1, 1, 3, dtype=torch.float64))
    if probe.shape != (3,):
        raise FormulaError("the formula must give one number per point")
    return lambda x, y: _evaluate(tree, x, y)


def _check(node: ast.AST) -> None:
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        _check(node.left)
        _check(node.right)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        _check(node.operand)
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        pass
    elif isinstance(node, ast.Name) and node.id in ("x", "y"):
        pass
    elif isinstance(node, ast.Name) and node.id in ("pi", "e"):
        pass
    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
          and len(node.args) == 1 and not node.keywords):
        _check(node.args[0])
    else:
        allowed = "numbers, x, y, pi, e, + - * / ^ and " + ", ".join(FUNCTIONS)
        raise FormulaError(f"'{ast.unparse(node)}' is not allowed; use {allowed}")


def _evaluate(node: ast.AST, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if isinstance(node, ast.BinOp):
        return BINARY[type(node.op)](_evaluate(node.left, x, y), _evaluate(node.right, x, y))
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, x, y)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id](_evaluate(node.args[0], x, y))
    if isinstance(node, ast.Name):
        if node.id in ("x", "y"):
            return x if node.id == "x" else y
        return torch.full_like(x, math.pi if node.id == "pi" else math.e)
    return torch.full_like(x, float(node.value))      # a tensor, so 9 ** 9 ** 9 overflows to inf instead of hanging


@dataclass(frozen=True)
class Preset:
    formula: str
    lim: float                      # the view is [-lim, lim]^2
    start: tuple[float, float]
    note: str


SURFACES = {
    "saddle": Preset("x^2 - y^2", 2.0, (1.5, 0.001), "the plain saddle: curvature +2 along x, -2 along y"),
    "steep saddle": Preset("5*x^2 - y^2", 2.0, (1.0, 0.05), "steep along x, gently negative along y"),
    "monkey saddle": Preset("x^3 - 3*x*y^2", 2.0, (1.0, 0.1), "three valleys meet; the Hessian is zero at 0"),
    "rosenbrock": Preset("(1 - x)^2 + 100*(y - x^2)^2", 2.0, (-1.5, 1.8), "a curved valley, minimum at (1, 1)"),
    "minima and saddles": Preset("(x^2 - 1)^2 + (y^2 - 1)^2 + 0.3*x + 0.1*y", 2.0, (0.05, -0.1),
                                 "four local minima of different depths, four saddles and a maximum"),
}


def grad_hessian(f: Surface, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Value, gradient (2,) and Hessian (2, 2) of f at p (2,)."""
    def scalar(q):
        return f(q[0:1], q[1:2]).sum()
    p = p.detach().to(torch.float64)
    value = scalar(p)
    grad = torch.autograd.functional.jacobian(scalar, p)
    hess = torch.autograd.functional.hessian(scalar, p)
    return value.detach(), grad.detach(), hess.detach()


OPTIMIZERS = ("gradient descent", "momentum", "adam", "newton", "damped newton", "saddle-free newton")


@dataclass
class Path:
    optimizer: str
    points: torch.Tensor            # (K, 2), the start first
    values: torch.Tensor            # (K,) f along the path
    eigenvalues: torch.Tensor       # (K, 2) Hessian eigenvalues along the path, ascending
    gradients: torch.Tensor         # (K,) |grad f| along the path: where it dips, the optimizer crawls
    stopped: str                    # why it ended: "steps", "converged", "diverged"


def run(f: Surface, optimizer: str, start: tuple[float, float], steps: int, lr: float = 0.05,
        damping: float = 1.0) -> Path:
    """Follow `optimizer` from `start` for up to `steps` steps.

    lr is the step size of the first-order methods (momentum 0.9; Adam's betas 0.9, 0.999). Newton steps by
    -H^-1 g, damped Newton by -(H + damping I)^-1 g, saddle-free Newton by -|H|^-1 g with |H| = V |Lambda| V^T
    (eigenvalues below 1e-3 in size are raised to it).
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose from {', '.join(OPTIMIZERS)}")
    p = torch.tensor(start, dtype=torch.float64)
    velocity, m, v = torch.zeros(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    points, values, eigs, grads = [], [], [], []
    stopped = "steps"
    for t in range(1, steps + 2):
        value, g, h = grad_hessian(f, p)
        lam, vec = torch.linalg.eigh(h)
        points.append(p.clone())
        values.append(value)
        eigs.append(lam)
        grads.append(g.norm())
        if not (torch.isfinite(value) and torch.isfinite(g).all() and torch.isfinite(h).all()):
            stopped = "diverged"
            break
        if t == steps + 1:
            break
        if g.norm() < 1e-10:
            stopped = "converged"
            break
        if optimizer == "gradient descent":
            step = -lr * g
        elif optimizer == "momentum":
            velocity = 0.9 * velocity - lr * g
            step = velocity
        elif optimizer == "adam":
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            step = -lr * (m / (1 - 0.9 ** t)) / ((v / (1 - 0.999 ** t)).sqrt() + 1e-8)
        elif optimizer == "newton":
            step = -_solve(h, g)
        elif optimizer == "damped newton":
            step = -_solve(h + damping * torch.eye(2, dtype=torch.float64), g)
        else:
            size = lam.abs().clamp_min(1e-3)
            step = -(vec @ ((vec.T @ g) / size))
        p = p + step
        if not torch.isfinite(p).all() or p.abs().max() > ESCAPE_RADIUS:
            stopped = "diverged"
            break
    return Path(optimizer, torch.stack(points), torch.stack(values), torch.stack(eigs), torch.stack(grads), stopped)


def _solve(h: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """H^-1 g, or the least-squares step where H is singular."""
    return torch.linalg.lstsq(h, g.unsqueeze(1)).solution.squeeze(1)


def grid_values(f: Surface, lim: float, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Axis (n,), axis (n,) and f on the n x n grid over [-lim, lim]^2 (rows: y, columns: x)."""
    axis = torch.linspace(-lim, lim, n, dtype=torch.float64)
    gy, gx = torch.meshgrid(axis, axis, indexing="ij")
    with torch.no_grad():
        z = f(gx.reshape(-1), gy.reshape(-1)).reshape(n, n)
    return axis, axis, z


def saddle_claims(steps: int = 100) -> dict:
    """The tutorial's toy claims on x^2 - y^2 from the preset start (1.5, 0.001), near the saddle's stable axis.

    Newton lands on the saddle (0, 0), a point with a negative Hessian eigenvalue; saddle-free Newton leaves it
    along -y^2 and ends far below the saddle's value 0; gradient descent is not trapped, but its gradient (so its
    speed) falls by more than 10x near the saddle before it leaves.
    """
    preset = SURFACES["saddle"]
    f = parse(preset.formula)
    newton = run(f, "newton", preset.start, steps)
    free = run(f, "saddle-free newton", preset.start, steps)
    gd = run(f, "gradient descent", preset.start, steps, lr=0.05)
    speed = gd.gradients
    at_saddle = newton.points[-1].norm().item() < 1e-6 and newton.eigenvalues[-1].min().item() < 0
    return {"newton_ends_at_saddle": at_saddle,
            "newton_final": [round(v, 6) for v in newton.points[-1].tolist()],
            "saddle_free_newton_escapes": free.values[-1].item() < -1.0,
            "saddle_free_final_value": round(free.values[-1].item(), 3),
            "gradient_descent_slowdown": round((speed[0] / speed.min()).item(), 1),
            "gradient_descent_escapes": gd.values[-1].item() < -1.0}
