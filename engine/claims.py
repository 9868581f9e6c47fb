"""Paper vs. you: each page's claims from the tutorial, measured here, beside the papers' numbers.

A page's claims come from sources. A source names the models it needs and turns their stored metrics (the numbers
`engine eval` recomputes from each checkpoint) into rows; a source that needs no model (the toy saddle, the word
vectors that ship inside packages) computes its numbers itself, once per process. Home lists every page's claims,
and each page's "paper vs. you" panel shows its own with the metrics it was built from.
"""
import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from engine import registry, store
from engine.analysis import surfaces, word_space
from engine.analysis.representations import LAYER_DIGITS
from engine.data import vectors
from engine.models.captioner import PAPER_BLEU4, PAPER_VIDEO_BLEU4
from engine.models.draw import PAPER_NLL
from engine.models.embeddings import METHODS, benchmark
from engine.models.seq2seq import LONG, PAPER_BLEU


@dataclass(frozen=True)
class Claim:
    """One "paper vs. you" row: a tutorial claim, the paper's number and ours."""

    claim: str
    paper: str
    ours: str
    holds: bool | None
    setting: str
    models: tuple[str, ...] = ()            # the models it was measured on; () when it involves none


@dataclass(frozen=True)
class Source:
    needs: tuple[str, ...]                  # models whose stored metrics the rows are made from; () for none
    rows: Callable[..., list[Claim]]        # the metrics of each needed model, in order -> rows


@dataclass
class Report:
    page: str                                               # url_path of the page the claims belong to
    claims: list[Claim] = field(default_factory=list)
    metrics: dict[str, dict] = field(default_factory=dict)  # model name -> its stored metrics
    missing: dict[str, str] = field(default_factory=dict)   # model name -> why it has no metrics


# ---------------------------------------------------------------- /embeddings

@functools.cache
def shipped_vector_scores() -> dict[str, dict]:
    """Analogy and WordSim-353 scores of the vectors that ship inside packages (about 4 s, once per process)."""
    questions = word_space.read_questions(vectors.analogy_questions())
    pairs = vectors.wordsim353()
    return {name: benchmark(word_space.Space.of(loaded.words, loaded.matrix), questions, pairs)
            for name, loaded in (("glove", vectors.glove()), ("minilm", vectors.minilm()))}


def analogy_rows() -> list[Claim]:
    s = shipped_vector_scores()
    return [Claim(claim="Linear relations appear in the learned space: king - man + woman = queen (slides 25-26)",
                  paper="Mikolov et al. 2013; GloVe paper 71.7% on the analogy questions (300-d)",
                  ours=f"GloVe 50-d {s['glove']['analogy_accuracy']:.1%}, MiniLM input table "
                       f"{s['minilm']['analogy_accuracy']:.1%} of the covered questions",
                  holds=s["glove"]["analogy_accuracy"] > 0.3,
                  setting="Mikolov's 19,544 questions, the 30,000 most frequent words")]


def word_vector_rows(metrics: dict) -> list[Claim]:
    s = metrics["sources"]
    best = max(s[f"{m}_grammar"]["class_knn_purity"] for m in METHODS)
    return [Claim(claim="Similar words get similar vectors (slide 24)", paper="Bengio et al. 2003: qualitative",
                  ours=f"5-NN class purity up to {best:.0%} on the grammar (shuffled classes: "
                       f"{metrics['class_knn_purity_shuffled']:.0%})",
                  holds=best > 2 * metrics["class_knn_purity_shuffled"],
                  setting=f"{metrics['tokens']['grammar']:,} words of the grammar's English")]


def layer_rows(classifier: dict, dae: dict) -> list[Claim]:
    layers = classifier["layer_knn_accuracy"] | dae["layer_knn_accuracy"]
    return [Claim(claim="Deeper layers give more class-separated codes (slide 12)", paper="qualitative",
                  ours=f"5-NN accuracy pixels {layers['pixels']:.1%}, classifier top hidden "
                       f"{layers['classifier top hidden']:.1%}, autoencoder code {layers['autoencoder code']:.1%}",
                  holds=layers["classifier top hidden"] > layers["pixels"],
                  setting=f"{LAYER_DIGITS} held-out digits")]


# ---------------------------------------------------------------- /depth

def depth_rows(m: dict) -> list[Claim]:
    depths = list(m["by_depth"])
    widths = {d: " x ".join(map(str, v["widths"])) for d, v in m["by_depth"].items()}
    zigzag = m["zigzag"]
    built = ", ".join(f"{z['regions']:,}" for z in zigzag)
    shallow = ", ".join(f"{z['shallow_max']:,}" for z in zigzag)
    bounds = ", ".join(f"{m['by_depth'][d]['bound']:,}" for d in depths)
    init = ", ".join(f"{m['mean_regions_init'][d]:.0f}" for d in depths)
    trained = ", ".join(f"{m['mean_regions_trained'][d]:.0f}" for d in depths)
    deepest, first = m["mean_regions_trained"][depths[-1]], m["mean_regions_trained"][depths[0]]
    pair = m["equal_parameters"]
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    return [
        Claim(claim="A deep rectifier net can cut its input into exponentially more linear regions than a shallow "
                    "one with the same units (slides 30-34)",
              paper=f"Montufar et al. 2014: lower bound on the maximum for {', '.join(widths.values())} "
                    f"ReLUs: {bounds} (one layer of {m['units']}: at most {m['shallow_max']:,})",
              ours=f"their zigzag construction, counted exactly: {built} regions with 1-{len(zigzag)} layers of 6 "
                   f"units; one layer of the same units: at most {shallow}",
              holds=all(z["regions"] > z["shallow_max"] for z in zigzag[1:]) and
                    all(a["regions"] < b["regions"] for a, b in zip(zigzag, zigzag[1:])),
              setting="the unit square, regions counted exactly by cutting it with each unit's line"),
        Claim(claim="Trained deep nets have more regions than a shallow one with the same units",
              paper="the bound is about the most a network can make, not what training finds",
              ours=f"mean regions at initialisation {init}, after training {trained} "
                   f"({', '.join(widths.values())})",
              holds=deepest > first, setting=m["setting"]),
        Claim(claim="Back-prop on the flow graph gives the chain rule's exact gradient (slides 43-57)",
              paper="fprop in topological order, bprop in reverse",
              ours=f"largest relative error over {m['gradient_checked']} weights: {m['gradient_check_autograd']:.1e} "
                   f"vs autograd, {m['gradient_check_finite_difference']:.1e} vs finite differences",
              holds=m["gradient_check_autograd"] < 1e-10 and m["gradient_check_finite_difference"] < 1e-5,
              setting="a trained 3-layer ReLU network on one training point, float64"),
        Claim(claim="On the spiral, a deep narrow net beats a shallow one with as many parameters",
              paper="expected by Playground users; not a claim of the tutorial",
              ours=f"test loss {mean(pair['deep']['test_loss']):.3f} ({' x '.join(map(str, pair['deep']['widths']))})"
                   f" vs {mean(pair['shallow']['test_loss']):.3f} ({pair['shallow']['widths'][0]} units), "
                   f"{pair['deep']['parameters']} parameters each",
              holds=m["deep_beats_shallow"], setting=m["setting"]),
    ]


# ---------------------------------------------------------------- /manifold

def interpolation_rows(metrics: dict) -> list[Claim]:
    p = metrics["plausibility_by_level"]
    levels = list(p["levels"])
    conf = ", ".join(f"{p['levels'][lvl]['confidence']:.3f}" for lvl in levels)
    dist = ", ".join(f"{p['levels'][lvl]['nn_distance']:.2f}" for lvl in levels)
    return [Claim(claim="Interpolants at deeper levels stay on the digit manifold (slide 89)",
                  paper="qualitative: pixel blends are ghosts, deeper blends look like digits",
                  ours=f"pixel, h1, h2, code: classifier confidence {conf}; distance to nearest training digit {dist}",
                  holds=p["claim_holds"],
                  setting=f"{p['pairs']} test pairs of different classes, 4,500-digit training set, "
                          "3-layer DAE with a decoder per level")]


def field_rows(metrics: dict) -> list[Claim]:
    return [
        Claim(claim="The DAE vector field r(x) - x points at the data (slides 85-86)",
              paper="qualitative (Alain & Bengio 2013, figure of arrows on a spiral)",
              ours=f"mean cosine to the nearest data point {metrics['field_alignment']:.2f}",
              holds=metrics["field_alignment"] > 0.5, setting="2-D toy set, 25x25 grid, points off the data"),
        Claim(claim="The corrupt/denoise chain walks onto the data (slides 87-88)",
              paper="qualitative (Bengio et al. 2013)",
              ours=f"mean distance to data {metrics['chain_start_distance']:.2f} -> "
                   f"{metrics['chain_end_distance']:.2f}; {metrics['chain_on_data']:.0%} end within sigma",
              holds=metrics["chain_end_distance"] < metrics["chain_start_distance"] / 2,
              setting="500 chains from uniform noise"),
    ]


# ---------------------------------------------------------------- /draw

def draw_rows(metrics: dict) -> list[Claim]:
    return [Claim(claim="Attention lowers the NLL of binarized MNIST (slides 91-94)",
                  paper=f"{PAPER_NLL['attention']} vs {PAPER_NLL['no_attention']} nats",
                  ours=f"{metrics['nll_attention']:.2f} vs {metrics['nll_no_attention']:.2f} nats",
                  holds=metrics["attention_better"],
                  setting=metrics["setting"]),
            Claim(claim="Samples are not copies of training digits (slide 93)",
                  paper="qualitative: samples beside their nearest training example",
                  ours=f"mean distance to the nearest training digit {metrics['sample_nn_distance']:.2f} "
                       f"(real test digits: {metrics['test_nn_distance']:.2f})",
                  holds=metrics["sample_nn_distance"] > 0.5 * metrics["test_nn_distance"],
                  setting="samples from the prior with attention, Euclidean distance in pixels; holds when samples "
                          "lie at least half as far from the training set as real test digits do")]


# ---------------------------------------------------------------- /gan

def ring_rows(metrics: dict) -> list[Claim]:
    return [Claim(claim="The game's optimum is p_g = p_data: the generator covers the data (slides 94-98)",
                  paper="Theorem 1: the game's optimum is p_g = p_data, with V = -log 4 = -1.386",
                  ours=f"{metrics['modes_covered']}/{metrics['modes']} ring modes covered, "
                       f"{metrics['high_quality_fraction']:.0%} of samples within 3 sigma of a mode; "
                       f"V(D, G) = {metrics['final_value']:.3f} at the end",
                  holds=metrics["modes_covered"] == metrics["modes"],
                  setting="ring of 8 Gaussians, 2-D noise, MLPs with 2 hidden layers")]


def mnist_gan_rows(m: dict) -> list[Claim]:
    judged = "4,500 training digits, DCGAN-style players, judged by the project's MNIST classifier"
    return [
        Claim(claim="The generator learns the data distribution: every digit class appears (slides 94-98)",
              paper="qualitative (Goodfellow et al. 2014, Figure 2: MNIST samples)",
              ours=f"{m['class_coverage']}/10 classes hold at least 5% of {m['samples']} samples; "
                   f"Frechet distance {m['fid_classifier']:.2f} (real vs real: {m['fid_real_floor']:.2f})",
              holds=m["class_coverage"] == 10, setting=judged),
        Claim(claim="Samples look like digits", paper="qualitative",
              ours=f"classifier confidence {m['classifier_confidence']:.0%}; Frechet distance in the classifier's "
                   f"features {m['fid_classifier']:.2f} (real training vs held-out digits: {m['fid_real_floor']:.2f})",
              holds=None, setting=judged),
        Claim(claim="The generator does not copy its training data", paper="qualitative",
              ours=f"samples lie {m['sample_nn_distance']:.2f} from their nearest training digit; held-out real "
                   f"digits lie {m['test_nn_distance']:.2f}",
              holds=m["sample_nn_distance"] > 0.5 * m["test_nn_distance"],
              setting="Euclidean distance in pixels; holds when samples lie at least half as far from the "
                      "training set as real test digits do"),
        Claim(claim="Latent walks are smooth and stay on the digits (slides 100-103)",
              paper="qualitative (model trajectories, LAPGAN and DCGAN walks)",
              ours=f"classifier confidence along walks {m['walk_confidence']:.0%} vs "
                   f"{m['pixel_blend_confidence']:.0%} for pixel blends of the same ends; largest step "
                   f"{m['walk_step_ratio']:.1f}x the mean",
              holds=m["walk_confidence"] > m["pixel_blend_confidence"],
              setting="spherical walks between random latent pairs"),
    ]


# ---------------------------------------------------------------- /attention

def translation_rows(metrics: dict) -> list[Claim]:
    paper = (f"RNNsearch-30 {PAPER_BLEU['RNNsearch-30'][0]} vs RNNenc-30 {PAPER_BLEU['RNNenc-30'][0]} BLEU; "
             "RNNenc falls with sentence length, RNNsearch-50 does not")
    gap = metrics["bleu_long_rnnsearch"] - metrics["bleu_long_rnnenc"]
    return [Claim(claim="Attention fixes long sentences (slides 27-29, 104-110)", paper=paper,
                  ours=f"{metrics['bleu_rnnsearch']:.1f} vs {metrics['bleu_rnnenc']:.1f} BLEU on all test sentences; "
                       f"{metrics['bleu_long_rnnsearch']:.1f} vs {metrics['bleu_long_rnnenc']:.1f} on {LONG}+ words",
                  holds=gap >= 20, setting=metrics["setting"]),
            Claim(claim="Alignments are sharp and mostly monotone (slide 107)",
                  paper="qualitative: alignment matrices of Figure 3",
                  ours=f"alignment error rate {metrics['aer_rnnsearch']:.3f} of the argmax attention against "
                       "the grammar's gold links (by source length: "
                       + ", ".join(f"{b}: {v:.2f}" for b, v in metrics["aer_by_length"].items()) + ")",
                  holds=metrics["aer_rnnsearch"] <= 0.15, setting=metrics["setting"])]


# ---------------------------------------------------------------- /captioning

def image_caption_rows(metrics: dict) -> list[Claim]:
    paper = ", ".join(f"{k} {v}" for k, v in PAPER_BLEU4.items()) + " BLEU-4 (Table 1); qualitative attention maps"
    return [Claim(claim="Attention looks where the word is (slides 111-116)", paper=paper,
                  ours=f"BLEU-4 {metrics['bleu4']:.1f}; {metrics['attention_hit_rate']:.0%} of "
                       f"{metrics['object_words']} object words attend inside their object's box",
                  holds=metrics["bleu4"] >= 60 and metrics["attention_hit_rate"] >= 0.7, setting=metrics["setting"])]


def video_caption_rows(metrics: dict) -> list[Claim]:
    return [Claim(claim="Temporal attention picks the frames of each event (slides 117-118)",
                  paper=f"Youtube2Text BLEU-4 {PAPER_VIDEO_BLEU4} (Table 1); qualitative attention over frames",
                  ours=f"BLEU-4 {metrics['bleu4']:.1f}; {metrics['temporal_hit_rate']:.0%} of "
                       f"{metrics['event_words']} event words attend inside their event's frames",
                  holds=metrics["bleu4"] >= 50 and metrics["temporal_hit_rate"] >= 0.7, setting=metrics["setting"])]


# ---------------------------------------------------------------- /loss-surface

def line_rows(metrics: dict) -> list[Claim]:
    return [Claim(claim="The loss falls monotonically on the straight line from initialisation to the trained weights",
                  paper="Goodfellow et al. 2015: no bump for feed-forward nets on MNIST",
                  ours=f"largest rise along the line {metrics['interp_max_bump']:.4f} "
                       f"(loss {metrics['initial_loss']:.3f} to {metrics['final_loss']:.3f})",
                  holds=metrics["interp_max_bump"] < 0.01,
                  setting=f"{metrics['network']}, plain SGD, 4,500 training digits; loss on 1,000 of them")]


@functools.cache
def saddle_scores() -> dict:
    """The optimizers' race on the toy saddle (about 1 s, once per process)."""
    return surfaces.saddle_claims()


def saddle_rows() -> list[Claim]:
    s = saddle_scores()
    start = surfaces.SURFACES["saddle"].start
    setting = f"x^2 - y^2 from ({start[0]}, {start[1]}), 100 steps, learning rate 0.05"
    return [Claim(claim="Newton's method is attracted to saddle points",
                  paper="Dauphin et al. 2014, section 4: Newton rescales by 1/lambda and moves towards the saddle",
                  ours=f"Newton stops at {tuple(s['newton_final'])}, where the Hessian has a negative eigenvalue",
                  holds=s["newton_ends_at_saddle"], setting=setting),
            Claim(claim="Saddle-free Newton escapes",
                  paper="rescaling by 1/|lambda| turns the negative-curvature direction downhill",
                  ours=f"it leaves the saddle and reaches f = {s['saddle_free_final_value']:.3g}",
                  holds=s["saddle_free_newton_escapes"], setting=setting),
            Claim(claim="Gradient descent is not trapped but slows near a saddle",
                  paper="plateaus of small gradient around saddles",
                  ours=f"its gradient, so its speed, falls {s['gradient_descent_slowdown']:.0f}x near the "
                       f"saddle; it {'then leaves' if s['gradient_descent_escapes'] else 'does not leave'}",
                  holds=s["gradient_descent_slowdown"] >= 10 and s["gradient_descent_escapes"],
                  setting=setting)]


def critical_rows(metrics: dict) -> list[Claim]:
    rho = metrics["spearman_index_vs_error"]
    return [Claim(claim="The more directions of negative curvature a critical point has, the higher its error",
                  paper="Dauphin et al. 2014, Fig. 1: training error rises with the index on MNIST and CIFAR-10",
                  ours=f"Spearman rho {rho:.2f} over {metrics['critical_points']} critical points "
                       f"(|g| < {metrics['tolerance']:g})",
                  holds=rho >= 0.5,
                  setting=f"{metrics['network']}; Newton from {metrics['searches']} starts on gradient-descent runs, "
                          f"each inside its run's sub-network")]


# ---------------------------------------------------------------- the table

PAGES: dict[str, tuple[Source, ...]] = {
    "embeddings": (Source((), analogy_rows), Source(("embeddings",), word_vector_rows),
                   Source(("mnist_classifier", "dae"), layer_rows)),
    "depth": (Source(("depth",), depth_rows),),
    "manifold": (Source(("dae",), interpolation_rows), Source(("dae2d",), field_rows)),
    "draw": (Source(("draw",), draw_rows),),
    "gan": (Source(("gan",), mnist_gan_rows), Source(("gan2d",), ring_rows)),
    "attention": (Source(("nmt",), translation_rows),),
    "captioning": (Source(("captioner",), image_caption_rows), Source(("video_captioner",), video_caption_rows)),
    "loss-surface": (Source(("landscape",), line_rows), Source((), saddle_rows), Source(("critical",), critical_rows)),
}


def report(page: str, preset: str = "cpu") -> Report:
    """The page's claims from the checkpoints of `preset` (each model at the preset's own config)."""
    out = Report(page)
    for source in PAGES[page]:
        for name in source.needs:
            if name not in out.metrics and name not in out.missing:
                ckpt, errors = store.find(name, registry.get(name).config(preset))
                if ckpt is None:
                    out.missing[name] = errors[0] if errors else "not trained yet"
                else:
                    out.metrics[name] = ckpt.metrics
        if all(name in out.metrics for name in source.needs):
            rows = source.rows(*(out.metrics[name] for name in source.needs))
            out.claims.extend(dataclasses.replace(row, models=source.needs) for row in rows)
    return out


def reports(preset: str = "cpu") -> list[Report]:
    """Every page's claims, in the tutorial's order of pages."""
    return [report(page, preset) for page in PAGES]
