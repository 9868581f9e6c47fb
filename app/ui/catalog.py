"""The playground's pages and the tutorial's map (from the seed outline), in one place."""
from dataclasses import dataclass
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parent.parent.parent / "pages"


@dataclass(frozen=True)
class PageInfo:
    url_path: str
    title: str
    icon: str
    slides: str
    idea: str

    @property
    def file(self) -> Path:
        return PAGES_DIR / f"{self.url_path.replace('-', '_')}.py"

    @property
    def exists(self) -> bool:
        return self.file.exists()


PAGES = [
    PageInfo("embeddings", "Embedding explorer", ":material/scatter_plot:", "11-13, 24-26",
             "Word vectors and learned representations"),
    PageInfo("depth", "Depth and back-prop", ":material/account_tree:", "30-34, 43-57",
             "Deep nets carve more linear regions; back-prop on a flow graph"),
    PageInfo("manifold", "Manifold interpolation", ":material/timeline:", "77-90",
             "Deep representations unfold the data manifold"),
    PageInfo("draw", "DRAW canvas replay", ":material/draw:", "91-94", "Recurrent attention writes an image"),
    PageInfo("gan", "GAN trajectories", ":material/sports_esports:", "94-103", "The minimax game, watched live"),
    PageInfo("attention", "Attention alignment", ":material/translate:", "104-110",
             "Soft alignment in translation"),
    PageInfo("captioning", "Captioning studio", ":material/image:", "111-118", "Attention over image regions"),
    PageInfo("loss-surface", "Loss-surface explorer", ":material/landscape:", "35-38",
             "Saddle points, not local minima"),
]

# (slides, idea, claim, page url_path or "") from the tutorial outline, in slide order.
TUTORIAL_MAP = [
    ("11-13", "Learning multiple levels of representation", "Deeper layers give more abstract, class-separated codes", "embeddings"),
    ("15-19", "Curse of dimensionality; n-grams do not generalize", "Local methods need examples for every variation", ""),
    ("20-23", "Distributed vs. local representations", "Regions grow exponentially with distributed features", ""),
    ("24", "Neural language model (Bengio et al. 2003)", "Similar words get similar vectors", "embeddings"),
    ("25-26", "Word embeddings and analogies (Mikolov et al. 2013)", "Linear relations appear in the learned space", "embeddings"),
    ("27-29", "Encoder-decoder translation", "One fixed vector must hold the whole sentence", "attention"),
    ("30-34", "Depth prior; linear regions of deep rectifier nets", "Region count grows with depth", "depth"),
    ("35-38", "Saddle points, not local minima (Dauphin et al. 2014)", "Error rises with the index of critical points", "loss-surface"),
    ("43-57", "Back-prop in flow graphs, automatic differentiation", "fprop in topological order, bprop in reverse", "depth"),
    ("77-82", "Manifold learning; tangent directions (Rifai et al. 2011)", "Encoder Jacobian's top singular vectors are local deformations", "manifold"),
    ("84-88", "Denoising auto-encoders learn a vector field (Alain & Bengio 2013)", "The field points at the data; the chain walks onto it", "manifold"),
    ("89-90", "Space-filling in representation space", "Deeper interpolants stay on the digit manifold", "manifold"),
    ("91-94", "DRAW (Gregor et al. 2015)", "Attention lowers NLL: 80.97 vs 87.40 nats", "draw"),
    ("94-103", "Generative adversarial networks (Goodfellow et al. 2014)", "Latent walks are smooth", "gan"),
    ("104-110", "Attention-based translation (Bahdanau et al. 2014)", "Attention fixes long sentences", "attention"),
    ("111-115", "Show, Attend and Tell (Xu et al. 2015)", "Attention lands on the object being named", "captioning"),
    ("116-118", "Video captioning with temporal attention (Yao et al. 2015)", "Attention picks the relevant frames", "captioning"),
]


def page(url_path: str) -> PageInfo:
    return next(p for p in PAGES if p.url_path == url_path)


def available() -> list[PageInfo]:
    return [p for p in PAGES if p.exists]
