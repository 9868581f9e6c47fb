"""Model families; importing this package registers each of them once."""
from engine.models import captioner, classifier, critical, dae, dae2d, depth, draw, embeddings, gan, gan2d, landscape, seq2seq  # noqa: F401, I001
