"""Model families; importing this package registers each of them once."""
from engine.models import classifier, critical, dae, dae2d, draw, landscape  # noqa: F401
