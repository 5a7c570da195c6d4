"""PPO with a curiosity bonus on a gymnasium vector env, in the style of a CleanRL single-file agent.

CleanRL's ``ppo_continuous_action.py`` (its network, update and defaults), plus the lines that add a bonus
of :mod:`curiosity` (no Stable-Baselines3): wrap the vector env in ``CuriosityVectorWrapper``; the reward the
agent learns from becomes ``r + eta * bonus``, and ``info["extrinsic_reward"]`` keeps the task's own.

    OUT=benchmarks/results/cleanrl_example
    python examples/cleanrl_ppo_curiosity.py --bonus vime --seed 0 --out-dir $OUT
    python examples/cleanrl_ppo_curiosity.py --bonus none --seed 0 --out-dir $OUT
    python examples/cleanrl_ppo_curiosity.py --summarize --out-dir $OUT

Each run writes ``<out-dir>/<bonus>_seed<seed>.json`` (steps to the first success, successes, final return,
wall time); ``--summarize`` writes ``<out-dir>/summary.md`` from them. Success is ``info["goal_reached"]``:
``SparseMountainCar-v1`` also pays its reward at the left end of the track (a quirk of the original).

References:
    Huang et al., "CleanRL: High-quality single-file implementations of deep reinforcement learning
    algorithms", JMLR 2022. Houthooft et al., "VIME: Variational Information Maximizing Exploration", 2016.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
import tyro
from torch.distributions.normal import Normal

import envs as sparse_tasks  # noqa: F401  (registers SparseMountainCar-v1)
from curiosity import CuriosityVectorWrapper


@dataclass
class Args:
    seed: int = 0
    """seed of the experiment (envs, policy, bonus)"""
    env_id: str = "SparseMountainCar-v1"
    """the id of the environment"""
    total_timesteps: int = 300_000
    """total timesteps of the experiment"""
    bonus: str = "vime"
    """``none``, or a bonus of ``curiosity`` (``vime``, ``rnd``, ``icm``, ``disagreement``, ...)"""
    eta: float | None = None
    """scale of the bonus, ``r + eta * bonus`` (default: the bonus's own)"""
    learning_rate: float = 3e-4
    """the learning rate of the optimizer"""
    num_envs: int = 4
    """the number of parallel game environments"""
    num_steps: int = 512
    """the number of steps to run in each environment per policy rollout"""
    anneal_lr: bool = True
    """Toggle learning rate annealing for policy and value networks"""
    gamma: float = 0.99
    """the discount factor gamma"""
    gae_lambda: float = 0.95
    """the lambda for the general advantage estimation"""
    num_minibatches: int = 32
    """the number of mini-batches"""
    update_epochs: int = 10
    """the K epochs to update the policy"""
    norm_adv: bool = True
    """Toggles advantages normalization"""
    clip_coef: float = 0.2
    """the surrogate clipping coefficient"""
    clip_vloss: bool = True
    """Toggles whether or not to use a clipped loss for the value function"""
    ent_coef: float = 0.0
    """coefficient of the entropy"""
    vf_coef: float = 0.5
    """coefficient of the value function"""
    max_grad_norm: float = 0.5
    """the maximum norm for the gradient clipping"""
    threads: int = 1
    """torch CPU threads"""
    out_dir: str | None = None
    """where to write ``<bonus>_seed<seed>.json`` (nothing written if unset)"""
    summarize: bool = False
    """instead of training, write ``<out-dir>/summary.md`` from the runs' JSON files"""


def make_env(env_id: str):
    def thunk():
        return gym.wrappers.RecordEpisodeStatistics(gym.make(env_id))  # extrinsic returns: inside the bonus

    return thunk


def layer_init(layer, std=2**0.5, bias_const=0.0):
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    def __init__(self, envs):
        super().__init__()
        obs_dim = np.array(envs.single_observation_space.shape).prod()
        act_dim = np.prod(envs.single_action_space.shape)
        self.critic = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 1), std=1.0),
        )  # fmt: skip
        self.actor_mean = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, act_dim), std=0.01),
        )  # fmt: skip
        self.actor_logstd = nn.Parameter(torch.zeros(1, act_dim))

    def get_value(self, x):
        return self.critic(x)

    def get_action_and_value(self, x, action=None):
        action_mean = self.actor_mean(x)
        action_std = torch.exp(self.actor_logstd.expand_as(action_mean))
        probs = Normal(action_mean, action_std)
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action).sum(1), probs.entropy().sum(1), self.critic(x)


def train(args: Args) -> dict:
    batch_size = args.num_envs * args.num_steps
    minibatch_size = batch_size // args.num_minibatches
    num_iterations = args.total_timesteps // batch_size
    random.seed(args.seed)
    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # denormals slow CPU training several-fold

    envs = gym.vector.SyncVectorEnv([make_env(args.env_id) for _ in range(args.num_envs)])
    if args.bonus != "none":  # the three lines: wrap, train the bonus once per rollout, read the rewards
        kwargs = {"seed": args.seed, **({} if args.eta is None else {"eta": args.eta})}
        envs = CuriosityVectorWrapper(envs, args.bonus, train_freq=batch_size, bonus_kwargs=kwargs)
    low, high = envs.single_action_space.low, envs.single_action_space.high

    agent = Agent(envs)
    optimizer = optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
    obs = torch.zeros((args.num_steps, args.num_envs, *envs.single_observation_space.shape))
    actions = torch.zeros((args.num_steps, args.num_envs, *envs.single_action_space.shape))
    logprobs = torch.zeros((args.num_steps, args.num_envs))
    rewards = torch.zeros((args.num_steps, args.num_envs))
    dones = torch.zeros((args.num_steps, args.num_envs))
    values = torch.zeros((args.num_steps, args.num_envs))

    global_step, start_time = 0, time.time()
    first_success, successes, episodes = None, 0, 0
    recent_returns, recent_goals = deque(maxlen=20), deque(maxlen=20)
    next_obs, _ = envs.reset(seed=args.seed)
    next_obs, next_done = torch.Tensor(next_obs), torch.zeros(args.num_envs)

    for iteration in range(1, num_iterations + 1):
        if args.anneal_lr:
            optimizer.param_groups[0]["lr"] = (1.0 - (iteration - 1.0) / num_iterations) * args.learning_rate

        for step in range(args.num_steps):
            global_step += args.num_envs
            obs[step], dones[step] = next_obs, next_done
            with torch.no_grad():
                action, logprob, _, value = agent.get_action_and_value(next_obs)
                values[step] = value.flatten()
            actions[step], logprobs[step] = action, logprob
            # the env (and the bonus) see the clipped action; PPO keeps the sampled one
            next_obs, reward, terminations, truncations, infos = envs.step(np.clip(action.numpy(), low, high))
            next_done = np.logical_or(terminations, truncations)
            rewards[step] = torch.tensor(reward).view(-1)
            next_obs, next_done = torch.Tensor(next_obs), torch.Tensor(next_done)
            for i in np.flatnonzero(infos.get("_episode", [])):  # episodes that ended at this step
                goal = bool(infos["goal_reached" if "goal_reached" in infos else "is_success"][i])
                episodes += 1
                successes += goal
                recent_returns.append(float(infos["episode"]["r"][i]))
                recent_goals.append(goal)
                if goal and first_success is None:
                    first_success = global_step
                    print(f"global_step={global_step}, first success")

        # bootstrap value if not done (NEXT_STEP autoreset: a finished env's next step only resets it)
        with torch.no_grad():
            next_value = agent.get_value(next_obs).reshape(1, -1)
            advantages = torch.zeros_like(rewards)
            lastgaelam = 0
            for t in reversed(range(args.num_steps)):
                if t == args.num_steps - 1:
                    nextnonterminal, nextvalues = 1.0 - next_done, next_value
                else:
                    nextnonterminal, nextvalues = 1.0 - dones[t + 1], values[t + 1]
                delta = rewards[t] + args.gamma * nextvalues * nextnonterminal - values[t]
                lastgaelam = delta + args.gamma * args.gae_lambda * nextnonterminal * lastgaelam
                advantages[t] = lastgaelam
            returns = advantages + values

        b_obs = obs.reshape((-1, *envs.single_observation_space.shape))
        b_logprobs = logprobs.reshape(-1)
        b_actions = actions.reshape((-1, *envs.single_action_space.shape))
        b_advantages, b_returns, b_values = advantages.reshape(-1), returns.reshape(-1), values.reshape(-1)
        # a step whose observation is a final one only resets its env (NEXT_STEP autoreset): not a transition
        b_inds = np.flatnonzero(dones.reshape(-1).numpy() == 0)

        for _ in range(args.update_epochs):
            rng.shuffle(b_inds)
            for start in range(0, len(b_inds), minibatch_size):
                mb_inds = b_inds[start : start + minibatch_size]
                _, newlogprob, entropy, newvalue = agent.get_action_and_value(
                    b_obs[mb_inds], b_actions[mb_inds]
                )
                logratio = newlogprob - b_logprobs[mb_inds]
                ratio = logratio.exp()
                mb_advantages = b_advantages[mb_inds]
                if args.norm_adv:
                    mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)
                pg_loss1 = -mb_advantages * ratio
                pg_loss2 = -mb_advantages * torch.clamp(ratio, 1 - args.clip_coef, 1 + args.clip_coef)
                pg_loss = torch.max(pg_loss1, pg_loss2).mean()
                newvalue = newvalue.view(-1)
                if args.clip_vloss:
                    v_loss_unclipped = (newvalue - b_returns[mb_inds]) ** 2
                    v_clipped = b_values[mb_inds] + torch.clamp(
                        newvalue - b_values[mb_inds], -args.clip_coef, args.clip_coef
                    )
                    v_loss_clipped = (v_clipped - b_returns[mb_inds]) ** 2
                    v_loss = 0.5 * torch.max(v_loss_unclipped, v_loss_clipped).mean()
                else:
                    v_loss = 0.5 * ((newvalue - b_returns[mb_inds]) ** 2).mean()
                loss = pg_loss - args.ent_coef * entropy.mean() + v_loss * args.vf_coef
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()

        if iteration % 10 == 0 or iteration == num_iterations:
            mean_return = np.mean(recent_returns) if recent_returns else float("nan")
            print(
                f"global_step={global_step}, episodes={episodes}, successes={successes}, "
                f"recent_return={mean_return:.2f}, SPS={int(global_step / (time.time() - start_time))}"
            )
    envs.close()
    return {
        "env_id": args.env_id, "bonus": args.bonus, "seed": args.seed, "total_timesteps": global_step,
        "steps_to_first_success": first_success, "successes": successes, "episodes": episodes,
        "final_return": float(np.mean(recent_returns)) if recent_returns else None,
        "final_success_rate": float(np.mean(recent_goals)) if recent_goals else None,
        "wall_time_s": round(time.time() - start_time, 1), "args": asdict(args),
    }  # fmt: skip


def summarize(out_dir: Path) -> str:
    """A markdown table over the runs' JSON files in ``out_dir``, one row per bonus."""
    runs: dict[str, list[dict]] = {}
    for path in sorted(out_dir.glob("*_seed*.json")):
        run = json.loads(path.read_text())
        runs.setdefault(run["bonus"], []).append(run)
    if not runs:
        raise FileNotFoundError(f"no <bonus>_seed<seed>.json files in {out_dir}")
    lines = [
        "| bonus | seeds reaching the goal | median steps to first success | goal episodes per run | "
        "final success rate | wall time per run |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for bonus, rs in sorted(runs.items(), key=lambda kv: kv[0] != "none"):
        firsts = [r["steps_to_first_success"] for r in rs if r["steps_to_first_success"] is not None]
        median_first = f"{statistics.median(firsts):,.0f}" if firsts else "never"
        rates = [r["final_success_rate"] or 0.0 for r in rs]
        lines.append(
            f"| {bonus} | {len(firsts)}/{len(rs)} | {median_first} | "
            f"{', '.join(str(r['successes']) for r in rs)} | {np.mean(rates):.2f} | "
            f"{np.mean([r['wall_time_s'] for r in rs]) / 60:.1f} min |"
        )
    every = [r for rs in runs.values() for r in rs]
    budgets = sorted({(r["args"]["total_timesteps"], r["total_timesteps"]) for r in every})
    budget = ", ".join(f"{asked:,} ({ran:,} in whole rollouts)" for asked, ran in budgets)
    seeds = sorted({r["seed"] for r in every})
    header = (
        f"{', '.join(sorted({r['env_id'] for r in every}))}, budget {budget} steps, seeds {seeds}. "
        "Final success rate: goal episodes among each run's last 20, averaged over seeds. Each run: `python "
        "examples/cleanrl_ppo_curiosity.py --bonus <bonus> --seed <seed> --total-timesteps <budget> "
        f"--out-dir {out_dir}`; this table: `... --summarize --out-dir {out_dir}`.\n\n"
    )
    return header + "\n".join(lines) + "\n"


def main(args: Args) -> None:
    if args.summarize:
        if args.out_dir is None:
            raise ValueError("--summarize needs --out-dir, the folder of the runs' JSON files")
        table = summarize(Path(args.out_dir))
        (Path(args.out_dir) / "summary.md").write_text(table)
        print(table)
        return
    result = train(args)
    print(json.dumps({k: v for k, v in result.items() if k != "args"}))
    if args.out_dir is not None:
        path = Path(args.out_dir) / f"{args.bonus}_seed{args.seed}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main(tyro.cli(Args))
