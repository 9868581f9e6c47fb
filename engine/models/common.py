"""Small helpers shared by the model families."""
import torch


def sample_batch(x: torch.Tensor, batch_size: int, generator: torch.Generator, *others: torch.Tensor):
    """A random minibatch (with replacement across steps) drawn with the run's own generator."""
    idx = torch.randint(0, len(x), (batch_size,), generator=generator)
    return (x[idx], *(o[idx] for o in others))


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device
