"""Benchmark suites: which tasks, which exploration methods, how many seeds, which job function.

A :class:`Suite` is plain data. :func:`benchmarks.sweep.jobs.expand` turns it into one job per
(task, method, seed); :func:`benchmarks.sweep.runner.run_suite` runs the jobs. Every job calls the suite's
*job function* (a dotted path, default ``agents.experiment.run_experiment``) as::

    fn(env_id, algo, bonus, total_timesteps, seed, out_dir, **settings) -> dict

where ``settings`` are the merged task and method settings (:meth:`Suite.settings_for`): ``n_envs``,
``algo_kwargs``, ``eta``, ``bonus_kwargs`` and any extra keys of ``TaskSpec.settings`` /
``MethodSpec.settings`` / ``MethodSpec.overrides``.

Registered suites (:data:`SUITES`, :func:`get_suite`):

| suite | tasks | methods | seeds |
| --- | --- | --- | --- |
| ``vime-paper`` | the paper's sparse MountainCar, CartPoleSwingup, HalfCheetah (-v1), TRPO | none, vime | 5 |
| ``eta-grid`` | SparseMountainCar-v1, PPO, 300k steps | none; every bonus at eta 1e-4 ... 1 | 3 |
| ``vime-sparse`` | the paper's tasks (-v1), PPO, pilot budgets | none; every bonus at its grid eta | 3-7 |
| ``eta-decay`` | as ``eta-grid`` | five (bonus, eta) pairs that lose the reward, eta decaying to 0 | 3 |
| ``ppo-budget`` | SparseCartPoleSwingup-v1 (5M), SparseHalfCheetah-v1 (10M), PPO | none, vime | seed 0 |
| ``vime-sparse-v0`` | the four easier ``-v0`` tasks, PPO | none, vime, rnd, icm, disagreement, simhash | 5 |
| ``quick`` | SparseMountainCar-v1, PPO, 100k steps | none, vime | 2 |
| ``vime-pixels`` | pixel SparseMountainCar, MiniGrid DoorKey | none, vime-latent, rnd | 3 |

References:
    Houthooft et al., "VIME: Variational Information Maximizing Exploration", NIPS 2016.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from typing import Any

#: the job function every registered suite calls (written in :mod:`agents`)
DEFAULT_JOB = "agents.experiment.run_experiment"

#: setting keys whose values are dicts merged key by key (later layers win per key) instead of replaced
MERGED_KEYS = ("algo_kwargs", "bonus_kwargs", "policy_kwargs", "env_kwargs", "callback_kwargs")


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """One task of a suite: an environment, the RL algorithm and its budget.

    Args:
        env_id: a registered gymnasium id; also the task's id in run directories and reports.
        algo: algorithm name understood by the job function (``"ppo"``, ...).
        total_timesteps: environment steps per run (summed over the ``n_envs`` copies).
        n_envs: parallel environment copies inside one run (one process; keep 1 on small machines).
        algo_kwargs: keyword arguments of the algorithm (e.g. SB3 ``PPO``).
        settings: further keyword arguments handed to the job function as they are.
    """

    env_id: str
    algo: str = "ppo"
    total_timesteps: int = 100_000
    n_envs: int = 1
    algo_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.total_timesteps, int) or self.total_timesteps <= 0:
            raise ValueError(f"TaskSpec({self.env_id!r}): total_timesteps must be a positive int, "
                             f"got {self.total_timesteps!r}")
        if not isinstance(self.n_envs, int) or self.n_envs <= 0:
            raise ValueError(f"TaskSpec({self.env_id!r}): n_envs must be a positive int, got {self.n_envs!r}")


@dataclasses.dataclass(frozen=True)
class MethodSpec:
    """One exploration method of a suite: a bonus and its settings.

    Args:
        name: the method's id in run directories and reports (``[A-Za-z0-9_.-]``).
        bonus: bonus name understood by the job function: ``"none"``, ``"vime"``, ``"rnd"``, ``"icm"``,
            ``"disagreement"``, ``"simhash"``.
        eta: scale of the bonus in the reward, ``r + eta * bonus`` (ignored by ``"none"``).
        bonus_kwargs: keyword arguments of the bonus.
        settings: further keyword arguments handed to the job function.
        overrides: per task (``env_id``) settings that replace the ones above, e.g.
            ``{"SparseMountainCar-v0": {"eta": 1e-4}}``; dict-valued ``*_kwargs`` keys are merged key by key.
    """

    name: str
    bonus: str = "none"
    eta: float = 0.0
    bonus_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    overrides: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name or not all(c.isalnum() or c in "_.-" for c in self.name):
            raise ValueError("MethodSpec name must be non-empty and use only letters, digits, '_', '.', "
                             f"'-'; got {self.name!r}")


@dataclasses.dataclass(frozen=True)
class Suite:
    """Tasks x methods x seeds, and the job function that runs one of them.

    Args:
        name: the suite's name (``--suite``).
        tasks: the tasks; their ``env_id`` must be unique.
        methods: the methods; their ``name`` must be unique.
        seeds: the seeds: a count (seeds ``0 .. seeds - 1``) or the seeds themselves (e.g. seeds held out
            from an earlier selection on the same task).
        job: dotted path ``package.module.function`` (or ``package.module:function``) of the job function.
        description: one line for listings and reports.
    """

    name: str
    tasks: tuple[TaskSpec, ...]
    methods: tuple[MethodSpec, ...]
    seeds: int | tuple[int, ...] = 5
    job: str = DEFAULT_JOB
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "methods", tuple(self.methods))
        for kind, names in (("task env_id", [t.env_id for t in self.tasks]),
                            ("method name", [m.name for m in self.methods])):
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ValueError(f"Suite {self.name!r}: duplicate {kind}s {duplicates}; each must be unique")
        if isinstance(self.seeds, (list, tuple)):
            object.__setattr__(self, "seeds", tuple(self.seeds))
            if not self.seeds or len(set(self.seeds)) != len(self.seeds) or any(
                    not isinstance(s, int) or isinstance(s, bool) or s < 0 for s in self.seeds):
                raise ValueError(f"Suite {self.name!r}: seeds must be distinct non-negative ints, got "
                                 f"{self.seeds!r}")
        elif not isinstance(self.seeds, int) or isinstance(self.seeds, bool) or self.seeds <= 0:
            raise ValueError(f"Suite {self.name!r}: seeds must be a positive int or a tuple of seeds, got "
                             f"{self.seeds!r}")

    def seed_list(self, count: int | None = None) -> list[int]:
        """The first ``count`` of the suite's seeds (``None``: its own number): ``0, 1, 2, ...``, or its
        explicit seeds continued by the integers after the largest."""
        own = list(self.seeds) if isinstance(self.seeds, tuple) else list(range(self.seeds))
        count = len(own) if count is None else count
        return [*own, *range(max(own) + 1, max(own) + 1 + count - len(own))][:count]

    def settings_for(self, task: TaskSpec, method: MethodSpec) -> dict[str, Any]:
        """The keyword settings of the job function for one (task, method), layers merged in order:
        task (``n_envs``, ``algo_kwargs``, ``settings``), method (``eta``, ``bonus_kwargs``, ``settings``),
        then ``method.overrides[task.env_id]``."""
        settings: dict[str, Any] = {"n_envs": task.n_envs, "algo_kwargs": dict(task.algo_kwargs)}
        layers = (task.settings, {"eta": method.eta, "bonus_kwargs": dict(method.bonus_kwargs)},
                  method.settings, method.overrides.get(task.env_id, {}))
        for layer in layers:
            settings = merge_settings(settings, layer)
        return settings

    def replace(self, **changes: Any) -> Suite:
        """A copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def with_overrides(
        self,
        timesteps: int | None = None,
        tasks: tuple[str, ...] | list[str] = (),
        methods: tuple[str, ...] | list[str] = (),
    ) -> Suite:
        """A shrunken copy for smoke tests: every task's budget set to ``timesteps`` and only the named
        tasks / methods kept (empty: keep all).

        Raises:
            ValueError: a task or method name not in the suite.
        """
        kept_tasks = _select(self.tasks, tasks, lambda t: t.env_id, "task", self.name)
        kept_methods = _select(self.methods, methods, lambda m: m.name, "method", self.name)
        if timesteps is not None:
            kept_tasks = [dataclasses.replace(t, total_timesteps=timesteps) for t in kept_tasks]
        return dataclasses.replace(self, tasks=tuple(kept_tasks), methods=tuple(kept_methods))


def merge_settings(base: Mapping[str, Any], layer: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``layer``; the dict-valued keys of :data:`MERGED_KEYS` are merged key by key."""
    merged = dict(base)
    for key, value in layer.items():
        if key in MERGED_KEYS and isinstance(value, Mapping):
            merged[key] = {**dict(merged.get(key) or {}), **dict(value)}
        else:
            merged[key] = value
    return merged


def _select(items, names, key, kind: str, suite: str) -> list:
    if not names:
        return list(items)
    known = [key(item) for item in items]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown {kind}(s) {unknown} for suite {suite!r}; known: {known}")
    return [item for item in items if key(item) in names]


# --- the registered suites --------------------------------------------------------------------------------

#: PPO on sparse MountainCar: SB3's default network and minibatches, 2,048-step rollouts and an entropy bonus
#: of 0.01 that keeps the Gaussian policy from collapsing before the first success. Chosen from exploratory
#: runs on seeds 0-1 (with 5,000-step rollouts and no entropy bonus VIME did not reach the goal in 150k
#: steps); documented in the README.
PPO_MOUNTAIN_CAR = {"n_steps": 2048, "batch_size": 64, "gamma": 0.99, "gae_lambda": 0.95, "ent_coef": 0.01}

#: PPO settings close to the paper's TRPO batches: 5,000 steps per update (10 episodes of the 500-step
#: horizon), discount 0.99, a tanh MLP with one hidden layer of 32 units (tanh is SB3's MLP default).
#: The suite runs them as 10 environments of 500 steps each (one episode per environment per update): the
#: same batch at less CPU, since the policy runs batched (a 1M-step run takes 3-8 minutes on one core; see
#: ``timing`` in each run's ``result.json`` under ``benchmarks/results/vime-sparse-v0``).
PPO_CLASSIC = {"n_steps": 5000, "batch_size": 500, "gamma": 0.99, "policy_kwargs": {"net_arch": [32]}}
#: the same 5,000-step batch, per environment
PPO_CLASSIC_PER_ENV = {**PPO_CLASSIC, "n_steps": 500}
#: the paper's HalfCheetah policy: hidden layers 64-32
PPO_CHEETAH_PER_ENV = {**PPO_CLASSIC_PER_ENV, "policy_kwargs": {"net_arch": [64, 32]}}

#: (env_id, budget, environments, PPO kwargs per environment, VIME eta). Budgets are ours (the paper ran
#: 5M steps on the classic tasks and 25M on HalfCheetah with TRPO); eta 1e-3 for HalfCheetah and
#: DoublePendulum is the paper's; MountainCar and CartPoleSwingup use VIME's default 1e-3 (our choice). PPO
#: normalises advantages, so before the first extrinsic reward only the shape of the bonus matters, not eta.
#: Change them here or per run with ``MethodSpec.overrides``.
VIME_TASKS_V0 = (
    ("SparseMountainCar-v0", 500_000, 1, PPO_MOUNTAIN_CAR, 1e-3),
    ("SparseCartPoleSwingup-v0", 1_000_000, 10, PPO_CLASSIC_PER_ENV, 1e-3),
    ("SparseDoublePendulum-v0", 1_000_000, 10, PPO_CLASSIC_PER_ENV, 1e-3),
    ("SparseHalfCheetah-v0", 1_000_000, 10, PPO_CHEETAH_PER_ENV, 1e-3),
)

#: the prediction-error bonuses VIME is compared with. Their raw scales are arbitrary (squared errors of
#: learned features), so each is divided by the running std of its raw bonuses and weighted by VIME's eta on
#: the same task: only the shape of the bonus differs, and none is tuned (a per-bonus eta sweep would cost
#: 5x the compute of the comparison itself).
NORMALISED_BASELINES = ("rnd", "icm", "disagreement")


def _baselines(vime: MethodSpec) -> tuple[MethodSpec, ...]:
    """RND, ICM and Disagreement at ``vime``'s per-task eta; SimHash at eta 0.01, Tang et al.'s beta (the
    scale of their bonus) on these same rllab tasks."""
    normalised = tuple(
        dataclasses.replace(vime, name=name, bonus=name, bonus_kwargs={"normalize_bonus": True})
        for name in NORMALISED_BASELINES
    )
    return (*normalised, MethodSpec("simhash", "simhash", eta=0.01))


def _vime_sparse_v0() -> Suite:
    """The first comparison of bonuses, on the ``-v0`` tasks: easier variants that are not the paper's (PPO's
    initial noise reaches the reward within three updates on three of the four; see
    ``benchmarks/results/vime-sparse-v0/notes.md``). Kept so that its committed results stay reproducible;
    it was named ``vime-sparse`` when it ran."""
    tasks = tuple(TaskSpec(env_id, "ppo", steps, n_envs=n_envs, algo_kwargs=kwargs)
                  for env_id, steps, n_envs, kwargs, _ in VIME_TASKS_V0)
    vime = MethodSpec("vime", "vime", eta=1e-3,
                      overrides={env_id: {"eta": eta} for env_id, *_, eta in VIME_TASKS_V0})
    return Suite("vime-sparse-v0", tasks, (MethodSpec("none", "none"), vime, *_baselines(vime)), seeds=5,
                 description="the four easier -v0 sparse tasks with PPO: no bonus, VIME, RND, ICM, "
                             "Disagreement, SimHash")


def _quick() -> Suite:
    """The demo: SB3's PPO (one env, 2,048-step rollouts, entropy 0.01) with and without VIME (eta 1e-3) on
    the paper's MountainCar, 100k steps, 2 seeds. Under PPO the gap shows within the demo's budget; under the
    paper's TRPO no-bonus runs can drift onto the goal early (``vime-paper``), so PPO is the demo's
    protocol. The committed results: ``benchmarks/results/demo/`` (no bonus 0 of 2 seeds, VIME 2 of 2) and the
    CleanRL-style example without SB3 (``benchmarks/results/cleanrl_example/``: 0 of 3 against 3 of 3)."""
    task = TaskSpec("SparseMountainCar-v1", "ppo", 100_000, algo_kwargs=PPO_MOUNTAIN_CAR)
    methods = (MethodSpec("none", "none"), MethodSpec("vime", "vime", eta=1e-3))
    return Suite("quick", (task,), methods, seeds=2,
                 description="the demo: the paper's MountainCar, PPO with and without VIME, 100k steps")


#: openai/vime's TRPO (rllab ``TRPO`` as its ``experiments/`` and REFERENCE.md give it), in sb3-contrib terms:
#: 5,000 steps per iteration as 10 environments x 500 steps (one whole episode per environment for the
#: tasks that never end early), KL step 0.01, discount 0.99, GAE lambda 1, centred advantages, conjugate
#: gradient 10 iterations with damping 1e-5, backtracking 0.8 x 15; a tanh Gaussian MLP policy with a
#: state-independent std starting at 1 (SB3's ``log_std_init=0``). The value baseline on HalfCheetah is
#: rllab's LinearFeatureBaseline (:mod:`agents.linear_baseline`; TRPO's own critic is then not fitted,
#: ``n_critic_updates=0``, and kept as a bare linear head it does not use). Deviations: on the classic tasks
#: the value function is an MLP of the policy's size fitted by Adam (sb3-contrib's critic: 10 epochs of
#: minibatches at lr 1e-3; 125 rather than its default 128, so that they split the 5,000 steps evenly) where
#: rllab fitted its MLP baseline by its own trust-region regressor; SB3's initialisation (orthogonal, the
#: mean's output layer scaled by 0.01, so the first policy's mean is near 0) where rllab used Glorot-uniform
#: layers; and a batch may cut an episode that ends early (rllab collected whole paths). As in rllab, the
#: 500-step horizon ends the task: no value is bootstrapped beyond it (``bootstrap_horizon=False``,
#: :mod:`agents.horizon`).
TRPO_PAPER = {
    "n_steps": 500, "batch_size": 125, "gamma": 0.99, "gae_lambda": 1.0, "target_kl": 0.01,
    "cg_max_steps": 10, "cg_damping": 1e-5, "line_search_shrinking_factor": 0.8, "line_search_max_iter": 15,
    "normalize_advantage": True, "policy_kwargs": {"net_arch": {"pi": [32], "vf": [32]}},
}  # fmt: skip
TRPO_PAPER_CHEETAH = {
    **TRPO_PAPER, "n_critic_updates": 0, "policy_kwargs": {"net_arch": {"pi": [64, 32], "vf": []}},
}  # fmt: skip
#: the run settings of each paper task beyond TRPO's (rllab's horizon everywhere; HalfCheetah's baseline)
PAPER_SETTINGS = {
    "SparseMountainCar-v1": {"bootstrap_horizon": False},
    "SparseCartPoleSwingup-v1": {"bootstrap_horizon": False},
    "SparseHalfCheetah-v1": {"bootstrap_horizon": False, "value_baseline": "linear_feature"},
}
#: (env_id, iterations, TRPO kwargs): the paper's sparse-reward figure, at its budgets
PAPER_TASKS = (
    ("SparseMountainCar-v1", 1000, TRPO_PAPER),
    ("SparseCartPoleSwingup-v1", 1000, TRPO_PAPER),
    ("SparseHalfCheetah-v1", 5000, TRPO_PAPER_CHEETAH),
)
#: steps per TRPO iteration (10 environments x 500 steps)
PAPER_BATCH = 5000


def _vime_paper() -> Suite:
    """The VIME paper's sparse-reward protocol on its three tasks (the ``-v1`` ports).

    TRPO as above; ``none`` against ``vime`` with the original's BNN settings (VIME's defaults: one hidden
    layer of 32, 500 updates of minibatch 10 per iteration, lr 1e-4, the second-order KL with the ratio
    normalisation over 10 medians) and eta 1e-3 (the paper's value for sparse HalfCheetah; REFERENCE.md
    gives none for the other two, so VIME's default applies), bonuses computed per iteration (rollout mode)
    and the value function fitted on extrinsic returns as in openai/vime. 1,000 iterations (5M steps) on
    the classic tasks, 5,000 (25M) on HalfCheetah; 5 seeds (the paper ran 10).
    """
    tasks = tuple(TaskSpec(env_id, "trpo", iterations * PAPER_BATCH, n_envs=10, algo_kwargs=kwargs,
                           settings=PAPER_SETTINGS[env_id])
                  for env_id, iterations, kwargs in PAPER_TASKS)
    vime = MethodSpec("vime", "vime", eta=1e-3, settings={"callback_kwargs": {"value_targets": "extrinsic"}})
    return Suite("vime-paper", tasks, (MethodSpec("none", "none"), vime), seeds=5,
                 description="the VIME paper's sparse tasks and protocol: TRPO with and without VIME")


#: the scales every bonus is tried at before the comparison of bonuses (one grid for all): every power of ten
#: from 1e-4 to 1, so that the grid holds each bonus's own default decade
#: (VIME 1e-3, ICM and SimHash 1e-2, RE3 0.05, NGU 0.3, RIDE 0.5, RND, Disagreement and E3B 1). The grid
#: first stopped at 1e-2; it was widened after seed 0 of eight bonuses had run, when Disagreement and SimHash
#: had failed at most or all of its etas (see ``benchmarks/results/eta-grid/notes.md``).
ETA_GRID = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
#: the bonuses compared on the paper's vector tasks
COMPARED_BONUSES = ("vime", "rnd", "icm", "disagreement", "simhash", "e3b", "re3", "ride", "ngu")


def grid_method(bonus: str, eta: float) -> str:
    """The method name of ``bonus`` at ``eta`` in the ``eta-grid`` suite, e.g. ``rnd-eta0.001``."""
    return f"{bonus}-eta{eta:g}"


def _eta_grid() -> Suite:
    """A fair scale for every bonus: each at every eta of :data:`ETA_GRID` on SparseMountainCar-v1 with the
    demo's PPO, 300k steps (no bonus finds the goal in 200k steps there; VIME and RND within ~20k), 3 seeds,
    beside no bonus. ``python -m benchmarks.sweep.eta_grid`` then picks each bonus's eta by one rule: the
    most seeds holding the reward at the end, then the lowest median steps to the first reward (never = the
    budget), then the highest final return (see that module for how the rule came to be)."""
    task = TaskSpec("SparseMountainCar-v1", "ppo", 300_000, algo_kwargs=PPO_MOUNTAIN_CAR)
    methods = tuple(MethodSpec(grid_method(b, eta), b, eta=eta) for b in COMPARED_BONUSES for eta in ETA_GRID)
    return Suite("eta-grid", (task,), (MethodSpec("none", "none"), *methods), seeds=3,
                 description="every bonus at eta 1e-4 to 1 on the paper's MountainCar (PPO, 300k)")


#: for each bonus that has one, the largest eta of the grid whose seed-0 run found MountainCar's goal and then
#: lost it (success in under half of the last 10% of episodes), for the decaying-eta check
LOSING_ETAS = (("vime", 0.1), ("icm", 1.0), ("e3b", 1.0), ("ride", 1.0), ("ngu", 1.0))
#: the seeds whose constant-eta runs chose :data:`LOSING_ETAS`: their constant runs lost the reward by
#: selection, so ``benchmarks.sweep.eta_decay`` leaves them out of its pooled test
LOSING_ETAS_SELECTION_SEEDS = (0,)


def _eta_decay() -> Suite:
    """Does a decaying eta keep what a large constant eta finds? The pairs of :data:`LOSING_ETAS` with eta
    decaying linearly to 0 over the run (``eta_schedule="linear"``), on the ``eta-grid``'s task, budget and
    seeds, so that each run pairs with its constant-eta twin in ``benchmarks/results/eta-grid``."""
    grid = _eta_grid()
    linear = {"eta_schedule": "linear"}
    methods = tuple(MethodSpec(f"{grid_method(b, eta)}-linear", b, eta=eta, settings=linear)
                    for b, eta in LOSING_ETAS)
    return Suite("eta-decay", grid.tasks, methods, seeds=grid.seeds,
                 description="large etas that lose MountainCar's reward, decaying linearly instead")


#: each bonus's eta for the comparison, chosen by ``python -m benchmarks.sweep.eta_grid`` from the complete
#: grid (``benchmarks/results/eta-grid/eta_choice.json``; a test keeps the two equal), fixed for every task
CHOSEN_ETAS = {"vime": 1e-3, "rnd": 1.0, "icm": 1e-2, "disagreement": 1.0, "simhash": 1e-3, "e3b": 1e-3,
               "re3": 0.1, "ride": 1e-2, "ngu": 1e-3}
#: the comparison's seeds: held out from the eta choice, which saw seeds 0-2 of the same MountainCar runs
COMPARISON_SEEDS = (3, 4, 5, 6, 7)


def _vime_sparse() -> Suite:
    """Every bonus on the paper's sparse tasks with PPO, each at its eta from the grid, on held-out seeds.

    MountainCar runs the grid's protocol (the demo's PPO, one environment, 300k steps), so the choice and the
    comparison differ only in their seeds. CartPoleSwingup and HalfCheetah run the ``ppo-budget`` pilot's
    PPO (10 environments of 500 steps per update) at the budgets ``python -m benchmarks.sweep.budget`` read
    off its curves (:data:`COMPARISON_BUDGETS`).
    """
    pilot = {env_id: kwargs for env_id, _, kwargs in BUDGET_PILOT_TASKS}
    longer = tuple(TaskSpec(env_id, "ppo", steps, n_envs=10, algo_kwargs=pilot[env_id])
                   for env_id, steps in COMPARISON_BUDGETS.items())
    methods = (MethodSpec("none", "none"), *(MethodSpec(b, b, eta=CHOSEN_ETAS[b]) for b in COMPARED_BONUSES))
    return Suite("vime-sparse", _eta_grid().tasks + longer, methods, seeds=COMPARISON_SEEDS,
                 description="every bonus at its grid eta on the paper's sparse tasks (PPO), held-out seeds")


#: (env_id, budget, PPO kwargs per environment) of the budget pilot: budgets well past the paper's TRPO ones
#: in PPO updates (the paper: 1,000 iterations of 5,000 steps on the classic tasks, 5,000 on HalfCheetah)
BUDGET_PILOT_TASKS = (
    ("SparseCartPoleSwingup-v1", 5_000_000, PPO_CLASSIC_PER_ENV),
    ("SparseHalfCheetah-v1", 10_000_000, PPO_CHEETAH_PER_ENV),
)


#: the comparison's budgets beyond MountainCar, as ``benchmarks/results/ppo-budget/budget.json`` chose them
#: (a test keeps the two equal)
COMPARISON_BUDGETS = {"SparseCartPoleSwingup-v1": 3_750_000, "SparseHalfCheetah-v1": 8_500_000}


def _ppo_budget() -> Suite:
    """How long PPO needs on the paper's CartPoleSwingup and HalfCheetah before its learning curves flatten:
    one seed of no bonus and VIME (eta 1e-3, its default) with 10 environments of 500 steps per update, the
    settings the comparison of bonuses (``vime-sparse``) uses there. Seed 0 only, outside the comparison's
    seeds, so its budgets are not read off the runs they score."""
    tasks = tuple(TaskSpec(env_id, "ppo", steps, n_envs=10, algo_kwargs=kwargs)
                  for env_id, steps, kwargs in BUDGET_PILOT_TASKS)
    methods = (MethodSpec("none", "none"), MethodSpec("vime", "vime", eta=1e-3))
    return Suite("ppo-budget", tasks, methods, seeds=(0,),
                 description="budget pilot: PPO, no bonus and VIME, CartPoleSwingup-v1 and HalfCheetah-v1")


#: name -> suite
SUITES: dict[str, Suite] = {
    s.name: s for s in (_vime_paper(), _vime_sparse_v0(), _quick(), _eta_grid(), _eta_decay(), _ppo_budget(),
                        _vime_sparse())
}


def get_suite(name: str | Suite) -> Suite:
    """A registered suite by name, or a ``package.module:ATTRIBUTE`` path to a :class:`Suite` object.

    Raises:
        ValueError: an unknown name (the message lists the registered ones).
        TypeError: the path names something that is not a :class:`Suite`.
    """
    if isinstance(name, Suite):
        return name
    if name in SUITES:
        return SUITES[name]
    if ":" in name:
        module, _, attribute = name.partition(":")
        suite = getattr(importlib.import_module(module), attribute)
        if not isinstance(suite, Suite):
            raise TypeError(f"{name!r} is a {type(suite).__name__}, not a benchmarks.sweep.suites.Suite")
        return suite
    raise ValueError(f"unknown suite {name!r}; known suites: {sorted(SUITES)} "
                     "(or give 'package.module:NAME' of a Suite object)")


#: PPO with SB3's CnnPolicy (Nature DQN trunk) on 64x64 RGB frames: 2,000-step rollouts (4 MountainCar
#: episodes), minibatches of 250; DoorKey adds an entropy bonus (MiniGrid's usual 0.01).
PPO_PIXELS = {"n_steps": 2000, "batch_size": 250, "gamma": 0.99, "n_epochs": 4}
#: the frame VAE of vime-latent: 16 latents per 64x64 frame, pretrained on 5,000 random-policy frames
PIXEL_ENCODER = {"encoder": "vae", "encoder_kwargs": {"latent_dim": 16}, "pretrain_frames": 5000,
                 "pretrain_steps": 2000, "pretrain_batch_size": 64}


def _vime_pixels() -> Suite:
    """Exploration from pixels: VIME on a pretrained frame VAE's latents against RND on the frames.

    Tasks: ``PixelSparseMountainCar-v0`` (300k steps) and MiniGrid ``PixelDoorKey-v0`` (200k steps), both
    64x64 RGB (``envs.pixels``). MountainCar stacks two frames: one frame shows the car's position but not
    its velocity, so a policy (and a dynamics model) seeing one frame cannot tell a car swinging up from one
    falling back; a DoorKey frame shows the whole state. Methods: no bonus; ``vime-latent``
    (``agents.pixels`` builds and pretrains the encoder from ``bonus_kwargs``, one per stacked frame; eta
    1e-3, as ``vime-sparse-v0`` used on every task); RND on the raw frames (its
    own CNNs), normalised by the running std of its bonuses and weighted by VIME's eta. Three seeds.
    """
    tasks = (
        TaskSpec("PixelSparseMountainCar-v0", "ppo", 300_000, algo_kwargs=PPO_PIXELS,
                 settings={"env_kwargs": {"frame_stack": 2}}),
        TaskSpec("PixelDoorKey-v0", "ppo", 200_000, algo_kwargs={**PPO_PIXELS, "ent_coef": 0.01}),
    )
    vime = MethodSpec("vime-latent", "vime-latent", eta=1e-3, bonus_kwargs=PIXEL_ENCODER)
    rnd = dataclasses.replace(vime, name="rnd", bonus="rnd", bonus_kwargs={"normalize_bonus": True})
    methods = (MethodSpec("none", "none"), vime, rnd)
    return Suite("vime-pixels", tasks, methods, seeds=3,
                 description="pixel MountainCar and MiniGrid DoorKey with PPO (CnnPolicy): no bonus, VIME on "
                             "frame-VAE latents, RND on frames")


SUITES[_vime_pixels().name] = _vime_pixels()
