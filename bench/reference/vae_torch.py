"""PyTorch reference of genevae's benchmark VAE, timed the same way as bench/train.bench.ts.

Model: genes -> Linear(hidden) -> ReLU -> Linear(2 * latent) [mu | log-variance];
latent -> Linear(hidden) -> ReLU -> Linear(genes); Gaussian likelihood with gene-wise
log-variance; KL to N(0, I); Adam. Non-private training uses shuffled batches; DP-SGD uses
Poisson sampling, explicit per-example gradients (functorch vmap over grad, the way Opacus
materialises them), per-example clipping to norm C, Gaussian noise sigma * C on the sum and
division by the expected batch size.

Prints one JSON object. Run with Debian's python3-torch (1.13): /usr/bin/python3 vae_torch.py.
"""

import argparse
import json
import math
import resource
import time

import torch
from torch import nn


class Vae(nn.Module):
    def __init__(self, genes, hidden, latent):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(genes, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent))
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, genes))
        self.log_variance = nn.Parameter(torch.zeros(genes))
        self.latent = latent

    def forward(self, x, noise):
        """Per-example negative ELBO, [batch]."""
        encoded = self.encoder(x)
        mean, log_var = encoded[:, : self.latent], encoded[:, self.latent :]
        variance = log_var.exp() + 1e-4
        z = mean + variance.sqrt() * noise
        decoded = self.decoder(z)
        reconstruction = 0.5 * (((x - decoded) ** 2) * torch.exp(-self.log_variance) + self.log_variance + math.log(2 * math.pi)).sum(-1)
        kl = 0.5 * (mean**2 + variance - 1 - variance.log()).sum(-1)
        return reconstruction + kl


def matmul_rate(repeats=50):
    """GFLOP/s of a 128x2000 by 2000x256 product, by wall time and by CPU time."""
    a = torch.randn(128, 2000)
    b = torch.randn(2000, 256)
    for _ in range(5):
        a @ b
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        a @ b
    seconds = (time.perf_counter() - start) / repeats
    cpu_seconds = (time.process_time() - cpu_start) / repeats
    flop = 2 * 128 * 2000 * 256
    return flop / seconds / 1e9, flop / cpu_seconds / 1e9


def train_epoch_plain(model, optimizer, x, batch_size, generator):
    order = torch.randperm(x.shape[0], generator=generator)
    for start in range(0, x.shape[0], batch_size):
        rows = order[start : start + batch_size]
        batch = x[rows]
        noise = torch.randn(batch.shape[0], model.latent, generator=generator)
        optimizer.zero_grad()
        model(batch, noise).mean().backward()
        optimizer.step()


def make_dp_steps(model):
    from functorch import grad, make_functional, vmap

    functional, _ = make_functional(model)

    def example_loss(params, x, noise):
        return functional(params, x.unsqueeze(0), noise.unsqueeze(0)).sum()

    per_example_grads = vmap(grad(example_loss), in_dims=(None, 0, 0))

    def steps(optimizer, x, batch_size, clip_norm, noise_multiplier, count):
        n = x.shape[0]
        q = batch_size / n
        params = tuple(model.parameters())
        for _ in range(count):
            rows = torch.nonzero(torch.rand(n) < q).flatten()
            summed = [torch.zeros_like(p) for p in params]
            if rows.numel() > 0:
                noise = torch.randn(rows.numel(), model.latent)
                grads = per_example_grads(tuple(p.detach() for p in params), x[rows], noise)
                norms = torch.sqrt(sum((g.reshape(g.shape[0], -1) ** 2).sum(1) for g in grads))
                factors = (clip_norm / (norms + 1e-6)).clamp(max=1.0)
                summed = [torch.einsum("i,i...->...", factors, g) for g in grads]
            for p, s in zip(params, summed):
                p.grad = (s + torch.randn_like(s) * noise_multiplier * clip_norm) / (q * n)
            optimizer.step()

    return steps


def timed_dp_steps(run_steps, warmup, count, steps_per_epoch):
    """Times `count` steps after `warmup` and scales to an epoch: explicit per-example gradients
    are slow enough that whole epochs would dominate the benchmark's run time."""
    run_steps(warmup)
    start, cpu_start = time.perf_counter(), time.process_time()
    run_steps(count)
    per_step = (time.perf_counter() - start) * 1000 / count
    cpu_per_step = (time.process_time() - cpu_start) * 1000 / count
    return {
        "msPerEpoch": per_step * steps_per_epoch,
        "cpuMsPerEpoch": cpu_per_step * steps_per_epoch,
        "msPerStep": per_step,
        "timedSteps": count,
    }


def median_after_first(values):
    # The first epoch includes one-time set-up; report the median of the rest.
    rest = sorted(values[1:]) if len(values) > 1 else values
    return rest[len(rest) // 2]


def timed_epochs(run_epoch, epochs):
    """Wall-clock and CPU ms per epoch; CPU time is steadier on a shared machine."""
    times, cpu_times = [], []
    for _ in range(epochs):
        start, cpu_start = time.perf_counter(), time.process_time()
        run_epoch()
        times.append((time.perf_counter() - start) * 1000)
        cpu_times.append((time.process_time() - cpu_start) * 1000)
    return {"msPerEpoch": median_after_first(times), "epochMs": times, "cpuMsPerEpoch": median_after_first(cpu_times), "epochCpuMs": cpu_times}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--genes", type=int, default=2000)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--latent", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--dp-steps", type=int, default=6, help="DP-SGD steps timed (after 2 warm-up steps), scaled to an epoch")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-dp", action="store_true")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(args.samples, args.genes)

    wall_rate, cpu_rate = matmul_rate()
    result = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "matmulGflops": wall_rate,
        "matmulGflopsCpu": cpu_rate,
    }

    model = Vae(args.genes, args.hidden, args.latent)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    result["plain"] = timed_epochs(lambda: train_epoch_plain(model, optimizer, x, args.batch_size, generator), args.epochs)

    if not args.skip_dp:
        model = Vae(args.genes, args.hidden, args.latent)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        dp_steps = make_dp_steps(model)
        result["dpPerExample"] = timed_dp_steps(
            lambda count: dp_steps(optimizer, x, args.batch_size, 1.0, 1.0, count), 2, args.dp_steps, round(args.samples / args.batch_size)
        )

    # ru_maxrss is in kilobytes on Linux.
    result["peakRssMb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()
