"""Model families; importing this package registers each of them once."""
from engine.models import (  # noqa: F401
    captioner,
    classifier,
    critical,
    dae,
    dae2d,
    depth,
    draw,
    embeddings,
    gan,
    gan2d,
    landscape,
    seq2seq,
)
