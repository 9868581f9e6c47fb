"""Small helpers shared by the model families."""
import torch


def sample_batch(x: torch.Tensor, batch_size: int, generator: torch.Generator, *others: torch.Tensor):
    """A random minibatch (with replacement across steps) drawn with the run's own generator."""
    idx = torch.randint(0, len(x), (batch_size,), generator=generator)
    return (x[idx], *(o[idx] for o in others))


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def snapshot_row(done: int, steps: int, snapshots: int) -> int | None:
    """The trajectory row to fill after `done` of `steps` training steps, for `snapshots` + 1 rows spaced evenly
    (row 0 is the initial state, the last row the final one), or None between recorded steps."""
    every = max(1, steps // snapshots)
    if done % every and done != steps:
        return None
    return min(done // every, snapshots)
