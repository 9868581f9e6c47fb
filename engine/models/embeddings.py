"""Word vectors learned here (slides 24-26), on two small corpora, beside the vectors that ship inside packages.

- Bengio et al. 2003's neural language model (slide 24): the previous `context` words are looked up in a shared
  table C, concatenated, passed through a tanh hidden layer and a softmax over the vocabulary that predicts the next
  word. The rows of C are the word vectors.
- word2vec (Mikolov et al. 2013), skip-gram and CBOW, trained by gensim after the language model's steps.

Corpora: the English side of the seeded grammar the attention page translates (word classes known, so the vectors'
neighbourhoods can be scored against them), and the Lee news corpus that ships in gensim's test data (300 short
articles, about 58,000 words: far too little text for analogies, enough for a few topical neighbourhoods).

`engine eval embeddings` reports, for every table trained here: the analogy accuracy and coverage on Mikolov's
questions (restrict_vocab 30,000), the WordSim-353 Spearman correlation, and the k-NN class purity for the vectors
trained on the grammar (`benchmark` scores the shipped GloVe and MiniLM tables the same way, for the claims).
"""
import functools
import zlib
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.analysis import word_space
from engine.data import grammar, vectors
from engine.models.common import sample_batch
from engine.registry import ModelSpec, register

CORPORA = ("grammar", "lee")
METHODS = ("nplm", "sg", "cbow")
METHOD_NAMES = {"nplm": "neural language model (Bengio et al. 2003)", "sg": "word2vec skip-gram",
                "cbow": "word2vec CBOW"}
CORPUS_NAMES = {"grammar": "the grammar's English", "lee": "the Lee news corpus"}
START, UNKNOWN = "<s>", "<unk>"
NEIGHBOURS = 5


@dataclass(frozen=True)
class WordVecConfig:
    grammar_sentences: int = 20000
    min_count: int = 2
    dim: int = 50               # word2vec vectors
    window: int = 5
    w2v_epochs: int = 20
    context: int = 3            # language model: the words before the one predicted
    emb: int = 30               # language model: the width of C
    hidden: int = 100
    steps: int = 4000
    batch_size: int = 256
    lr: float = 3e-3
    seed: int = 0


@dataclass(frozen=True)
class Corpus:
    sentences: list[list[str]]
    vocab: list[str]            # START, UNKNOWN, then the words seen at least min_count times, commonest first
    contexts: torch.Tensor      # (windows, context) word ids
    targets: torch.Tensor       # (windows,)


def corpus_sentences(name: str, config: WordVecConfig) -> list[list[str]]:
    if name == "grammar":
        return [list(p.src) for p in grammar.corpus(config.seed, config.grammar_sentences)]
    from gensim.test.utils import datapath
    from gensim.utils import simple_preprocess

    with open(datapath("lee_background.cor"), encoding="utf-8") as f:
        return [simple_preprocess(line) for line in f if line.strip()]


def build_corpus(sentences: list[list[str]], config: WordVecConfig) -> Corpus:
    counts = Counter(w for s in sentences for w in s)
    vocab = [START, UNKNOWN] + [w for w, c in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0]))
                                if c >= config.min_count]
    ids = {w: i for i, w in enumerate(vocab)}
    contexts, targets = [], []
    for s in sentences:
        row = [0] * config.context + [ids.get(w, 1) for w in s]
        for t in range(config.context, len(row)):
            contexts.append(row[t - config.context:t])
            targets.append(row[t])
    return Corpus(sentences, vocab, torch.tensor(contexts), torch.tensor(targets))


@functools.cache
def corpora(config: WordVecConfig) -> dict[str, Corpus]:
    return {name: build_corpus(corpus_sentences(name, config), config) for name in CORPORA}


class LanguageModel(nn.Module):
    """P(w_t | w_{t-n}, ..., w_{t-1}) = softmax(U tanh(H [C(w_{t-n}); ...; C(w_{t-1})] + d) + b)."""

    def __init__(self, vocab: int, config: WordVecConfig):
        super().__init__()
        self.C = nn.Embedding(vocab, config.emb)
        self.H = nn.Linear(config.context * config.emb, config.hidden)
        self.U = nn.Linear(config.hidden, vocab)

    def forward(self, contexts: torch.Tensor) -> torch.Tensor:
        return self.U(torch.tanh(self.H(self.C(contexts).flatten(1))))          # (B, vocab) logits


class WordVectors(nn.Module):
    def __init__(self, config: WordVecConfig, vocab_sizes: dict[str, int] | None = None):
        super().__init__()
        sizes = vocab_sizes or {name: len(c.vocab) for name, c in corpora(config).items()}
        self.models = nn.ModuleDict({name: LanguageModel(sizes[name], config) for name in CORPORA})
        for name in CORPORA:        # word2vec tables, filled after the language models' steps
            for method in ("sg", "cbow"):
                self.register_buffer(f"{name}_{method}", torch.zeros(sizes[name], config.dim))

    def table(self, corpus: str, method: str) -> np.ndarray:
        if method == "nplm":
            return self.models[corpus].C.weight.detach().cpu().numpy()
        return getattr(self, f"{corpus}_{method}").cpu().numpy()

    def forward(self, contexts: torch.Tensor) -> torch.Tensor:
        """The grammar model's next-word logits."""
        return self.models["grammar"](contexts)


def train_step(model, data, config, generator):
    dev = next(model.parameters()).device
    loss = 0.0
    for name, c in data.items():
        contexts, targets = sample_batch(c.contexts, config.batch_size, generator, c.targets)
        loss = loss + F.cross_entropy(model.models[name](contexts.to(dev)), targets.to(dev))
    return loss


def word2vec(model, data, config, report) -> None:
    """Skip-gram and CBOW on each corpus, one worker thread and a fixed hash so that a run is reproducible."""
    from gensim.models import Word2Vec

    jobs = [(name, method) for name in CORPORA for method in ("sg", "cbow")]
    for done, (name, method) in enumerate(jobs, 1):
        c = data[name]
        w2v = Word2Vec(c.sentences, vector_size=config.dim, window=config.window, min_count=config.min_count,
                       sg=int(method == "sg"), epochs=config.w2v_epochs, workers=1, seed=config.seed,
                       hashfxn=lambda text: zlib.crc32(text.encode()))
        table = np.zeros((len(c.vocab), config.dim), dtype=np.float32)
        for i, w in enumerate(c.vocab[2:], 2):
            table[i] = w2v.wv[w]
        getattr(model, f"{name}_{method}").copy_(torch.from_numpy(table))
        report(done, len(jobs), 0.0)


# ---------------------------------------------------------------- evaluation

def class_purity(space: word_space.Space, classes: dict[str, str], k: int = NEIGHBOURS) -> float:
    """Among the words with a known class, the mean share of each word's k nearest such words in its class."""
    words = [w for w in space.words if w in classes]
    if len(words) <= k:
        return float("nan")
    unit = space.unit[[space.index[w] for w in words]]
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    nearest = np.argsort(-sims, axis=1)[:, :k]
    labels = np.array([classes[w] for w in words])
    return float((labels[nearest] == labels[:, None]).mean())


def benchmark(space: word_space.Space, questions: dict, pairs: list) -> dict:
    analogies = word_space.analogy_benchmark(space, questions)
    similarity = word_space.similarity_benchmark(space, pairs)
    return {"analogy_accuracy": round(analogies["analogy_accuracy"], 4),
            "analogy_coverage": round(analogies["analogy_coverage"], 4),
            "wordsim353_spearman": round(similarity["spearman"], 4),
            "wordsim353_pairs": similarity["pairs_covered"]}


def trained_space(model: WordVectors, data: dict[str, Corpus], corpus: str, method: str) -> word_space.Space:
    c = data[corpus]
    return word_space.Space.of(c.vocab[2:], model.table(corpus, method)[2:])


def evaluate(model, data, config, deps):
    questions = word_space.read_questions(vectors.analogy_questions())
    pairs = vectors.wordsim353()
    classes = grammar.word_classes()
    per_source = {}
    for corpus in CORPORA:
        for method in METHODS:
            space = trained_space(model, data, corpus, method)
            scores = {**benchmark(space, questions, pairs), "vocabulary": len(space)}
            if corpus == "grammar":
                scores["class_knn_purity"] = round(class_purity(space, classes), 4)
            per_source[f"{method}_{corpus}"] = scores
    shuffled = dict(zip(classes, np.random.default_rng(config.seed).permutation(list(classes.values()))))
    chance = class_purity(trained_space(model, data, "grammar", "sg"), shuffled)
    return {"sources": per_source, "class_knn_purity_shuffled": round(chance, 4),
            "tokens": {name: sum(len(s) for s in data[name].sentences) for name in CORPORA}}


def build(config: WordVecConfig) -> WordVectors:
    return WordVectors(config)


register(ModelSpec(
    name="embeddings",
    title="Word vectors: neural language model and word2vec",
    page="embeddings",
    config_cls=WordVecConfig,
    presets={
        "tiny": WordVecConfig(grammar_sentences=300, w2v_epochs=2, steps=20, hidden=16, emb=8, dim=8),
        "cpu": WordVecConfig(),
        "gpu": WordVecConfig(grammar_sentences=40000, steps=20000, hidden=200, emb=60, w2v_epochs=40),
    },
    build=build,
    data=corpora,
    train_step=train_step,
    after_steps=word2vec,
    evaluate=evaluate,
))
