"""Interpolation between two digits at a chosen level of a deep autoencoder, and how plausible the path is."""
import torch


def interpolate(model, xa: torch.Tensor, xb: torch.Tensor, level: str, alphas: torch.Tensor) -> torch.Tensor:
    """Decoded interpolants (P, K, 784) for pairs xa, xb (P, 784) at mixing weights alphas (K,)."""
    dev = next(model.parameters()).device
    ha, hb = model.encode(xa.to(dev), level), model.encode(xb.to(dev), level)       # (P, H)
    a = alphas.to(dev).view(1, -1, 1)                                               # (1, K, 1)
    h = (1 - a) * ha.unsqueeze(1) + a * hb.unsqueeze(1)                             # (P, K, H)
    out = model.decode(h.reshape(-1, h.shape[-1]), level)                           # (P*K, 784)
    return out.view(len(xa), len(alphas), -1).cpu()


def nearest_distance(images: torch.Tensor, reference: torch.Tensor, chunk: int = 2048) -> tuple[torch.Tensor, torch.Tensor]:
    """Euclidean distance from each image (N, D) to its nearest reference row, and that row's index."""
    dists, idx = [], []
    for i in range(0, len(images), chunk):
        d = torch.cdist(images[i:i + chunk], reference)                            # (n, R)
        best = d.min(-1)
        dists.append(best.values)
        idx.append(best.indices)
    return torch.cat(dists), torch.cat(idx)


def different_class_pairs(labels: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """n index pairs (n, 2) into labels whose two classes differ, drawn with a fixed seed."""
    if len(labels.unique()) < 2:
        raise ValueError("pairs of different classes need at least two classes in the test set")
    g = torch.Generator().manual_seed(seed)
    pairs = []
    while len(pairs) < n:
        i, j = torch.randint(0, len(labels), (2,), generator=g).tolist()
        if labels[i] != labels[j]:
            pairs.append((i, j))
    return torch.tensor(pairs)


@torch.no_grad()
def plausibility_by_level(model, classifier, data, levels, n_pairs: int, n_points: int, seed: int = 0) -> dict:
    """Score interpolation paths between test digits of different classes, level by level.

    Per level: mean classifier confidence of the interior interpolants (higher = more digit-like) and mean
    distance to the nearest training digit (lower = closer to real data), plus both curves along the path.
    The slide-89 claim holds when, level after level, confidence rises and the distance falls.
    """
    pairs = different_class_pairs(data.y_test, n_pairs, seed)
    alphas = torch.linspace(0, 1, n_points)
    out = {}
    for level in levels:
        path = interpolate(model, data.x_test[pairs[:, 0]], data.x_test[pairs[:, 1]], level, alphas)  # (P, K, 784)
        flat = path.reshape(-1, 784)
        conf, _ = classifier.confidence(flat)
        dist, _ = nearest_distance(flat, data.x_train)
        conf, dist = conf.view(len(pairs), n_points), dist.view(len(pairs), n_points)
        out[level] = {"confidence": round(conf[:, 1:-1].mean().item(), 4),
                      "nn_distance": round(dist[:, 1:-1].mean().item(), 4),
                      "confidence_curve": [round(v, 4) for v in conf.mean(0).tolist()],
                      "nn_distance_curve": [round(v, 4) for v in dist.mean(0).tolist()]}
    confidences = [out[lvl]["confidence"] for lvl in levels]
    distances = [out[lvl]["nn_distance"] for lvl in levels]
    by_confidence = all(a < b for a, b in zip(confidences, confidences[1:]))
    by_distance = all(a > b for a, b in zip(distances, distances[1:]))
    return {"levels": out, "pairs": len(pairs), "alphas": [round(a, 4) for a in alphas.tolist()],
            "holds_by_confidence": by_confidence, "holds_by_distance": by_distance,
            "claim_holds": by_confidence and by_distance}
