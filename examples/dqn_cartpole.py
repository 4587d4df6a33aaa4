"""Deep Q-learning on CartPole-v1 (gymnasium): replay buffer, target network, Huber loss,
an epsilon-greedy schedule and gradient clipping.

    pip install -e '.[rl,plot]'
    python examples/dqn_cartpole.py                       # trains, then 100 greedy episodes
    python examples/dqn_cartpole.py --plot returns.png    # and a plot of returns per episode
    python examples/dqn_cartpole.py --steps 2000 --quiet  # a quick check

Training stops after `--steps` environment steps, or earlier once a greedy check (every
`--check-every` steps, `--check-episodes` episodes on their own seeds) averages the full 500;
the weights of the best check are kept. The final evaluation plays 100 greedy episodes on seeds
that neither training nor the checks used, and reports their average return (CartPole counts as
solved at 195). With the same --seed two runs on the CPU are identical.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Batches of 64 x 128: BLAS threads cost more than they save here (set before NumPy loads).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import autograd as ag  # noqa: E402
import backends  # noqa: E402
import nn  # noqa: E402
import optim  # noqa: E402

#: Seeds of the final evaluation episodes start here (training and checks use lower ones).
EVAL_SEED_OFFSET = 1_000_000
CHECK_SEED_OFFSET = 500_000


def _gymnasium():
    try:
        import gymnasium
    except ImportError:
        raise SystemExit("dqn_cartpole needs gymnasium: pip install -e '.[rl]'") from None
    return gymnasium


class ReplayBuffer:
    """The last `capacity` transitions in preallocated host arrays, sampled uniformly."""

    def __init__(self, capacity: int, obs_dim: int, seed: int) -> None:
        self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.done = np.zeros(capacity, dtype=np.float32)  # 1 where the episode terminated
        self.capacity, self.size, self.pos = capacity, 0, 0
        self.rng = np.random.default_rng(seed)

    def add(self, obs, action: int, reward: float, next_obs, terminated: bool) -> None:
        i = self.pos
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_obs[i], self.done[i] = next_obs, float(terminated)
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, device) -> tuple:
        i = self.rng.integers(0, self.size, batch_size)
        return tuple(ag.tensor(a[i], device=device) for a in
                     (self.obs, self.actions, self.rewards, self.next_obs, self.done))


def q_network(obs_dim: int, n_actions: int, hidden: int) -> nn.Module:
    return nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                         nn.ReLU(), nn.Linear(hidden, n_actions))


def epsilon_at(step: int, start: float, end: float, decay_steps: int) -> float:
    """The linear epsilon-greedy schedule: `start` at step 0 down to `end` at `decay_steps`."""
    return end + (start - end) * max(0.0, 1.0 - step / decay_steps)


def greedy_action(model: nn.Module, obs, device) -> int:
    with ag.no_grad():
        q = model(ag.tensor(obs[None, :], device=device))
    return int(ag.argmax(q).item())


def play(env, model: nn.Module, seeds, device) -> list[float]:
    """The greedy policy's return in one episode per seed."""
    returns = []
    for seed in seeds:
        obs, _ = env.reset(seed=int(seed))
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(greedy_action(model, obs, device))
            total += reward
            done = terminated or truncated
        returns.append(total)
    return returns


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: KEDJA_DEVICE or cpu)")
    p.add_argument("--steps", type=int, default=60_000, help="most environment steps")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--gamma", type=float, default=0.99)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--buffer", type=int, default=50_000, help="replay buffer capacity")
    p.add_argument("--learning-starts", type=int, default=1_000,
                   help="random steps that fill the buffer before learning")
    p.add_argument("--train-every", type=int, default=1, help="environment steps per update")
    p.add_argument("--target-every", type=int, default=500,
                   help="updates between copies of the online network into the target")
    p.add_argument("--eps-start", type=float, default=1.0)
    p.add_argument("--eps-end", type=float, default=0.02)
    p.add_argument("--eps-decay", type=int, default=10_000, help="steps from start to end")
    p.add_argument("--max-grad-norm", type=float, default=10.0)
    p.add_argument("--double", action="store_true",
                   help="Double DQN: the online network picks the next action, the target "
                   "network values it")
    p.add_argument("--check-every", type=int, default=2_500,
                   help="steps between greedy checks (0: none)")
    p.add_argument("--check-episodes", type=int, default=10)
    p.add_argument("--eval-episodes", type=int, default=100)
    p.add_argument("--plot", type=Path, default=None, help="write returns per episode here (PNG)")
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    gym = _gymnasium()
    device = backends.get(args.device)
    start = time.perf_counter()
    ag.manual_seed(args.seed)  # the networks' initial weights
    rng = np.random.default_rng(args.seed)  # exploration
    env = gym.make("CartPole-v1")
    check_env = gym.make("CartPole-v1")
    obs_dim, n_actions = env.observation_space.shape[0], env.action_space.n

    online = q_network(obs_dim, n_actions, args.hidden).to(device)
    target = q_network(obs_dim, n_actions, args.hidden).to(device)
    target.load_state_dict(online.state_dict())
    opt = optim.Adam(online.parameters(), lr=args.lr)
    loss_fn = nn.HuberLoss()
    buffer = ReplayBuffer(args.buffer, obs_dim, args.seed)
    initial = {k: v.numpy().copy() for k, v in online.state_dict().items()}

    episode_returns, losses, checks = [], [], []
    best = (-1.0, None)
    obs, _ = env.reset(seed=args.seed)
    episode, total, updates = 0, 0.0, 0
    for step in range(args.steps):
        eps = epsilon_at(step, args.eps_start, args.eps_end, args.eps_decay)
        if step < args.learning_starts or rng.random() < eps:
            action = int(rng.integers(n_actions))
        else:
            action = greedy_action(online, obs, device)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        # A truncated episode (the 500-step limit) is cut short, not ended: its last state
        # still bootstraps from the next one; only termination zeroes the future.
        buffer.add(obs, action, reward, next_obs, terminated)
        obs, total = next_obs, total + reward
        if terminated or truncated:
            episode_returns.append(total)
            episode += 1
            obs, _ = env.reset(seed=args.seed + episode)
            total = 0.0

        if step >= args.learning_starts and step % args.train_every == 0:
            s, a, r, s2, done = buffer.sample(args.batch_size, device)
            with ag.no_grad():
                if args.double:
                    best_next = ag.argmax(online(s2), axis=1).reshape(-1, 1)
                    next_q = ag.take_along_axis(target(s2), best_next, axis=1).reshape(-1)
                else:
                    next_q = ag.max(target(s2), axis=1)
                y = r + args.gamma * (1.0 - done) * next_q
            q = ag.take_along_axis(online(s), a.reshape(-1, 1), axis=1).reshape(-1)
            loss = loss_fn(q, y)
            opt.zero_grad()
            loss.backward()
            optim.clip_grad_norm_(online.parameters(), args.max_grad_norm)
            opt.step()
            updates += 1
            if updates % 100 == 0:
                losses.append(loss.item())
            if updates % args.target_every == 0:
                target.load_state_dict(online.state_dict())

        if args.check_every and (step + 1) % args.check_every == 0 and step >= args.learning_starts:
            seeds = CHECK_SEED_OFFSET + len(checks) * args.check_episodes + np.arange(
                args.check_episodes)
            mean = float(np.mean(play(check_env, online, seeds, device)))
            checks.append((step + 1, mean))
            if mean > best[0]:
                best = (mean, {k: v.numpy().copy() for k, v in online.state_dict().items()})
            if not args.quiet:
                recent = np.mean(episode_returns[-10:]) if episode_returns else 0.0
                print(f"step {step + 1:6d}  episodes {episode:4d}  eps {eps:.3f}  train return "
                      f"(last 10) {recent:6.1f}  greedy check {mean:6.1f}  "
                      f"{time.perf_counter() - start:6.1f} s", flush=True)
            if mean >= 500.0:
                break

    trained_steps = step + 1
    if best[1] is not None:
        online.load_state_dict({k: ag.tensor(v, device=device) for k, v in best[1].items()})
    train_seconds = time.perf_counter() - start
    eval_returns = play(check_env, online, EVAL_SEED_OFFSET + np.arange(args.eval_episodes),
                        device)
    seconds = time.perf_counter() - start
    mean_return = float(np.mean(eval_returns)) if eval_returns else float("nan")
    changed = any(not np.array_equal(initial[k], v.numpy())
                  for k, v in online.state_dict().items())
    print(f"average return over {args.eval_episodes} greedy episodes: {mean_return:.1f} "
          f"(min {min(eval_returns, default=0):.0f})  training: {trained_steps} steps, "
          f"{episode} episodes, {train_seconds:.1f} s  total {seconds:.1f} s", flush=True)
    if args.plot is not None:
        plot_returns(args.plot, episode_returns, eval_returns)
    return {"mean_return": mean_return, "eval_returns": eval_returns,
            "episode_returns": episode_returns, "losses": losses, "checks": checks,
            "steps": trained_steps, "seconds": seconds, "parameters_changed": changed,
            "model": online}


def plot_returns(path: Path, episode_returns: list, eval_returns: list) -> None:
    """Returns per training episode (and their 20-episode mean) and of the greedy evaluation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), width_ratios=(3, 1))
    left.plot(episode_returns, lw=0.6, color="tab:blue", label="episode return")
    if len(episode_returns) >= 20:
        smooth = np.convolve(episode_returns, np.ones(20) / 20, mode="valid")
        left.plot(np.arange(19, len(episode_returns)), smooth, color="tab:orange",
                  label="mean of 20")
    left.axhline(195, color="gray", ls="--", lw=0.8, label="solved (195)")
    left.set(xlabel="training episode", ylabel="return", title="DQN on CartPole-v1: training")
    left.legend(loc="upper left")
    right.plot(eval_returns, ".", color="tab:green")
    right.axhline(np.mean(eval_returns), color="tab:green", lw=0.8)
    right.set(xlabel="evaluation episode", ylim=(0, 520),
              title=f"greedy: mean {np.mean(eval_returns):.1f}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
