"""One table of models: name -> ModelSpec. The CLI, the pages and the tests all list models from here."""
import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PRESETS = ("tiny", "cpu", "gpu")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    page: str                                   # url_path of the page that shows it
    config_cls: type
    presets: dict[str, Any]                     # preset name -> frozen Config
    build: Callable[[Any], Any]                 # config -> nn.Module
    data: Callable[[Any], Any]                  # config -> data object the step and evaluator use
    train_step: Callable[..., Any]              # (model, data, config, generator) -> scalar loss tensor
    evaluate: Callable[..., dict]               # (model, data, config, deps) -> metrics dict of this model alone
    # config -> {model name: preset}: the trained models this one's evaluation needs as judges (the digit classifier
    # that scores generated digits); they are trained first when missing.
    requires: Callable[[Any], dict] = field(default=lambda config: {})
    variants: tuple[dict, ...] = ()             # config overrides trained and shipped beside each preset
    # A model whose parts step separately (a GAN's players; a pair of networks each clipped on its own) gives
    # optimizers(model, config) -> {name: optimizer}, and then train_step(model, data, config, generator,
    # optimizers) takes the steps itself and returns a float.
    optimizers: Callable[[Any, Any], dict] | None = None
    # (model, data, config, report) -> None: a fitting phase after the optimizer's steps, whose results are kept in
    # the model's buffers and saved with it (Newton searches from the trained weights; gensim's word2vec on the
    # same corpora); report(done, total, value) shows its progress.
    after_steps: Callable[..., None] | None = None
    # The share of one GPU its `gpu` preset asks for on a Ray cluster: the paper-scale recurrent models (DRAW, the
    # captioners) fill one; the small ones share it.
    gpu_share: float = 0.25

    def configs(self, preset: str) -> list[Any]:
        """The preset's config and its shipped variants."""
        return [self.config(preset)] + [self.config(preset, **v) for v in self.variants]

    def config(self, preset: str = "cpu", **overrides) -> Any:
        if preset not in self.presets:
            raise KeyError(f"model {self.name!r} has no preset {preset!r} (presets: {', '.join(self.presets)})")
        return dataclasses.replace(self.presets[preset], **overrides)

    def config_from_dict(self, values: dict) -> Any:
        known = {f.name for f in dataclasses.fields(self.config_cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown config fields for {self.name}: {sorted(unknown)}")
        # JSON has no tuples: its arrays come back as the tuples a frozen config holds.
        return self.config_cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


_REGISTRY: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    if spec.name in _REGISTRY:
        raise ValueError(f"model {spec.name!r} is already registered")
    missing = [p for p in PRESETS if p not in spec.presets]
    if missing:
        raise ValueError(f"model {spec.name!r} lacks presets {missing}")
    _REGISTRY[spec.name] = spec
    return spec


def _load_models() -> None:
    # Importing the model package registers every family once.
    import engine.models  # noqa: F401


def get(name: str) -> ModelSpec:
    _load_models()
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def list_models() -> list[ModelSpec]:
    _load_models()
    return [_REGISTRY[n] for n in sorted(_REGISTRY)]


def config_dict(config: Any) -> dict:
    return dataclasses.asdict(config)


def added(default: Any) -> Any:
    """A config field added after checkpoints were stored: at its default it is left out of the config's hash, so
    every checkpoint trained before it existed keeps its key (set to anything else, it counts)."""
    return field(default=default, metadata={"added": True})


def config_hash(name: str, config: Any) -> str:
    """Stable 12-hex key of (model name, every config field but an added one at its default)."""
    left_out = {f.name for f in dataclasses.fields(config)
                if f.metadata.get("added") and getattr(config, f.name) == f.default}
    counted = {k: v for k, v in config_dict(config).items() if k not in left_out}
    blob = json.dumps({"name": name, "config": counted}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]
