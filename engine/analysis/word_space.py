"""Word vectors as the embedding explorer uses them (slides 11-13 and 24-26; Mikolov et al. 2013): nearest
neighbours by cosine, the analogy a - b + c, a direction between two words or two sets of words, and the two
benchmarks: Mikolov's analogy questions by section and the Spearman correlation with human similarity judgements.

A space is a list of words and a matrix of unit-length rows, one per word, so that a cosine is a dot product.
"""
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import scipy.stats


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """The rows scaled to length 1 as float32 (a zero row stays zero), so that a cosine is a dot product."""
    m = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0, 1, norms)


@dataclass(frozen=True)
class Space:
    words: list[str]
    unit: np.ndarray                # (n, d) float32, rows of length 1 (a zero row stays zero)
    index: dict[str, int]

    @classmethod
    def of(cls, words: list[str], vectors: np.ndarray) -> "Space":
        index: dict[str, int] = {}
        for i, w in enumerate(words):
            index.setdefault(w, i)          # a label given twice (Projector metadata may repeat) means its first row
        return cls(list(words), unit_rows(vectors), index)

    def __len__(self) -> int:
        return len(self.words)

    def missing(self, words: Iterable[str]) -> list[str]:
        return [w for w in words if w not in self.index]


def top(scores: np.ndarray, k: int, exclude: Iterable[int] = ()) -> list[int]:
    """Indices of the k highest scores, best first, leaving out `exclude`."""
    scores = scores.copy()
    scores[list(exclude)] = -np.inf
    k = min(k, int(np.isfinite(scores).sum()))
    best = np.argpartition(-scores, k - 1)[:k] if k else np.array([], dtype=int)
    return best[np.argsort(-scores[best])].tolist()


def neighbours(space: Space, word: str, k: int = 10) -> list[tuple[str, float]]:
    """The k words nearest to `word` by cosine, itself left out."""
    i = space.index[word]
    scores = space.unit @ space.unit[i]
    return [(space.words[j], float(scores[j])) for j in top(scores, k, [i])]


def analogy(space: Space, a: str, b: str, c: str, k: int = 5, limit: int | None = None) -> list[tuple[str, float]]:
    """a is to b as c is to ?: the words nearest to b - a + c (3CosAdd, the three inputs left out), among the first
    `limit` words of the space if given (for a space ordered by frequency, the common words)."""
    target = space.unit[space.index[b]] - space.unit[space.index[a]] + space.unit[space.index[c]]
    rows = space.unit if limit is None else space.unit[:limit]
    scores = rows @ (target / (np.linalg.norm(target) or 1.0))
    exclude = [space.index[w] for w in (a, b, c) if space.index[w] < len(rows)]
    return [(space.words[j], float(scores[j])) for j in top(scores, k, exclude)]


def direction(space: Space, negative: list[str], positive: list[str]) -> np.ndarray:
    """The unit axis from the mean of `negative` to the mean of `positive` (man -> woman, small -> large)."""
    axis = space.unit[[space.index[w] for w in positive]].mean(0) - space.unit[[space.index[w] for w in negative]].mean(0)
    norm = np.linalg.norm(axis)
    if norm == 0:
        raise ValueError("the two ends of the direction are the same point")
    return axis / norm


def along(space: Space, axis: np.ndarray, words: list[str]) -> list[tuple[str, float]]:
    """Each word's position on the axis (cosine of its vector with the axis)."""
    return [(w, float(space.unit[space.index[w]] @ axis)) for w in words]


def read_questions(text: str) -> dict[str, list[tuple[str, str, str, str]]]:
    """Mikolov's questions-words.txt: ': section' lines, then 'a b c d' lines (a is to b as c is to d)."""
    sections: dict[str, list[tuple[str, str, str, str]]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(":"):
            current = line[1:].strip()
            sections[current] = []
        elif line and current is not None:
            parts = line.lower().split()
            if len(parts) == 4:
                sections[current].append(tuple(parts))
    return sections


def analogy_benchmark(space: Space, sections: dict[str, list[tuple[str, str, str, str]]],
                      limit: int = 30000, batch: int = 512) -> dict:
    """Share of the questions whose four words are all among the first `limit` words that the nearest word to
    b - a + c (inputs left out) answers right, by section and overall, and the share of questions covered (the
    rule of gensim's evaluate_word_analogies with restrict_vocab=limit)."""
    rows = space.unit[:limit]
    known = {w: i for w, i in space.index.items() if i < limit}
    by_section, right_all, covered_all, total_all = {}, 0, 0, 0
    for name, questions in sections.items():
        usable = [q for q in questions if all(w in known for w in q)]
        ids = np.array([[known[w] for w in q] for q in usable], dtype=int).reshape(-1, 4)
        right = 0
        for s in range(0, len(ids), batch):
            a, b, c, d = ids[s:s + batch].T
            target = rows[b] - rows[a] + rows[c]
            scores = target @ rows.T
            scores[np.arange(len(a))[:, None], np.stack([a, b, c], 1)] = -np.inf
            right += int((scores.argmax(1) == d).sum())
        by_section[name] = {"accuracy": right / len(usable) if usable else float("nan"), "covered": len(usable),
                            "questions": len(questions)}
        right_all += right
        covered_all += len(usable)
        total_all += len(questions)
    return {"analogy_accuracy": right_all / covered_all if covered_all else float("nan"),
            "analogy_coverage": covered_all / total_all if total_all else 0.0, "by_section": by_section}


def similarity_benchmark(space: Space, pairs: list[tuple[str, str, float]]) -> dict:
    """Spearman correlation between cosine and human similarity over the pairs whose words are both known."""
    usable = [(a, b, h) for a, b, h in pairs if a in space.index and b in space.index]
    if len(usable) < 3:
        return {"spearman": float("nan"), "pairs_covered": len(usable), "pairs": len(pairs)}
    cos = [float(space.unit[space.index[a]] @ space.unit[space.index[b]]) for a, b, _ in usable]
    rho = scipy.stats.spearmanr(cos, [h for _, _, h in usable]).statistic
    return {"spearman": float(rho), "pairs_covered": len(usable), "pairs": len(pairs)}
