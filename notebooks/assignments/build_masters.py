"""Write the six master notebooks of the course assignments (otter-grader's "otter assign" format).

Each assignment is a list of questions; a question has a prompt, a solution cell (``# BEGIN/END SOLUTION`` blocks
or ``# SOLUTION`` lines, replaced by ``...`` in the student version), public tests (shipped to students) and
hidden tests (only in the autograder). Tests are exception-based: a function of the student's variables that
asserts with tolerances. Run ``python notebooks/assignments/build_masters.py`` after editing, then
``make assignments`` to generate the student and autograder versions.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent


@dataclass
class Question:
    name: str
    points: int
    prompt: str
    solution: str
    public: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)


def _dedent(s: str) -> str:
    return textwrap.dedent(s).strip("\n")


def _config(name: str) -> str:
    return _dedent(f"""
        # ASSIGNMENT CONFIG
        name: {name}
        init_cell: true
        check_all_cell: true
        export_cell: false
        solutions_pdf: false
        template_pdf: false
        run_tests: true
        generate:
          pdf: false
          show_stdout: true
          show_hidden: true
        tests:
          files: false
          ok_format: false
        """)


def _hidden_cell(body: str) -> str:
    return '""" # BEGIN TEST CONFIG\nhidden: true\n""" # END TEST CONFIG\n' + _dedent(body)


def build(name: str, title: str, intro: str, setup: str, questions: list[Question]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    cells = [nbformat.v4.new_raw_cell(_config(name)),
             nbformat.v4.new_markdown_cell(f"# {title}\n\n{_dedent(intro)}"),
             nbformat.v4.new_code_cell(_dedent(setup))]
    for q in questions:
        cells.append(nbformat.v4.new_raw_cell(f"# BEGIN QUESTION\nname: {q.name}\npoints: {q.points}"))
        cells.append(nbformat.v4.new_markdown_cell(_dedent(q.prompt)))
        cells.append(nbformat.v4.new_raw_cell("# BEGIN SOLUTION"))
        cells.append(nbformat.v4.new_code_cell(_dedent(q.solution)))
        cells.append(nbformat.v4.new_raw_cell("# END SOLUTION"))
        cells.append(nbformat.v4.new_raw_cell("# BEGIN TESTS"))
        cells += [nbformat.v4.new_code_cell(_dedent(t)) for t in q.public]
        cells += [nbformat.v4.new_code_cell(_hidden_cell(t)) for t in q.hidden]
        cells.append(nbformat.v4.new_raw_cell("# END TESTS"))
        cells.append(nbformat.v4.new_raw_cell("# END QUESTION"))
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


SETUP_HEAD = """
import numpy as np
np.set_printoptions(precision=4, suppress=True)
"""

# ----------------------------------------------------------------------------------------------------------------
A1 = dict(
    name="a1-langevin",
    title="Assignment 1: Scores and Langevin dynamics",
    intro="""
        Part I of the book (chapter 1). You will derive the score of a Gaussian, implement one step of the
        unadjusted Langevin algorithm (ULA), and predict the variance that ULA really samples.
        Run every cell from the top; `grader.check("q1")` runs the public tests of a question.
        """,
    setup=SETUP_HEAD + """
from convexscore import langevin, gaussian_ula_stationary_variance
from convexscore.datasets import Gaussian
rng = np.random.default_rng(0)
""",
    questions=[
        Question("q1", 2, r"""
            **Question 1 (derivation, implementation).** The score of a density $p$ is $\nabla_x \log p(x)$.
            Derive the score of $\mathcal N(\mu, v)$ (mean $\mu$, variance $v$) and implement it as
            `gaussian_score(x, mu, var)` for a NumPy array `x`.
            """, """
            def gaussian_score(x, mu, var):
                # BEGIN SOLUTION
                return -(np.asarray(x, dtype=float) - mu) / var
                # END SOLUTION
            """,
            public=["""
            def test_q1_shape(gaussian_score):
                import numpy as np
                out = gaussian_score(np.array([0.0, 1.0, 2.0]), 0.0, 1.0)
                assert np.shape(out) == (3,)
            test_q1_shape(gaussian_score)
            """],
            hidden=["""
            def test_q1_values(gaussian_score):
                import numpy as np
                from convexscore.datasets import Gaussian
                xs = np.linspace(-3, 3, 13)
                np.testing.assert_allclose(gaussian_score(xs, 1.5, 0.49), Gaussian(1.5, 0.7).score(xs), rtol=1e-10)
            test_q1_values(gaussian_score)
            """]),
        Question("q2", 2, r"""
            **Question 2 (implementation).** One ULA step with step size $\epsilon$ and standard normal draw $z$ is
            $x' = x + \tfrac{\epsilon}{2}\, s(x) + \sqrt{\epsilon}\, z$. Implement `ula_step(x, score, step, z)`.
            """, """
            def ula_step(x, score, step, z):
                # BEGIN SOLUTION
                return x + 0.5 * step * score(x) + np.sqrt(step) * z
                # END SOLUTION
            """,
            public=["""
            def test_q2_no_noise(ula_step, gaussian_score):
                import numpy as np
                x = np.array([2.0])
                out = ula_step(x, lambda y: gaussian_score(y, 0.0, 1.0), 0.1, np.zeros(1))
                assert np.shape(out) == (1,)
            test_q2_no_noise(ula_step, gaussian_score)
            """],
            hidden=["""
            def test_q2_matches_library(ula_step):
                import numpy as np
                from convexscore import langevin
                score = lambda y: -(y - 0.3) / 0.8
                x0 = np.linspace(-2, 2, 7)
                ref = langevin(score, x0, 0.05, 1, rng=11, fast=False).samples
                z = np.random.default_rng(11).standard_normal(x0.shape)
                np.testing.assert_allclose(ula_step(x0, score, 0.05, z), ref, rtol=1e-12, atol=1e-12)
            test_q2_matches_library(ula_step)
            """, """
            def test_q2_drift(ula_step):
                import numpy as np
                out = ula_step(np.array([2.0]), lambda y: -y, 0.1, np.zeros(1))
                np.testing.assert_allclose(out, [1.9], rtol=1e-12)
            test_q2_drift(ula_step)
            """]),
        Question("q3", 3, r"""
            **Question 3 (derivation answered numerically).** On the target $\mathcal N(0, 1)$ ULA is the AR(1)
            chain $x' = (1 - \epsilon/2)\,x + \sqrt\epsilon\, z$. Derive its stationary variance for $\epsilon = 0.5$
            and store it in `predicted_var`. Then run 2000 chains from 0 for 400 steps of your `ula_step` (use
            `rng` for the noise) and store the sample variance of the final states in `empirical_var`.
            """, """
            step = 0.5
            # BEGIN SOLUTION
            predicted_var = 1.0 / (1.0 - step / 4.0)
            x = np.zeros(2000)
            for _ in range(400):
                x = ula_step(x, lambda y: gaussian_score(y, 0.0, 1.0), step, rng.standard_normal(x.shape))
            empirical_var = float(np.var(x))
            # END SOLUTION
            print(round(predicted_var, 4), round(empirical_var, 4))
            """,
            public=["""
            def test_q3_types(predicted_var, empirical_var):
                assert float(predicted_var) > 0 and float(empirical_var) > 0
            test_q3_types(predicted_var, empirical_var)
            """],
            hidden=["""
            def test_q3_formula(predicted_var):
                from convexscore import gaussian_ula_stationary_variance
                assert abs(predicted_var - gaussian_ula_stationary_variance(1.0, 0.5)) < 1e-9
            test_q3_formula(predicted_var)
            """, """
            def test_q3_simulation(empirical_var):
                assert abs(empirical_var - 1.0 / (1.0 - 0.125)) < 0.15
            test_q3_simulation(empirical_var)
            """]),
        Question("q4", 2, r"""
            **Question 4 (interpretation).** For the target $\mathcal N(0, 0.25)$ the chain is
            $x' = (1 - \epsilon/(2v))\,x + \sqrt\epsilon\, z$ with $v = 0.25$. Above which step size does it diverge?
            Store the threshold in `max_stable_step`.
            """, """
            max_stable_step = 1.0  # SOLUTION
            """,
            public=["""
            def test_q4_type(max_stable_step):
                assert float(max_stable_step) > 0
            test_q4_type(max_stable_step)
            """],
            hidden=["""
            def test_q4_value(max_stable_step):
                assert abs(max_stable_step - 4 * 0.25) < 1e-9
            test_q4_value(max_stable_step)
            """]),
    ],
)

# ----------------------------------------------------------------------------------------------------------------
A2 = dict(
    name="a2-score-matching",
    title="Assignment 2: Score matching and its pitfalls",
    intro="""
        Part I (chapter 2). The score-matching objective of a network $f$ on data $x_1, \\dots, x_n$ is
        $\\sum_i [\\tfrac12 f(x_i)^2 + f'(x_i)] + \\tfrac\\beta2(\\|W_1\\|^2 + \\|W_2\\|^2)$ (a sum over samples,
        ReLU with $\\mathrm{relu}'(0) = 1$). You will minimise it over Gaussian scores by hand and show that it is
        unbounded below when the weight decay is too small.
        """,
    setup=SETUP_HEAD + """
from convexscore import TwoLayerNet, score_matching_loss, unboundedness_threshold, gaussian_skip_network
rng = np.random.default_rng(1)
x = np.sort(rng.normal(loc=1.0, scale=2.0, size=12))
n = x.size
""",
    questions=[
        Question("q1", 3, r"""
            **Question 1 (derivation answered numerically).** Restrict $f$ to linear scores
            $f(x) = -(x - m)/v$ (no neurons, so no weight decay). Minimise the objective over $m$ and $v > 0$ by
            hand. Store the minimisers in `m_star`, `v_star` and the minimal objective in `loss_star`
            (computed from your formulas, not by a numerical optimiser).
            """, """
            # BEGIN SOLUTION
            m_star = float(np.mean(x))
            v_star = float(np.mean((x - m_star) ** 2))
            loss_star = -n / (2 * v_star)
            # END SOLUTION
            print(round(m_star, 4), round(v_star, 4), round(loss_star, 4))
            """,
            public=["""
            def test_q1_positive(v_star):
                assert v_star > 0
            test_q1_positive(v_star)
            """],
            hidden=["""
            def test_q1_values(m_star, v_star, loss_star, x):
                import numpy as np
                from convexscore import gaussian_skip_network, score_matching_loss
                assert abs(m_star - x.mean()) < 1e-9
                assert abs(v_star - np.var(x)) < 1e-9
                assert abs(loss_star - score_matching_loss(gaussian_skip_network(x), x, 0.0)) < 1e-8
            test_q1_values(m_star, v_star, loss_star, x)
            """]),
        Question("q2", 3, r"""
            **Question 2 (implementation).** Build `ray_network(t)`: a one-neuron `TwoLayerNet` whose kink sits on
            the largest data point, which vanishes at every data point, and whose score-matching loss is
            $t^2(\beta - 1)$ for every $\beta$. (Hint: $f(x) = -t^2\,\mathrm{relu}(x - x_{\max})$.)
            Conclude that the objective is unbounded below for $\beta < 1$.
            """, """
            def ray_network(t):
                # BEGIN SOLUTION
                return TwoLayerNet(W1=np.array([[t]]), b1=np.array([-t * x.max()]), W2=np.array([[-t]]),
                                   b2=np.zeros(1))
                # END SOLUTION
            """,
            public=["""
            def test_q2_width(ray_network):
                assert ray_network(1.0).width == 1
            test_q2_width(ray_network)
            """],
            hidden=["""
            def test_q2_loss(ray_network, x):
                import numpy as np
                from convexscore import score_matching_loss
                for t in (1.0, 3.0, 10.0):
                    for beta in (0.5, 2.0):
                        got = score_matching_loss(ray_network(t), x, beta)
                        assert abs(got - t**2 * (beta - 1)) < 1e-8 * max(1.0, t**2)
                    np.testing.assert_allclose(ray_network(t)(x), 0.0, atol=1e-12)
            test_q2_loss(ray_network, x)
            """]),
        Question("q3", 2, r"""
            **Question 3 (derivation answered numerically).** Repeated points change the threshold. For the data
            `x_rep = [0, 0, 0, 1, 2, 2]` and ReLU neurons, below which weight decay is the objective unbounded?
            Reason with rays like the one of Question 2 (a kink on a repeated point earns its multiplicity)
            and store the number in `beta_unbounded`.
            """, """
            x_rep = np.array([0.0, 0.0, 0.0, 1.0, 2.0, 2.0])
            beta_unbounded = 3.0  # SOLUTION
            """,
            public=["""
            def test_q3_range(beta_unbounded):
                assert beta_unbounded >= 1.0
            test_q3_range(beta_unbounded)
            """],
            hidden=["""
            def test_q3_value(beta_unbounded, x_rep):
                from convexscore import unboundedness_threshold
                assert abs(beta_unbounded - unboundedness_threshold(x_rep)) < 1e-9
            test_q3_value(beta_unbounded, x_rep)
            """]),
        Question("q4", 2, r"""
            **Question 4 (interpretation).** A student trains the network with Adam on `x_rep` with $\beta = 2$ and
            sees the loss decrease without end. Is that a bug in the optimiser, or is the objective itself unbounded?
            Store `True` in `objective_unbounded_at_2` if the objective is unbounded below at $\beta = 2$.
            """, """
            objective_unbounded_at_2 = True  # SOLUTION
            """,
            public=["""
            def test_q4_type(objective_unbounded_at_2):
                assert isinstance(objective_unbounded_at_2, bool)
            test_q4_type(objective_unbounded_at_2)
            """],
            hidden=["""
            def test_q4_value(objective_unbounded_at_2, x_rep):
                from convexscore import unboundedness_threshold
                assert objective_unbounded_at_2 == bool(2.0 < unboundedness_threshold(x_rep))
            test_q4_value(objective_unbounded_at_2, x_rep)
            """]),
    ],
)

# ----------------------------------------------------------------------------------------------------------------
A3 = dict(
    name="a3-duality",
    title="Assignment 3: Duality and the convex program",
    intro="""
        Part II (chapter 3). The convex program of a ReLU score network has a dual whose feasible points give lower
        bounds on the loss of every network, of any width. You will solve the program, rebuild its dual certificate
        by hand, and use the rescaling trick behind the convex reformulation.
        """,
    setup=SETUP_HEAD + """
from convexscore import TwoLayerNet, fit_score_matching, score_matching_loss, zero_network_threshold
from convexscore.univariate.dictionaries import dense_dictionary
rng = np.random.default_rng(2)
x = np.sort(rng.normal(size=15))
n, beta = x.size, 3.0
""",
    questions=[
        Question("q1", 2, r"""
            **Question 1 (implementation).** Fit the globally optimal network with `fit_score_matching(x, beta)`.
            Store the result in `fit`, its optimal value in `p_star` and the duality gap of its certificate in `gap`.
            """, """
            # BEGIN SOLUTION
            fit = fit_score_matching(x, beta)
            p_star = fit.value
            gap = fit.certificate.gap
            # END SOLUTION
            print(round(p_star, 4), gap < 1e-6)
            """,
            public=["""
            def test_q1_fit(fit):
                assert fit.objective == "score_matching"
            test_q1_fit(fit)
            """],
            hidden=["""
            def test_q1_values(p_star, gap, x, beta):
                from convexscore import fit_score_matching, score_matching_loss
                ref = fit_score_matching(x, beta)
                assert abs(p_star - ref.value) < 1e-6 * max(1, abs(ref.value))
                assert abs(score_matching_loss(ref.net, x, beta) - p_star) < 1e-5 * max(1, abs(p_star))
                assert 0 <= gap + 1e-9 and gap < 1e-5 * max(1, abs(p_star))
            test_q1_values(p_star, gap, x, beta)
            """]),
        Question("q2", 3, r"""
            **Question 2 (derivation answered numerically).** The dual of the program is
            $\max_\lambda -\tfrac12\|\lambda\|^2$ subject to $\|A^\top \lambda + d\|_\infty \le \beta$ and
            $\mathbf 1^\top\lambda = 0$, with `A` the dictionary matrix and `d` the count vector below.
            With `lam = fit.certificate.dual`, compute the dual objective `dual_value`, the largest constraint
            value `max_constraint` $= \|A^\top\lambda + d\|_\infty$ and `sum_lam` $= \mathbf 1^\top \lambda$.
            """, """
            prog = fit.problem
            A = dense_dictionary(prog.inputs, prog.knots, prog.layout)
            d = prog.d
            lam = fit.certificate.dual
            # BEGIN SOLUTION
            dual_value = -0.5 * float(lam @ lam)
            max_constraint = float(np.max(np.abs(A.T @ lam + d)))
            sum_lam = float(lam.sum())
            # END SOLUTION
            print(round(dual_value, 4), round(max_constraint, 4), abs(sum_lam) < 1e-9)
            """,
            public=["""
            def test_q2_sign(dual_value):
                assert dual_value <= 0
            test_q2_sign(dual_value)
            """],
            hidden=["""
            def test_q2_values(dual_value, max_constraint, sum_lam, fit, beta):
                assert abs(dual_value - fit.certificate.lower_bound) < 1e-8 * max(1, abs(dual_value))
                assert max_constraint <= beta + 1e-8
                assert max_constraint > 0.5 * beta
                assert abs(sum_lam) < 1e-8
            test_q2_values(dual_value, max_constraint, sum_lam, fit, beta)
            """, """
            def test_q2_weak_duality(dual_value, p_star):
                assert dual_value <= p_star + 1e-8
            test_q2_weak_duality(dual_value, p_star)
            """]),
        Question("q3", 3, r"""
            **Question 3 (implementation).** Scaling neuron $j$ by $(w_{1j}, w_{2j}) \to (a w_{1j}, w_{2j}/a)$ and
            its bias by $a$ ($a > 0$) leaves a ReLU network's function unchanged. Implement `balance(net)` that
            rescales every neuron of a 1-D network so that $|w_{1j}| = |w_{2j}|$; its penalty then equals
            $\sum_j |w_{1j} w_{2j}|$, the smallest over all rescalings.
            """, """
            def balance(net):
                # BEGIN SOLUTION
                w1, w2 = net.W1[:, 0], net.W2[:, 0]
                a = np.sqrt(np.abs(w2) / np.abs(w1))
                return TwoLayerNet(W1=(a * w1)[:, None], b1=a * net.b1, W2=(w2 / a)[:, None], b2=net.b2)
                # END SOLUTION
            """,
            public=["""
            def test_q3_type(balance):
                from convexscore import TwoLayerNet
                import numpy as np
                net = TwoLayerNet(W1=np.array([[2.0]]), b1=np.array([0.5]), W2=np.array([[0.5]]), b2=np.zeros(1))
                assert isinstance(balance(net), TwoLayerNet)
            test_q3_type(balance)
            """],
            hidden=["""
            def test_q3_balance(balance, x, beta):
                import numpy as np
                from convexscore import TwoLayerNet, score_matching_loss
                r = np.random.default_rng(5)
                for _ in range(3):
                    net = TwoLayerNet(W1=r.normal(size=(6, 1)) * 3, b1=r.normal(size=6), W2=r.normal(size=(6, 1)),
                                      b2=r.normal(size=1))
                    bal = balance(net)
                    np.testing.assert_allclose(bal(x), net(x), rtol=1e-10, atol=1e-10)
                    np.testing.assert_allclose(bal.penalty(), np.sum(np.abs(net.W1 * net.W2)), rtol=1e-10)
                    assert score_matching_loss(bal, x, beta) <= score_matching_loss(net, x, beta) + 1e-10
            test_q3_balance(balance, x, beta)
            """]),
        Question("q4", 2, r"""
            **Question 4 (interpretation).** For large weight decay the zero network is optimal: its loss is 0 and
            $\lambda = 0$ is dual feasible iff $\|d\|_\infty \le \beta$. Store the smallest such $\beta$ in `beta_zero`.
            """, """
            beta_zero = float(np.max(np.abs(d)))  # SOLUTION
            """,
            public=["""
            def test_q4_type(beta_zero):
                assert beta_zero > 0
            test_q4_type(beta_zero)
            """],
            hidden=["""
            def test_q4_value(beta_zero, x):
                from convexscore import fit_score_matching, zero_network_threshold
                assert abs(beta_zero - zero_network_threshold(x)) < 1e-9
                assert abs(fit_score_matching(x, beta_zero).value) < 1e-6
            test_q4_value(beta_zero, x)
            """]),
    ],
)

# ----------------------------------------------------------------------------------------------------------------
A4 = dict(
    name="a4-arrangements",
    title="Assignment 4: Hyperplane arrangements in 2-D",
    intro="""
        Part II (chapter 5). In more than one dimension the convex program enumerates the activation patterns
        $\\mathbb 1\\{X u + b \\ge 0\\}$ of the data: the cells of a hyperplane arrangement. You will count them,
        compute them yourself, and see how much of the arrangement random gates find.
        """,
    setup=SETUP_HEAD + """
from convexscore import arrangement_patterns, cell_count_bound
rng = np.random.default_rng(3)
X = rng.normal(size=(8, 2))
n = X.shape[0]
""",
    questions=[
        Question("q1", 2, r"""
            **Question 1 (derivation answered numerically).** Without bias, a gate $u \in \mathbb R^2$ splits the
            points by the line through the origin orthogonal to $u$. For $n$ points in general position, how many
            distinct patterns are there? Store your formula's value in `P_formula` and the library's exact count
            (`arrangement_patterns(X).n_patterns`) in `P_exact`.
            """, """
            # BEGIN SOLUTION
            P_formula = 2 * n
            P_exact = arrangement_patterns(X).n_patterns
            # END SOLUTION
            print(P_formula, P_exact)
            """,
            public=["""
            def test_q1_ints(P_formula, P_exact):
                assert int(P_formula) == P_formula and int(P_exact) == P_exact
            test_q1_ints(P_formula, P_exact)
            """],
            hidden=["""
            def test_q1_values(P_formula, P_exact, X):
                from convexscore import arrangement_patterns, cell_count_bound
                assert P_exact == arrangement_patterns(X).n_patterns
                assert P_formula == cell_count_bound(X.shape[0], 2) == P_exact
            test_q1_values(P_formula, P_exact, X)
            """]),
        Question("q2", 3, r"""
            **Question 2 (implementation).** Implement `pattern(X, u, b=0.0)` returning the boolean vector
            $\mathbb 1\{X u + b \ge 0\}$ of shape `(n,)` (the convention $\mathrm{relu}'(0) = 1$ counts a point on
            the line as active).
            """, """
            def pattern(X, u, b=0.0):
                # BEGIN SOLUTION
                return np.asarray(X) @ np.asarray(u) + b >= 0
                # END SOLUTION
            """,
            public=["""
            def test_q2_shape(pattern, X):
                import numpy as np
                assert np.shape(pattern(X, np.array([1.0, 0.0]))) == (X.shape[0],)
            test_q2_shape(pattern, X)
            """],
            hidden=["""
            def test_q2_gates(pattern, X):
                import numpy as np
                from convexscore import arrangement_patterns
                arr = arrangement_patterns(X, "sampled", n_gates=200, rng=1)
                for i in range(arr.n_patterns):
                    assert np.array_equal(np.asarray(pattern(X, arr.gates[i]), dtype=bool), arr.patterns[:, i])
                assert np.array_equal(pattern(np.array([[1.0, 0.0]]), np.array([0.0, 1.0])), [True])
            test_q2_gates(pattern, X)
            """]),
        Question("q3", 2, r"""
            **Question 3 (derivation answered numerically).** With a bias the lines need not pass through the
            origin; for points in general position the number of patterns is $n^2 - n + 2$. Check it: store the
            formula's value in `P_bias_formula` and the exact count with `bias=True` in `P_bias_exact`.
            """, """
            # BEGIN SOLUTION
            P_bias_formula = n**2 - n + 2
            P_bias_exact = arrangement_patterns(X, bias=True).n_patterns
            # END SOLUTION
            print(P_bias_formula, P_bias_exact)
            """,
            public=["""
            def test_q3_order(P_bias_exact, P_exact):
                assert P_bias_exact >= P_exact
            test_q3_order(P_bias_exact, P_exact)
            """],
            hidden=["""
            def test_q3_values(P_bias_formula, P_bias_exact, X):
                from convexscore import arrangement_patterns
                n = X.shape[0]
                assert P_bias_formula == n**2 - n + 2
                assert P_bias_exact == arrangement_patterns(X, bias=True).n_patterns
            test_q3_values(P_bias_formula, P_bias_exact, X)
            """]),
        Question("q4", 2, r"""
            **Question 4 (interpretation).** Practical solvers sample gates instead of enumerating cells. With
            20 Gaussian gates (`arrangement_patterns(X, "sampled", n_gates=20, rng=0)`, no bias), what fraction of
            the exact patterns is found? Store it in `coverage`. Narrow cells (patterns that few directions
            produce) are the ones random gates miss.
            """, """
            coverage = arrangement_patterns(X, "sampled", n_gates=20, rng=0).n_patterns / P_exact  # SOLUTION
            print(round(coverage, 3))
            """,
            public=["""
            def test_q4_range(coverage):
                assert 0 < coverage <= 1
            test_q4_range(coverage)
            """],
            hidden=["""
            def test_q4_value(coverage, X):
                from convexscore import arrangement_patterns
                ref = arrangement_patterns(X, "sampled", n_gates=20, rng=0).n_patterns / arrangement_patterns(X).n_patterns
                assert abs(coverage - ref) < 1e-12
            test_q4_value(coverage, X)
            """]),
    ],
)

# ----------------------------------------------------------------------------------------------------------------
A5 = dict(
    name="a5-closed-forms",
    title="Assignment 5: Closed forms and convergence",
    intro="""
        Part III (chapters 6-8). In some ranges of the weight decay the optimal score network is known in closed
        form. You will check the two-neuron value, recover the Gaussian solution of the skip network, and sample
        from it with Langevin dynamics.
        """,
    setup=SETUP_HEAD + """
from convexscore import (fit_score_matching, langevin, two_neuron_threshold, unboundedness_threshold,
                         gaussian_skip_threshold, gaussian_ula_stationary_variance)
rng = np.random.default_rng(4)
x = np.sort(rng.normal(loc=0.5, scale=1.5, size=10))
n = x.size
xbar, s2 = float(x.mean()), float(np.var(x))
""",
    questions=[
        Question("q1", 3, r"""
            **Question 1 (derivation answered numerically).** For $\max(\tilde\beta, \tau) \le \beta < n$ the
            optimum uses two neurons and its value is $-(n - \beta)^2 / (2 n s^2)$, with $s^2$ the biased sample
            variance. Set `beta` halfway between `beta_lo = max(two_neuron_threshold(x), unboundedness_threshold(x))`
            and $n$, store the formula's value in `value_formula` and `fit_score_matching(x, beta).value` in
            `value_fit`.
            """, """
            beta_lo = max(two_neuron_threshold(x), unboundedness_threshold(x))
            # BEGIN SOLUTION
            beta = 0.5 * (beta_lo + n)
            value_formula = -((n - beta) ** 2) / (2 * n * s2)
            value_fit = fit_score_matching(x, beta).value
            # END SOLUTION
            print(round(beta, 4), round(value_formula, 5), round(value_fit, 5))
            """,
            public=["""
            def test_q1_regime(beta, beta_lo, n):
                assert beta_lo <= beta < n
            test_q1_regime(beta, beta_lo, n)
            """],
            hidden=["""
            def test_q1_values(beta, value_formula, value_fit, x, beta_lo):
                import numpy as np
                from convexscore import fit_score_matching
                n = x.size
                assert abs(beta - 0.5 * (beta_lo + n)) < 1e-9
                assert abs(value_formula + (n - beta) ** 2 / (2 * n * np.var(x))) < 1e-9
                assert abs(value_fit - fit_score_matching(x, beta).value) < 1e-6
                assert abs(value_fit - value_formula) < 1e-5 * max(1, abs(value_formula))
            test_q1_values(beta, value_formula, value_fit, x, beta_lo)
            """]),
        Question("q2", 3, r"""
            **Question 2 (implementation).** With a skip connection $f(x) = v x + b_0 + \sum_j w_{2j}\,
            \mathrm{relu}(w_{1j} x + b_{1j})$ and large weight decay, no neuron survives and $f$ is the score of a
            Gaussian. Fit with `skip=True` at `beta_skip = gaussian_skip_threshold(x) + 1` and store the fit in
            `fit_skip`. Derive $v$ and $b_0$ from Assignment 2's Gaussian fit and store them in `v_star`, `b0_star`.
            """, """
            beta_skip = gaussian_skip_threshold(x) + 1.0
            # BEGIN SOLUTION
            fit_skip = fit_score_matching(x, beta_skip, skip=True)
            v_star = -1.0 / s2
            b0_star = xbar / s2
            # END SOLUTION
            print(fit_skip.width, round(v_star, 4), round(b0_star, 4))
            """,
            public=["""
            def test_q2_sign(v_star):
                assert v_star < 0
            test_q2_sign(v_star)
            """],
            hidden=["""
            def test_q2_values(fit_skip, v_star, b0_star, x):
                import numpy as np
                s2 = np.var(x)
                assert fit_skip.skip and fit_skip.width == 0
                assert abs(v_star + 1 / s2) < 1e-9 and abs(b0_star - x.mean() / s2) < 1e-9
                assert abs(float(fit_skip.net.V[0, 0]) - v_star) < 1e-5 * abs(v_star)
                assert abs(float(fit_skip.net.b2[0]) - b0_star) < 1e-5 * max(1, abs(b0_star))
            test_q2_values(fit_skip, v_star, b0_star, x)
            """]),
        Question("q3", 3, r"""
            **Question 3 (implementation and convergence).** Sample from the fitted skip network: run
            `langevin(fit_skip.score, np.zeros(2000), 0.05, 600, rng=0)` and store the sample mean and variance of the
            final states in `sample_mean`, `sample_var`. ULA with step $\epsilon$ on $\mathcal N(\bar x, s^2)$ has
            stationary variance $s^2/(1 - \epsilon/(4 s^2))$: store it in `ula_var`.
            """, """
            # BEGIN SOLUTION
            run = langevin(fit_skip.score, np.zeros(2000), 0.05, 600, rng=0)
            sample_mean, sample_var = float(run.samples.mean()), float(run.samples.var())
            ula_var = s2 / (1 - 0.05 / (4 * s2))
            # END SOLUTION
            print(round(sample_mean, 3), round(sample_var, 3), round(ula_var, 3))
            """,
            public=["""
            def test_q3_type(sample_mean, sample_var):
                assert sample_var > 0 and abs(sample_mean) < 100
            test_q3_type(sample_mean, sample_var)
            """],
            hidden=["""
            def test_q3_values(sample_mean, sample_var, ula_var, x):
                import numpy as np
                from convexscore import gaussian_ula_stationary_variance
                s2 = np.var(x)
                assert abs(ula_var - gaussian_ula_stationary_variance(s2, 0.05)) < 1e-9
                assert abs(sample_mean - x.mean()) < 0.15 * np.sqrt(s2)
                assert abs(sample_var - ula_var) < 0.15 * s2
            test_q3_values(sample_mean, sample_var, ula_var, x)
            """]),
        Question("q4", 2, r"""
            **Question 4 (interpretation).** Between the two outer kinks the two-neuron score of Question 1 is linear,
            $f(x) = -t\,(x - \bar x)$. As $\beta \uparrow n$ the network switches off. Measure the slope of
            `fit_score_matching(x, beta)` at $\bar x$ by a central difference with $h = 10^{-4}$ and store $t$ (a
            positive number) in `t_slope`; compare it with $(n - \beta)/(n s^2)$.
            """, """
            # BEGIN SOLUTION
            f = fit_score_matching(x, beta).score
            h = 1e-4
            t_slope = float(-(f(np.array([xbar + h])) - f(np.array([xbar - h])))[0] / (2 * h))
            # END SOLUTION
            print(round(t_slope, 4), round((n - beta) / (n * s2), 4))
            """,
            public=["""
            def test_q4_sign(t_slope):
                assert t_slope > 0
            test_q4_sign(t_slope)
            """],
            hidden=["""
            def test_q4_value(t_slope, beta, x):
                import numpy as np
                n = x.size
                assert abs(t_slope - (n - beta) / (n * np.var(x))) < 1e-4 * max(1, t_slope)
            test_q4_value(t_slope, beta, x)
            """]),
    ],
)

# ----------------------------------------------------------------------------------------------------------------
A6 = dict(
    name="a6-denoising",
    title="Assignment 6: Denoising score matching and annealed sampling",
    intro="""
        Part IV (chapters 9-10). Denoising score matching fits the score of the data blurred by Gaussian noise of
        level $\\sigma$: $\\sum_i \\tfrac12 (f(x_i + \\sigma z_i) + z_i/\\sigma)^2$ plus weight decay. You will derive
        the optimal linear denoiser, fit one convex denoiser per noise level, and run annealed Langevin dynamics.
        """,
    setup=SETUP_HEAD + """
from convexscore import (fit_denoising_score_matching, denoising_score_matching_loss, annealed_langevin,
                         lipschitz_constant)
from convexscore.datasets import two_mode_mixture
rng = np.random.default_rng(6)
x = two_mode_mixture(separation=4.0, std=0.5).sample(16, rng=6)
sigmas = np.array([1.0, 0.5, 0.25])
beta = 0.5
""",
    questions=[
        Question("q1", 2, r"""
            **Question 1 (derivation answered numerically).** If $x \sim \mathcal N(0, 1)$, the noisy
            $y = x + \sigma z$ is $\mathcal N(0, 1 + \sigma^2)$, and the population minimiser of the DSM loss is its
            score $f(y) = -a\,y$. Implement `dsm_slope(sigma)` returning $a$.
            """, """
            def dsm_slope(sigma):
                return 1.0 / (1.0 + sigma**2)  # SOLUTION
            """,
            public=["""
            def test_q1_range(dsm_slope):
                assert 0 < dsm_slope(1.0) < 1.5
            test_q1_range(dsm_slope)
            """],
            hidden=["""
            def test_q1_values(dsm_slope):
                import numpy as np
                r = np.random.default_rng(0)
                for s in (0.5, 1.0, 2.0):
                    xs = r.normal(size=200000)
                    z = r.normal(size=xs.size)
                    y = xs + s * z
                    a_ls = -float(y @ (-z / s)) / float(y @ y)  # least squares slope of the DSM regression
                    assert abs(dsm_slope(s) - a_ls) < 0.02
                    assert abs(dsm_slope(s) - 1 / (1 + s * s)) < 1e-12
            test_q1_values(dsm_slope)
            """]),
        Question("q2", 3, r"""
            **Question 2 (implementation).** Fit one convex denoiser per noise level. For level `i` draw the noise
            `noises[i] = rng.standard_normal(x.size)` (in order, from `rng`) and fit
            `fit_denoising_score_matching(x, beta, sigmas[i], noises[i])`. Store the lists `noises` and `fits`.
            """, """
            # BEGIN SOLUTION
            noises, fits = [], []
            for s in sigmas:
                z = rng.standard_normal(x.size)
                noises.append(z)
                fits.append(fit_denoising_score_matching(x, beta, s, z))
            # END SOLUTION
            print([f.width for f in fits])
            """,
            public=["""
            def test_q2_len(fits, noises):
                assert len(fits) == 3 and len(noises) == 3
            test_q2_len(fits, noises)
            """],
            hidden=["""
            def test_q2_fits(fits, noises, x, sigmas, beta):
                import numpy as np
                from convexscore import denoising_score_matching_loss
                for f, z, s in zip(fits, noises, sigmas):
                    assert f.objective == "denoising_score_matching"
                    loss = denoising_score_matching_loss(f.net, x, beta, s, z)
                    assert abs(loss - f.value) < 1e-5 * max(1, abs(f.value))
                    assert f.certificate.gap < 1e-5 * max(1, abs(f.value))
                assert not np.allclose(noises[0], noises[1])
            test_q2_fits(fits, noises, x, sigmas, beta)
            """]),
        Question("q3", 3, r"""
            **Question 3 (implementation).** Annealed Langevin runs level $i$ with step
            $\alpha_i = \epsilon\, \sigma_i^2/\sigma_L^2$. With $\epsilon = 0.002$ compute `alphas` yourself, then
            run `annealed_langevin([f.score for f in fits], sigmas, 0.002, 200, x0=np.linspace(-6, 6, 400), rng=0,
            denoise=True)` and store the fraction of final samples on the right of 0 in `frac_right`.
            """, """
            step = 0.002
            # BEGIN SOLUTION
            alphas = step * sigmas**2 / sigmas[-1] ** 2
            run = annealed_langevin([f.score for f in fits], sigmas, step, 200, x0=np.linspace(-6, 6, 400), rng=0,
                                    denoise=True)
            frac_right = float(np.mean(run.samples > 0))
            # END SOLUTION
            print(np.round(alphas, 4), round(frac_right, 3))
            """,
            public=["""
            def test_q3_shape(alphas):
                import numpy as np
                assert np.shape(alphas) == (3,)
            test_q3_shape(alphas)
            """],
            hidden=["""
            def test_q3_values(alphas, frac_right, fits, sigmas):
                import numpy as np
                from convexscore import annealed_langevin
                run = annealed_langevin([f.score for f in fits], sigmas, 0.002, 200, x0=np.linspace(-6, 6, 400),
                                        rng=0, denoise=True)
                np.testing.assert_allclose(alphas, run.alphas, rtol=1e-12)
                assert abs(frac_right - np.mean(run.samples > 0)) < 1e-12
                assert 0.2 < frac_right < 0.8  # both modes are populated
            test_q3_values(alphas, frac_right, fits, sigmas)
            """]),
        Question("q4", 2, r"""
            **Question 4 (interpretation).** Which noise level's fitted score is the stiffest (largest Lipschitz
            constant, `lipschitz_constant(f.net)`)? Store its index (0, 1 or 2) in `stiffest_level`, and explain
            why the step size $\alpha_i$ shrinks with $\sigma_i$.
            """, """
            stiffest_level = int(np.argmax([lipschitz_constant(f.net) for f in fits]))  # SOLUTION
            print(stiffest_level)
            """,
            public=["""
            def test_q4_range(stiffest_level):
                assert stiffest_level in (0, 1, 2)
            test_q4_range(stiffest_level)
            """],
            hidden=["""
            def test_q4_value(stiffest_level, fits):
                import numpy as np
                from convexscore import lipschitz_constant
                assert stiffest_level == int(np.argmax([lipschitz_constant(f.net) for f in fits]))
            test_q4_value(stiffest_level, fits)
            """]),
    ],
)

ASSIGNMENTS = [A1, A2, A3, A4, A5, A6]


def main() -> None:
    for i, spec in enumerate(ASSIGNMENTS, start=1):
        nb = build(**spec)
        path = HERE / f"{spec['name']}.ipynb"
        nbformat.validate(nb)
        nbformat.write(nb, path)
        print(f"wrote {path.relative_to(HERE.parents[1])}")


if __name__ == "__main__":
    main()
