"""Depth: exact and grid counts of a ReLU net's linear regions, back-prop on flow graphs, the playground's data
sets, the live network and the registered study (Montufar et al. 2014)."""
import math

import numpy as np
import pytest
import torch

from engine import registry
from engine.analysis import flowgraph, regions
from engine.analysis.flowgraph import FormulaError, check_formula, explain, parse, relative_error, to_dot
from engine.analysis.regions import UNIT_SQUARE, exact_count, exact_regions, grid_count, montufar_bound, shallow_max
from engine.data import DataError, playground
from engine.models import depth
from engine.models.depth import BOX, LiveNet, Setup, parameter_count, study_names, study_widths

BIG = (-6.0, 6.0, -6.0, 6.0)


def layer(rows, biases):
    return np.array(rows, dtype=np.float64), np.array(biases, dtype=np.float64)


def tangent_lines(n, radius=1.0):
    """One ReLU per line n_k . x = radius, tangent to a circle round the origin at angles spread over half a turn:
    no two parallel, no three through one point, every pair meeting within radius / sin(pi / 2n) of the origin."""
    angles = np.pi * np.arange(n) / n
    return layer(np.stack([np.cos(angles), np.sin(angles)], 1), np.full(n, -radius))


def random_layers(widths, seed):
    g = np.random.default_rng(seed)
    out, inputs = [], 2
    for w in widths:
        out.append((g.normal(size=(w, inputs)), 2 * g.normal(size=w)))
        inputs = w
    return out


def edge_turns(poly):
    """Cross product of each pair of consecutive edges: all >= 0 for a convex counter-clockwise polygon."""
    edges = np.roll(poly, -1, 0) - poly
    following = np.roll(edges, -1, 0)
    return edges[:, 0] * following[:, 1] - edges[:, 1] * following[:, 0]


def inside(poly, points):
    """Which points lie strictly inside the convex counter-clockwise polygon."""
    edges = np.roll(poly, -1, 0) - poly
    keep = np.linalg.norm(edges, axis=1) > 1e-12                 # clipping can repeat a vertex
    a, e = poly[keep], edges[keep]
    rel = points[:, None, :] - a[None]
    return ((e[None, :, 0] * rel[..., 1] - e[None, :, 1] * rel[..., 0]) > 0).all(1)


def pattern_at(layers, point):
    return tuple(bool(v) for v in np.concatenate([z[0] > 0 for z in regions.forward_patterns(layers, point[None])]))


# ---- counting regions --------------------------------------------------------------------------------------


@pytest.mark.parametrize("bias, expected", [(0.5, 2), (-11.0, 2), (-13.0, 1), (13.0, 1)])
def test_one_unit_cuts_the_box_only_where_its_line_crosses_it(bias, expected):
    layers = [layer([[1.0, 1.0]], [bias])]               # the line x + y = -bias crosses [-6, 6]^2 for |bias| < 12
    assert exact_count(layers, BIG) == expected
    assert grid_count(layers, BIG, size=50) == expected


def test_two_crossing_lines_make_four_regions():
    layers = [layer([[1.0, 0.0], [0.0, 1.0]], [-1.0, 2.0])]
    assert exact_count(layers, BIG) == 4
    assert grid_count(layers, BIG, size=50) == 4


@pytest.mark.parametrize("n", [3, 4, 5, 6])
def test_lines_in_general_position_reach_the_shallow_maximum(n):
    layers = [tangent_lines(n)]
    assert 1 / math.sin(math.pi / (2 * n)) < 6                   # every crossing lies inside the box
    assert shallow_max(n) == 1 + n + n * (n - 1) // 2
    assert exact_count(layers, BIG) == shallow_max(n)
    assert grid_count(layers, BIG, size=300) == shallow_max(n)


@pytest.mark.parametrize("n", [1, 3, 6])
def test_parallel_lines_make_one_more_region_than_lines(n):
    offsets = np.linspace(-5, 5, n + 2)[1:-1]
    signs = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)               # facing either way: still parallel
    layers = [layer(np.stack([signs, np.zeros(n)], 1), -signs * offsets)]
    assert exact_count(layers, BIG) == n + 1
    assert grid_count(layers, BIG, size=100) == n + 1


@pytest.mark.parametrize("d", [1, 2, 3])
def test_zigzag_folds_the_unit_square_into_nine_to_the_depth_squares(d):
    layers = regions.zigzag_layers(d)
    assert [w.shape for w, _ in layers] == [(6, 2)] + [(6, 6)] * (d - 1)
    assert exact_count(layers, UNIT_SQUARE) == 9 ** d
    assert grid_count(layers, UNIT_SQUARE, size=135) == 9 ** d          # 5 x 5 cell centres in each 1/27 square
    assert 9 ** d > shallow_max(6 * d) or d == 1                         # deep beats the same units in one layer


def test_a_dead_second_layer_keeps_the_first_layers_regions():
    first = tangent_lines(4)
    dead = layer(np.zeros((3, 4)), [-1.0, -1.0, -1.0])
    alone, both = exact_regions([first], BIG), exact_regions([first, dead], BIG)
    assert len(both) == len(alone) == shallow_max(4)
    assert sorted(p + (False,) * 3 for _, p in alone) == sorted(p for _, p in both)
    assert grid_count([first, dead], BIG, size=200) == shallow_max(4)


def test_a_unit_that_is_zero_on_a_whole_piece_does_not_split_it():
    layers = [layer([[1.0, 0.0]], [0.0]), layer([[1.0]], [0.0])]     # relu(relu(x)): x > 0 and x < 0
    assert exact_count(layers, (-1.0, 1.0, -1.0, 1.0)) == 2
    wide = exact_regions(regions.zigzag_layers(2), (-1.0, 2.0, -1.0, 2.0))   # zero biases, units off outside [0, 1]
    assert sum(regions._area(poly) for poly, _ in wide) == pytest.approx(9.0)
    assert len(wide) == grid_count(regions.zigzag_layers(2), (-1.0, 2.0, -1.0, 2.0), size=300)


@pytest.mark.parametrize("widths", [[3], [3, 3], [4, 2]])
@pytest.mark.parametrize("seed", range(6))
def test_the_grid_count_agrees_with_the_exact_enumeration(widths, seed):
    layers = random_layers(widths, seed)
    found = exact_regions(layers, BIG)
    size = 400
    cell = (12 / size) ** 2
    on_grid = grid_count(layers, BIG, size=size)
    # The grid sees only the patterns at cell centres, so it can only miss regions, never invent them; on these nets
    # it misses at most 2, slivers narrower than a cell (the largest missed one has 0.9 of a cell's area).
    assert on_grid <= len(found) <= on_grid + 2
    centres = regions.grid(BIG, size)
    on = np.concatenate([z > 0 for z in regions.forward_patterns(layers, centres)], 1)
    codes = np.unique(on @ (1 << np.arange(on.shape[1])))            # each pattern as one integer
    seen = {tuple(bool(code >> u & 1) for u in range(on.shape[1])) for code in codes}
    assert len(seen) == on_grid
    patterns = [pattern for _, pattern in found]
    assert len(set(patterns)) == len(found) and seen <= set(patterns)     # one region per pattern; none invented
    total = 0.0
    for poly, pattern in found:
        area = regions._area(poly)
        assert area > 0 and (edge_turns(poly) >= -1e-9).all()          # convex, counter-clockwise, not empty
        assert pattern_at(layers, poly.mean(0)) == pattern            # the enumerator's pattern holds inside
        total += area
        if pattern not in seen:                                     # missed: no cell centre falls inside it
            assert area < cell and not inside(poly, centres).any(), (pattern, area)
    assert abs(total - 144) < 1e-6 * 144                            # the regions tile the box


def test_exact_regions_refuses_past_its_limit():
    with pytest.raises(ValueError, match="more than 10"):
        exact_regions([tangent_lines(6)], BIG, limit=10)


@pytest.mark.parametrize("widths, expected", [([24], 301), ([12, 12], 2844), ([8, 8, 8], 9472), ([6, 6, 6, 6], 16038)])
def test_montufar_bound_known_values(widths, expected):
    by_hand = math.prod((n // 2) ** 2 for n in widths[:-1]) * sum(math.comb(widths[-1], j) for j in range(3))
    assert montufar_bound(widths) == by_hand == expected


def test_the_bound_beats_one_layer_of_the_same_units_from_depth_two_on():
    assert montufar_bound([6]) == shallow_max(6) == 22
    for d in range(2, 6):
        assert montufar_bound([6] * d) > shallow_max(6 * d), d
    assert [shallow_max(n) for n in (0, 1, 2, 3)] == [1, 2, 4, 7]
    assert shallow_max(4, inputs=1) == 5                            # 4 points cut a line into 5 pieces


# ---- back-propagation on flow graphs ----------------------------------------------------------------------


@pytest.mark.parametrize("text, values", [
    ("tanh(w*x + b)", {"w": 0.7, "x": -1.3, "b": 0.2}),
    ("0.5*(sigmoid(w*x+b)-y)**2", {"w": -0.4, "x": 2.0, "b": 0.3, "y": 1.0}),
    ("x*y + sin(x)/exp(y)", {"x": 1.1, "y": -0.6}),
    ("log(x**2+1)", {"x": 0.8}),
    ("relu(x) - relu(-x)", {"x": 0.9}),
    ("relu(x) - relu(-x)", {"x": -1.7}),
    ("x^3", {"x": -1.5}),
    ("x*x + x/(1 + x**2) - cos(x)*sqrt(x)", {"x": 1.9}),
    ("-a^-2 + 3*a*b - b/a", {"a": 0.6, "b": 2.5}),
])
def test_backprop_agrees_with_autograd_and_finite_differences(text, values):
    graph, checks = check_formula(text, values)
    assert sorted(c.name for c in checks) == sorted(values)
    for c in checks:
        assert c.error_autograd <= 1e-10, c
        assert c.error_finite_difference <= 1e-5, c
        assert abs(c.backprop) > 1e-3, c                            # a real gradient, not 0 == 0
    assert graph.gradients() == {c.name: c.backprop for c in checks}


def test_a_reused_variable_sums_its_paths():
    graph, _ = check_formula("x*x*x + 2*x", {"x": 2.0})
    assert graph.nodes[-1].value == 12.0
    assert graph.gradients()["x"] == pytest.approx(3 * 4 + 2, rel=1e-12)
    x = graph.nodes[graph.variables["x"]]
    assert len(x.terms) == 4                                        # four uses of the one x node


def test_the_chain_rule_by_hand_on_w_times_x():
    graph, checks = check_formula("w*x", {"w": 3.0, "x": 2.0})
    assert graph.gradients() == {"w": 2.0, "x": 3.0}
    assert {c.name: c.autograd for c in checks} == {"w": 2.0, "x": 3.0}
    n = len(graph.nodes)
    assert n == 3
    assert "Nothing computed" in explain(graph, 0)
    assert explain(graph, 3).startswith("Forward 3/3: * = 6 from w = 3, x = 2")
    assert "an input" in explain(graph, 1)
    assert "where the backward pass starts" in explain(graph, n + 1)
    assert explain(graph, n + 2).endswith("of dL/dchild x dchild/dx = 1 x 3 = 3")
    assert explain(graph, n + 3).endswith("of dL/dchild x dchild/dw = 1 x 2 = 2")


def test_the_dot_drawing_shows_values_after_the_forward_pass_and_gradients_after_the_backward():
    graph, _ = check_formula("w*x", {"w": 3.0, "x": 2.0})
    n = len(graph.nodes)
    start, forward, backward = to_dot(graph, 0), to_dot(graph, n), to_dot(graph, 2 * n)
    assert "= " not in start and "grad" not in start
    for value in ("w\\n= 3", "x\\n= 2", "*\\n= 6"):
        assert value in forward
    assert "grad" not in forward
    for gradient in ("= 3\\ngrad 2", "= 2\\ngrad 3", "= 6\\ngrad 1"):
        assert gradient in backward
    assert to_dot(graph, 1).count("= ") == 1 and to_dot(graph, n + 1).count("grad ") == 1
    assert start.count("->") == 2                                   # w -> *, x -> *


def test_relative_error():
    assert relative_error(1.0, 1.0) == 0.0 and relative_error(0.0, 0.0) == 0.0
    assert relative_error(2.0, 1.0) == 0.5 and relative_error(-1.0, 1.0) == 2.0
    assert relative_error(1e-13, 0.0) == pytest.approx(0.1)           # below 1e-12 the error is absolute


@pytest.mark.parametrize("text, word", [
    ("__import__('os')", "unknown function"),
    ("x.real", "attribute is not allowed"),
    ("().__class__", "attribute is not allowed"),
    ("x.y.z + 1", "attribute is not allowed"),
    ("x[0]", "subscript is not allowed"),
    ("lambda: x", "lambda is not allowed"),
    ("[x for x in y]", "listcomp is not allowed"),
    ("x if x else 1", "ifexp is not allowed"),
    ("x < 1", "compare is not allowed"),
    ("x == y", "compare is not allowed"),
    ("x**y", "exponent must be a plain number"),
    ("x**(1+1)", "exponent must be a plain number"),
    ("2**1000", "exponents are limited"),
    ("x**100", "exponents are limited"),
    ("x" * 10_000, "at most 300"),
    ("", "type a formula"),
    ("   ", "type a formula"),
    ("(x + 1", "not a formula"),
    ("x + 1)", "not a formula"),
    ("'a'", "numbers must be real"),
    ("x + 'a'", "numbers must be real"),
    ("1j * x", "numbers must be real"),
    ("True * x", "numbers must be real"),
    ("x * 1e7", "numbers must be real and at most"),
    ("exp(x=1)", "takes one argument"),
    ("exp(x, 2)", "takes one argument"),
    ("exp()", "takes one argument"),
    ("f(x)", "unknown function"),
    ("x.exp(1)", "unknown function"),
    ("_x + 1", "is not a variable name"),
    ("__builtins__", "is not a variable name"),
    ("exp + 1", "is not a variable name"),
    ("(y := 2)", "namedexpr is not allowed"),
    ("x % 2", "operator Mod is not allowed"),
    ("x // 2", "operator FloorDiv is not allowed"),
    ("~x", r"only - and \+ may stand"),
    ("not x", r"only - and \+ may stand"),
    ("2 + 3", "no variable"),
    ("x+" * 90 + "x", "more than 80 nodes"),
    ("-" * 200 + "x", "more than 80 nodes"),
])
def test_the_parser_refuses_anything_but_arithmetic(text, word):
    with pytest.raises(FormulaError, match=word):
        parse(text)


@pytest.mark.parametrize("text, values, word", [
    ("log(x)", {"x": -1.0}, "log needs a positive number"),
    ("x + sqrt(-1)", {"x": 1.0}, "sqrt needs a positive number"),
    ("1/x", {"x": 0.0}, "division by zero"),
    ("exp(exp(exp(x)))", {"x": 10.0}, "overflows"),
    ("x**0.5", {"x": -4.0}, "undefined"),
    ("x**-1", {"x": 0.0}, "undefined"),
    ("x*y", {"x": 1.0}, "give a value to y"),
])
def test_domain_problems_at_evaluation_are_formula_errors(text, values, word):
    with pytest.raises(FormulaError, match=word):
        check_formula(text, values)


def test_names_are_variables_unless_called_and_caret_is_power():
    parse("exp(x) + x")                                 # a name like exp is a function only when called
    assert set(parse("a*b + a").variables) == {"a", "b"}
    assert [n.op for n in parse("x^2").nodes] == ["var", "^"]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_the_network_graph_backprops_like_autograd(activation):
    net = LiveNet(Setup(layers=(3, 2), activation=activation, features=("x1", "x2", "x1*x2")))
    live = 0
    for index in (0, 7, 42):
        graph, checks = net.gradient_check(index)
        assert len(checks) == (3 * 3 + 3) + (2 * 3 + 2) + (2 + 1)
        assert graph.nodes[-1].op == "loss"
        for c in checks:
            assert c.error_autograd <= 1e-10, (index, c)
            assert c.error_finite_difference <= 1e-5, (index, c)
        live += sum(abs(c.backprop) > 1e-3 for c in checks)
        loss = 0.5 * (net.net(net.f_train[index:index + 1])[0].item() - net.y_train[index].item()) ** 2
        assert graph.nodes[-1].value == pytest.approx(loss, rel=1e-5)
    assert live >= 15                                               # the comparisons compare real gradients


def test_weight_gradients_of_the_graph_have_the_layer_shapes():
    net = LiveNet(Setup(layers=(4, 3, 2), activation="linear"))
    grads = flowgraph.weight_gradients(net.flow_graph(3))
    assert [(dw.shape, db.shape) for dw, db in grads] == [((4, 2), (4,)), ((3, 4), (3,)), ((2, 3), (2,)), ((1, 2), (1,))]
    for (dw, db), (aw, ab) in zip(grads, net.autograd(3)):
        np.testing.assert_allclose(dw, aw, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(db, ab, rtol=1e-10, atol=1e-14)


# ---- the playground's data ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(playground.GENERATORS))
def test_every_data_set_is_drawn_from_its_seed(name):
    x, y = playground.make(name, 200, 0.1, seed=3)
    again, y_again = playground.make(name, 200, 0.1, seed=3)
    other, _ = playground.make(name, 200, 0.1, seed=4)
    assert x.shape == (200, 2) and y.shape == (200,) and x.dtype == y.dtype == np.float32
    assert np.array_equal(x, again) and np.array_equal(y, y_again)
    assert not np.allclose(x, other)


@pytest.mark.parametrize("name", list(playground.GENERATORS))
@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_points_and_labels_stay_in_range(name, noise):
    x, y = playground.make(name, 301, noise, seed=0)
    assert np.abs(x).max() <= playground.EXTENT
    if name in playground.CLASSIFY:
        assert set(np.unique(y).tolist()) == {-1.0, 1.0}
        assert abs(int((y > 0).sum()) - 150) <= (30 if name == "xor" else 0)   # xor's labels follow random points
    else:
        assert name in playground.REGRESS
        assert np.abs(y).max() <= 1 and np.std(y) > 0.05


def test_the_names_split_into_classification_and_regression():
    assert set(playground.CLASSIFY) | set(playground.REGRESS) == set(playground.GENERATORS)
    assert not set(playground.CLASSIFY) & set(playground.REGRESS)
    with pytest.raises(DataError, match="unknown data set 'swirl'"):
        playground.make("swirl", 10, 0.0, 0)


@pytest.mark.parametrize("n, share, train", [(100, 0.5, 50), (10, 0.7, 7), (10, 0.0, 1), (10, 1.0, 9)])
def test_split_is_disjoint_and_follows_the_share(n, share, train):
    x = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
    y = np.arange(n, dtype=np.float32)
    xtr, ytr, xte, yte = playground.split(x, y, share, seed=1)
    assert len(xtr) == len(ytr) == train and len(xte) == len(yte) == n - train
    assert not set(ytr.tolist()) & set(yte.tolist())
    assert sorted(ytr.tolist() + yte.tolist()) == y.tolist()
    assert np.array_equal(xtr[:, 0], 2 * ytr)                       # points keep their labels
    again = playground.split(x, y, share, seed=1)
    assert np.array_equal(again[1], ytr)


def test_parse_points_reads_a_header_and_zero_as_minus_one():
    x, y = playground.parse_points("x1,x2,label\n1,2,1\n-3,0.5,0\n\n6,-6,-1\n0,0,1\n", regression=False)
    np.testing.assert_array_equal(x, [[1, 2], [-3, 0.5], [6, -6], [0, 0]])
    np.testing.assert_array_equal(y, [1, -1, -1, 1])
    _, values = playground.parse_points("1,2,0.25\n-3,0.5,0\n6,-6,-1\n0,0,1\n", regression=True)
    np.testing.assert_array_equal(values, [0.25, 0, -1, 1])


@pytest.mark.parametrize("name", ["spiral", "bumps"])
def test_to_csv_round_trips_through_parse_points(name):
    x, y = playground.make(name, 120, 0.2, seed=5)
    text = playground.to_csv(x, y)
    assert text.startswith("x1,x2,label\n")
    back_x, back_y = playground.parse_points(text, regression=name in playground.REGRESS)
    np.testing.assert_allclose(back_x, x, atol=5.1e-5, rtol=0)          # four decimals
    np.testing.assert_allclose(back_y, y, atol=5e-6 if name == "bumps" else 0, rtol=1e-5)


def rows(n, label="1"):
    return "\n".join(f"{i % 5},{-(i % 3)},{label if i else -1}" for i in range(n))


@pytest.mark.parametrize("text, regression, word", [
    ("1,1,1\n2,2,-1\n3,3,1", False, "at least 4 points"),
    ("x1,x2,label\n1,1,1\n2,2,-1\n3,3,1\n", False, "at least 4 points"),
    (rows(playground.MAX_POINTS + 1), False, "2,001 points; at most 2,000"),
    (rows(4) + "\n1,b,1", False, "row 5 is '1,b,1': expected three numbers"),
    (rows(4) + "\n1,1", False, "expected three numbers"),
    (rows(4) + "\n1,1,1,1", False, "expected three numbers"),
    (rows(4) + "\nnan,1,1", False, "not a finite number"),
    (rows(4) + "\n1,inf,1", False, "not a finite number"),
    (rows(4) + "\n6.5,1,1", False, r"must lie in \[-6, 6\]"),
    (rows(4) + "\n1,-7,1", False, r"must lie in \[-6, 6\]"),
    (rows(4) + "\n1,1,2", False, "class labels must be -1 or 1"),
    (rows(4) + "\n1,1,0.5", False, "class labels must be -1 or 1"),
    (rows(4) + "\n1,1,1.5", True, r"regression labels must lie in \[-1, 1\]"),
    ("1,1,1\n2,2,1\n3,3,1\n4,4,1\n", False, "both classes"),
    ("1,1,0\n2,2,-1\n3,3,0\n4,4,-1\n", False, "both classes"),
    ("1,1,1\n" * 40_000, False, "at most 200,000 are read"),
])
def test_parse_points_refuses_bad_files(text, regression, word):
    with pytest.raises(DataError, match=word):
        playground.parse_points(text, regression)


def test_parse_points_accepts_exactly_the_limits():
    x, _ = playground.parse_points(rows(playground.MAX_POINTS), regression=False)
    assert len(x) == playground.MAX_POINTS
    x, y = playground.parse_points("6,-6,1\n-6,6,-1\n0,0,1\n1,1,-1\n", regression=True)
    assert np.abs(x).max() == 6 and y.tolist() == [1, -1, 1, -1]


# ---- the live network ---------------------------------------------------------------------------------------


def test_the_same_setup_gives_the_same_network_and_the_same_training():
    setup = Setup(dataset="spiral", noise=0.1, layers=(5, 3), activation="relu", seed=7)
    a, b = LiveNet(setup), LiveNet(setup)
    for p, q in zip(a.net.parameters(), b.net.parameters()):
        assert torch.equal(p, q)
    assert torch.equal(a.x_train, b.x_train)
    for _ in range(30):
        a.step()
        b.step()
    assert a.history == b.history and len(a.history) == 31 and a.steps == 30
    assert a.history[-1][1] != a.history[0][1]
    other = LiveNet(Setup(dataset="spiral", noise=0.1, layers=(5, 3), activation="relu", seed=8))
    assert not torch.equal(other.net.linears[0].weight, a.net.linears[0].weight)


def test_training_on_two_gaussians_learns_them():
    net = LiveNet(Setup(dataset="gauss", activation="tanh", lr=0.03))
    start = net.history[0][1]
    net.step(300)
    assert net.history[-1][0] == 300 and net.epoch == 300 * 10 / 250
    assert net.history[-1][1] < 0.5 * start
    assert net.accuracy()[1] > 0.9


def test_l1_drives_first_layer_weights_towards_zero():
    plain = LiveNet(Setup(dataset="gauss", activation="tanh"))
    sparse = LiveNet(Setup(dataset="gauss", activation="tanh", regularization="L1", reg_rate=0.1))
    assert torch.equal(plain.net.linears[0].weight, sparse.net.linears[0].weight)
    plain.step(300)
    sparse.step(300)
    w_plain = plain.net.linears[0].weight.detach().abs()
    w_sparse = sparse.net.linears[0].weight.detach().abs()
    assert w_sparse.sum() < 0.5 * w_plain.sum()
    assert (w_sparse < 0.1).sum() >= 5 > (w_plain < 0.1).sum()      # most of the 8 weights near 0, against 2 at most


def test_a_diverging_run_stops_with_a_clear_error():
    net = LiveNet(Setup(dataset="plane", problem="regression", activation="linear", lr=10.0, layers=(8, 8, 8)))
    with pytest.raises(FloatingPointError, match="learning rate"):
        for _ in range(50):
            net.step()
    assert 1 <= net.steps < 50


@pytest.mark.parametrize("changes, word", [
    ({"layers": (2,) * 7}, "0-6 hidden layers"),
    ({"layers": (9,)}, "1-8 units"),
    ({"layers": (4, 0)}, "1-8 units"),
    ({"features": ("x3",)}, "known input feature"),
    ({"features": ()}, "known input feature"),
    ({"activation": "softplus"}, "unknown activation"),
    ({"regularization": "L3"}, "unknown activation or regularization"),
    ({"dataset": "swirl"}, "unknown data set"),
])
def test_setup_check_refuses_bad_settings(changes, word):
    with pytest.raises(ValueError, match=word):
        LiveNet(Setup(**changes))


def test_a_custom_data_set_needs_its_points():
    with pytest.raises(ValueError, match="needs its points"):
        LiveNet(Setup(dataset="custom"))
    x, y = playground.parse_points(rows(20), regression=False)
    net = LiveNet(Setup(dataset="custom", train_share=0.75), points=(x, y))
    assert len(net.x_train) == 15 and len(net.x_test) == 5


def test_on_grid_gives_feature_and_unit_maps():
    net = LiveNet(Setup(features=("x1", "x2", "x1^2"), layers=(5, 3), activation="tanh"))
    inputs, acts = net.on_grid(12)
    assert inputs.shape == (3, 12, 12)
    assert [a.shape for a in acts] == [(5, 12, 12), (3, 12, 12), (1, 12, 12)]
    assert inputs[0, 0, 0] == pytest.approx(-5.5) and inputs[1, 0, 0] == pytest.approx(5.5)    # top left corner
    assert inputs[0, 0, -1] == pytest.approx(5.5) and inputs[1, -1, 0] == pytest.approx(-5.5)
    np.testing.assert_allclose(inputs[2], inputs[0] ** 2, rtol=1e-6)
    with torch.no_grad():
        out = net.net(torch.from_numpy(inputs.reshape(3, -1).T.copy())).numpy()
    np.testing.assert_allclose(acts[-1][0].ravel(), out, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("features", [("x1", "x2"), ("x2", "x1"), ("x1",)])
def test_the_region_map_is_the_grid_count_of_the_hidden_layers(features):
    net = LiveNet(Setup(dataset="spiral", layers=(6, 4), activation="relu", features=features, seed=2))
    assert net.piecewise_linear()
    ids, count = net.region_map(150)
    assert ids.shape == (150, 150) and ids.max() + 1 == count
    assert count == grid_count(net.hidden_layers_on_plane(), BOX, size=150)
    assert count > 1


def test_the_map_of_hidden_layers_on_the_plane_matches_the_network():
    net = LiveNet(Setup(layers=(6, 4), activation="relu", features=("x2", "x1"), seed=4))
    points = regions.grid(BOX, 20)
    zs = regions.forward_patterns(net.hidden_layers_on_plane(), points)
    with torch.no_grad():
        torch_zs = net.net.pre_activations(depth.features_of(torch.from_numpy(points).float(), net.setup.features))
    for z, t in zip(zs, torch_zs[:-1]):
        np.testing.assert_allclose(z, t.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("changes", [{"activation": "tanh"}, {"features": ("x1", "x2", "x1^2")}, {"layers": ()}])
def test_regions_are_counted_only_for_relu_on_the_coordinates(changes):
    net = LiveNet(Setup(**{"activation": "relu", **changes}))
    assert not net.piecewise_linear() and net.initial_layers is None


def test_initial_layers_hold_the_weights_before_training():
    net = LiveNet(Setup(dataset="xor", layers=(6, 6), activation="relu", lr=0.1, seed=1))
    before = exact_count(net.initial_layers, BOX)
    assert exact_count(net.hidden_layers_on_plane(), BOX) == before > 1
    first = net.initial_layers[0][0].copy()
    net.step(100)
    assert np.array_equal(net.initial_layers[0][0], first)
    assert not np.allclose(net.hidden_layers_on_plane()[0][0], first)


# ---- the registered study -----------------------------------------------------------------------------------


def test_the_equal_parameter_pairs():
    assert parameter_count((8, 8, 8)) == parameter_count((44,)) == 177
    assert parameter_count(()) == 3 and parameter_count((1,)) == 5 and parameter_count((2,), inputs=3) == 11
    spec = registry.get("depth")
    for preset in registry.PRESETS:
        config = spec.config(preset)
        assert parameter_count(config.deep) == parameter_count((config.shallow,)), preset
    tiny = spec.config("tiny")
    assert parameter_count(tiny.deep) == parameter_count((tiny.shallow,)) == 37


@pytest.mark.parametrize("preset", registry.PRESETS)
def test_every_depth_shares_the_same_hidden_units(preset):
    config = registry.get("depth").config(preset)
    names = study_names(config)
    assert len(names) == len(set(names)) == (len(config.depths) + 2) * config.seeds
    for name in names:
        widths = study_widths(config, name)
        if name.startswith("units"):
            assert sum(widths) == config.units and len(set(widths)) == 1, name
            assert len(widths) == int(name.split("_")[1][1:]), name
    assert {study_widths(config, f"units_d{d}_s0") for d in config.depths} == \
        {(config.units // d,) * d for d in config.depths}


def test_the_study_keeps_a_frozen_copy_of_the_initial_weights():
    spec = registry.get("depth")
    config = spec.config("tiny")
    model = spec.build(config)
    assert set(model.trained) == set(model.initial) == set(study_names(config))
    for name in model.trained:
        for p, q in zip(model.trained[name].parameters(), model.initial[name].parameters()):
            assert torch.equal(p, q) and p.requires_grad and not q.requires_grad
    assert [lin.weight.shape[0] for lin in model.trained["deep_s0"].linears] == [4, 4, 1]
    assert [lin.weight.shape[0] for lin in model.trained["shallow_s0"].linears] == [9, 1]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
@pytest.mark.parametrize("regularization", ["none", "L1", "L2"])
def test_the_written_out_sgd_step_is_autograds(activation, regularization):
    setup = depth.Setup(dataset="spiral", activation=activation, layers=(8, 6, 3), regularization=regularization,
                        reg_rate=0.01 if regularization != "none" else 0.0, lr=0.1, batch=7)
    net = depth.LiveNet(setup)
    reference = depth.Mlp(2, setup.layers, activation, "tanh")
    reference.load_state_dict(net.net.state_dict())
    idx = np.arange(7)
    loss = depth.half_squared_error(reference(net.f_train[idx]), net.y_train[idx])
    weights = [lin.weight for lin in reference.linears]
    if regularization == "L1":
        loss = loss + 0.01 * sum(w.abs().sum() for w in weights)
    elif regularization == "L2":
        loss = loss + 0.01 * sum(0.5 * (w ** 2).sum() for w in weights)
    loss.backward()
    with torch.no_grad():
        for p in reference.parameters():
            p -= 0.1 * p.grad
    written = depth.sgd_step(net.params, net.activations, net.f_np[idx], net.y_np[idx], setup)
    assert written == pytest.approx(loss.item(), rel=1e-5)
    moved = [float((a - b).abs().max()) for a, b in zip(net.net.state_dict().values(), reference.state_dict().values())]
    assert max(moved) < 1e-6
    assert any(float((a - b).abs().max()) > 1e-4 for a, b in zip(net.net.state_dict().values(),
                                                                depth.LiveNet(setup).net.state_dict().values()))
