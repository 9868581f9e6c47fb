"""A seeded English-to-French grammar whose sentence pairs carry gold word alignments.

Bahdanau, Cho & Bengio (2014), "Neural Machine Translation by Jointly Learning to Align and Translate",
arXiv:1409.0473, compare RNNsearch, whose decoder builds each French word from its own soft alignment
alpha_ij = softmax_j(e_ij) over the English words, with RNNenc, which squeezes the whole source into one vector.
This grammar gives both a small world in which they train in minutes, and it knows, for every pair, which English
words each French word translates: every grammar node emits its English words, its French words and the links between
them. The links score the attention with the alignment error rate (Och & Ney 2003) without any human annotation.

What the French side asks of a model:
- reordering: colour, shape, nationality and mood adjectives follow the noun ("the red car" -> "la voiture rouge");
  big, small, good, new, old, ... stay in front ("the old car" -> "la vieille voiture"); "often sees" -> "voit
  souvent"; "often saw" -> "a souvent vu";
- agreement: le/la/les, un/une, adjectives in four forms (vert verte verts vertes), verbs in the number of their
  subject, also inside relative clauses ("the dogs that see" -> "les chiens qui voient"), and a past participle with
  the object relative it follows ("the cars that the dog saw" -> "les voitures que le chien a vues");
- one-to-many and many-to-many links: "saw" -> "a vu", "did not see" -> "n'a pas vu", "in front of" -> "devant",
  "next to the dog" -> "à côté du chien", "is sleeping" -> "dort", "were sleeping" -> "dormaient",
  "does not see a cat" -> "ne voit pas de chat";
- contractions and elisions, each elided word its own token: de + le -> du, à + les -> aux, "n'", "d'", "qu'" before
  a vowel. Every noun and every adjective that can precede a noun starts with a consonant, so le/la never elide;
- nesting: a noun phrase takes a prepositional phrase and a subject or object relative clause, whose own noun
  phrases take theirs, and clauses join with conjunctions, so sources run from 2 words to 80 and more.

The French is a function of the English alone: `translate` parses a token sequence under the grammar and renders the
same pair that generation produced. Generation draws only from the caller's `random.Random`.
"""
import bisect
import difflib
import functools
import random
import re
from dataclasses import dataclass, replace

from engine.data import DataError

BOS, EOS, PAD, UNK = "<s>", "</s>", "<pad>", "<unk>"    # vocabulary entries; no sentence contains them
BUCKETS = ((1, 10), (11, 20), (21, 30), (31, 40), (41, 50), (51, 60))   # source lengths, inclusive
MAX_CHARS = 400                                          # longest text read_english accepts

_VOWELS = frozenset("aeiouyéèêàâîôûœ")                  # a French word starting with one elides de/ne/que


@dataclass(frozen=True)
class Pair:
    src: tuple[str, ...]                 # English tokens
    tgt: tuple[str, ...]                 # French tokens
    links: tuple[tuple[int, int], ...]   # (src index, tgt index), sorted; every token of both sides is covered


# ---------------------------------------------------------------- lexicon entries

def _links(spec: str, n_en: int, n_fr: int) -> tuple[tuple[int, int], ...]:
    """'0-0 1-0 2-1' as ((0, 0), (1, 0), (2, 1)); with no spec one side has one word and links to all the other."""
    if spec:
        return tuple(tuple(int(x) for x in link.split("-")) for link in spec.split())
    if n_en != 1 and n_fr != 1:
        raise ValueError(f"{n_en} English and {n_fr} French words need explicit links")
    return tuple((i, j) for i in range(n_en) for j in range(n_fr))


@dataclass(frozen=True)
class _Phrase:
    """A fixed expression: English words, French words and the links between them (positions within the phrase)."""
    en: tuple[str, ...]
    fr: tuple[str, ...]
    src_of: tuple[tuple[int, ...], ...]   # for each French word, the English positions it translates
    kinds: str = ""     # prepositions: kinds of noun for their object; times: tenses they suit; manners: "short"


def _phrase(en: str, fr: str, links: str = "", kinds: str = "") -> _Phrase:
    en_words, fr_words = tuple(en.split()), tuple(fr.split())
    pairs = _links(links, len(en_words), len(fr_words))
    src_of = tuple(tuple(i for i, j in pairs if j == k) for k in range(len(fr_words)))
    return _Phrase(en_words, fr_words, src_of, kinds)


@dataclass(frozen=True)
class _Noun:
    en: tuple[str, str]     # singular, plural
    fr: tuple[str, str]
    fem: bool
    kind: str               # P person, A animal, T thing, L place, F food


@dataclass(frozen=True)
class _Adj:
    en: str
    forms: tuple[tuple[str, ...], ...]   # masc sg, fem sg, masc pl, fem pl; "en colère" is two tokens
    pre: bool                            # stays in front of the noun in French
    kinds: str                           # nouns it describes when sentences are generated


@dataclass(frozen=True)
class _Verb:
    en: tuple[str, str, str, str]        # 3rd singular, base (also the plural present), past, -ing
    fr: tuple[str, str, str, str, str, str]   # 3sg, 3pl, past participle, future 3sg, future 3pl, infinitive
    frame: str                           # "in" intransitive, "tr" one object, "di" object + "to" recipient
    subj: str                            # kinds of subject when generating
    obj: str = ""                        # kinds of object
    rec: str = ""                        # kinds of recipient
    stative: bool = False                # no progressive: "is seeing" is not English
    imperfect: str = ""                  # imparfait 3sg, for "was watching" -> "regardait"

    def imperfect_form(self, plural: bool) -> str:
        return self.imperfect[:-1] + "ent" if plural else self.imperfect   # -ait, -aient for every French verb

    def participle(self, fem: bool, plural: bool) -> str:
        """The past participle agreeing with a direct object that precedes it ("la voiture que les chiens ont vue");
        the rule is exact for these verbs, whose participles end in a vowel, -t or -s."""
        pp = self.fr[2]
        return pp + ("e" if fem else "") + ("s" if plural and not (pp.endswith("s") and not fem) else "")


@dataclass(frozen=True)
class _Det:
    en: tuple[str, ...]
    number: str                          # "sg", "pl" or "any"
    forms: tuple[tuple[str, ...], ...]   # masc sg, fem sg, masc pl, fem pl
    src_of: tuple[tuple[int, ...], ...]  # for each French word, the English positions it translates
    indef: bool = False                  # a / some: "de" after a negation, "some" -> "de" before an adjective


@dataclass(frozen=True)
class _Proper:
    """A name or a subject pronoun: one word each side, no determiner, no modifiers."""
    en: str
    fr: str
    plural: bool = False


def _nouns(fem: bool, table: str) -> tuple[_Noun, ...]:
    """Lines 'KIND english englishes | français français'; a plural may be omitted when it adds -s."""
    out = []
    for line in table.strip().splitlines():
        left, right = line.split("|")
        kind, *en = left.split()
        fr = right.split()
        out.append(_Noun((en[0], en[1] if len(en) > 1 else en[0] + "s"),
                         (fr[0], fr[1] if len(fr) > 1 else fr[0] + "s"), fem, kind))
    return tuple(out)


_MASCULINE = _nouns(False, """
P boy | garçon
P father | père
P brother | frère
P king | roi
P doctor | médecin
P teacher | professeur
P farmer | fermier
P baker | boulanger
P soldier | soldat
P neighbor | voisin
P painter | peintre
P singer | chanteur
P driver | chauffeur
P waiter | serveur
P prince | prince
P grandfather | grand-père grands-pères
A dog | chien
A cat | chat
A horse | cheval chevaux
A rabbit | lapin
A wolf wolves | loup
A lion | lion
A tiger | tigre
A pig | cochon
A monkey | singe
A duck | canard
A snake | serpent
A fox foxes | renard
A parrot | perroquet
A crow | corbeau corbeaux
A butterfly butterflies | papillon
T book | livre
T glass glasses | verre
T hat | chapeau chapeaux
T boat | bateau bateaux
T bike | vélo
T phone | téléphone
T ball | ballon
T pen | stylo
T knife knives | couteau couteaux
T bed | lit
T coat | manteau manteaux
T bag | sac
T picture | tableau tableaux
T newspaper | journal journaux
T piano | piano
T train | train
T gift | cadeau cadeaux
L garden | jardin
L park | parc
L village | village
L shop | magasin
L market | marché
L museum | musée
L castle | château châteaux
L bridge | pont
L lake | lac
L field | champ
F cake | gâteau gâteaux
F lemon | citron
F sandwich sandwiches | sandwich
F cookie | biscuit
""")

_FEMININE = _nouns(True, """
P woman women | femme
P girl | fille
P mother | mère
P sister | sœur
P queen | reine
P aunt | tante
P grandmother | grand-mère grands-mères
P princess princesses | princesse
P lady ladies | dame
P witch witches | sorcière
P waitress waitresses | serveuse
A cow | vache
A goat | chèvre
A hen | poule
A mouse mice | souris souris
A frog | grenouille
A whale | baleine
A turtle | tortue
A giraffe | girafe
A owl | chouette
A ant | fourmi
T car | voiture
T table | table
T chair | chaise
T box boxes | boîte
T letter | lettre
T cup | tasse
T door | porte
T window | fenêtre
T key | clé
T lamp | lampe
T bottle | bouteille
T guitar | guitare
T map | carte
T shirt | chemise
T dress dresses | robe
T shoe | chaussure
T candle | bougie
T doll | poupée
L house | maison
L city cities | ville
L street | rue
L road | route
L river | rivière
L mountain | montagne
L forest | forêt
L tower | tour
L kitchen | cuisine
L room | chambre
L beach beaches | plage
L station | gare
L library libraries | bibliothèque
F apple | pomme
F pear | poire
F banana | banane
F carrot | carotte
F tomato tomatoes | tomate
F pie | tarte
F soup | soupe
F pizza | pizza
F cherry cherries | cerise
F strawberry strawberries | fraise
""")

_NOUNS = _MASCULINE + _FEMININE
_ANY = "PATLF"


def _adjectives(pre: bool, table: str) -> tuple[_Adj, ...]:
    """Lines 'english kinds | ms fs mp fp' ('*' = any kind); one French form means an invariable adjective, and '_'
    joins the tokens of a several-word form."""
    out = []
    for line in table.strip().splitlines():
        left, right = line.split("|")
        en, kinds = left.split()
        forms = right.split()
        forms = forms * 4 if len(forms) == 1 else forms
        out.append(_Adj(en, tuple(tuple(f.split("_")) for f in forms), pre, _ANY if kinds == "*" else kinds))
    return tuple(out)


_PRE_ADJ = _adjectives(True, """
big * | grand grande grands grandes
small * | petit petite petits petites
good * | bon bonne bons bonnes
new * | nouveau nouvelle nouveaux nouvelles
old * | vieux vieille vieux vieilles
beautiful * | beau belle beaux belles
young PA | jeune jeune jeunes jeunes
pretty * | joli jolie jolis jolies
fat PA | gros grosse gros grosses
bad * | mauvais mauvaise mauvais mauvaises
long TL | long longue longs longues
""")

_POST_ADJ = _adjectives(False, """
red TLAF | rouge rouge rouges rouges
green TLAF | vert verte verts vertes
blue TLAF | bleu bleue bleus bleues
black TLAF | noir noire noirs noires
white TLAF | blanc blanche blancs blanches
yellow TLAF | jaune jaune jaunes jaunes
gray TLA | gris grise gris grises
brown TLAF | brun brune bruns brunes
pink TLAF | rose rose roses roses
orange TLA | orange
purple TLF | violet violette violets violettes
round TF | rond ronde ronds rondes
french PTF | français française français françaises
english PTF | anglais anglaise anglais anglaises
italian PTF | italien italienne italiens italiennes
german PTF | allemand allemande allemands allemandes
spanish PTF | espagnol espagnole espagnols espagnoles
happy PA | heureux heureuse heureux heureuses
sad PA | triste triste tristes tristes
tired PA | fatigué fatiguée fatigués fatiguées
angry PA | en_colère
hungry PA | affamé affamée affamés affamées
sick PA | malade malade malades malades
clever PA | intelligent intelligente intelligents intelligentes
empty TL | vide vide vides vides
full T | plein pleine pleins pleines
heavy TA | lourd lourde lourds lourdes
fast TA | rapide rapide rapides rapides
slow TA | lent lente lents lentes
quiet PAL | calme calme calmes calmes
famous PL | célèbre célèbre célèbres célèbres
strange * | étrange étrange étranges étranges
rich P | riche riche riches riches
dirty TLA | sale sale sales sales
warm TLF | chaud chaude chauds chaudes
cold TLF | froid froide froids froides
expensive TF | cher chère chers chères
wooden T | en_bois
broken T | cassé cassée cassés cassées
""")

_ADJECTIVES = _PRE_ADJ + _POST_ADJ


# imparfait 3sg by infinitive; the plural is the same stem + -aient
_IMPERFECT = dict(pair.split(":") for pair in """
voir:voyait regarder:regardait aimer:aimait vouloir:voulait manger:mangeait trouver:trouvait prendre:prenait
porter:portait suivre:suivait chasser:chassait aider:aidait entendre:entendait appeler:appelait laver:lavait
dessiner:dessinait acheter:achetait ouvrir:ouvrait construire:construisait casser:cassait rencontrer:rencontrait
visiter:visitait attraper:attrapait écrire:écrivait mordre:mordait dormir:dormait courir:courait marcher:marchait
chanter:chantait danser:dansait travailler:travaillait jouer:jouait rire:riait nager:nageait attendre:attendait
parler:parlait voyager:voyageait briller:brillait bouger:bougeait disparaître:disparaissait aboyer:aboyait
donner:donnait montrer:montrait envoyer:envoyait vendre:vendait lancer:lançait apporter:apportait
""".split())


def _verbs(frame: str, table: str) -> tuple[_Verb, ...]:
    """Lines 'sees see saw seeing | voit voient vu verra verront voir | subject object recipient [stative]'."""
    out = []
    for line in table.strip().splitlines():
        en, fr, roles = (part.split() for part in line.split("|"))
        stative = roles[-1] == "stative"
        roles = [_ANY if r == "*" else r for r in roles[:len(roles) - stative]] + ["", ""]
        out.append(_Verb(tuple(en), tuple(fr), frame, roles[0], roles[1], roles[2], stative, _IMPERFECT[fr[5]]))
    return tuple(out)


_VERBS = _verbs("tr", """
sees see saw seeing | voit voient vu verra verront voir | PA * stative
watches watch watched watching | regarde regardent regardé regardera regarderont regarder | PA *
likes like liked liking | aime aiment aimé aimera aimeront aimer | PA * stative
wants want wanted wanting | veut veulent voulu voudra voudront vouloir | PA TF stative
eats eat ate eating | mange mangent mangé mangera mangeront manger | PA F
finds find found finding | trouve trouvent trouvé trouvera trouveront trouver | PA TAF stative
takes take took taking | prend prennent pris prendra prendront prendre | P TF
carries carry carried carrying | porte portent porté portera porteront porter | PA TF
follows follow followed following | suit suivent suivi suivra suivront suivre | PAT PAT
chases chase chased chasing | chasse chassent chassé chassera chasseront chasser | PA PA
helps help helped helping | aide aident aidé aidera aideront aider | PA PA
hears hear heard hearing | entend entendent entendu entendra entendront entendre | PA PAT stative
calls call called calling | appelle appellent appelé appellera appelleront appeler | P PA
washes wash washed washing | lave lavent lavé lavera laveront laver | P TAF
draws draw drew drawing | dessine dessinent dessiné dessinera dessineront dessiner | P *
buys buy bought buying | achète achètent acheté achètera achèteront acheter | P TF
opens open opened opening | ouvre ouvrent ouvert ouvrira ouvriront ouvrir | P T
builds build built building | construit construisent construit construira construiront construire | P TL
breaks break broke breaking | casse cassent cassé cassera casseront casser | PA T
meets meet met meeting | rencontre rencontrent rencontré rencontrera rencontreront rencontrer | P PA
visits visit visited visiting | visite visitent visité visitera visiteront visiter | P LP
catches catch caught catching | attrape attrapent attrapé attrapera attraperont attraper | PA AT
writes write wrote writing | écrit écrivent écrit écrira écriront écrire | P T
bites bite bit biting | mord mordent mordu mordra mordront mordre | A PAF
""") + _verbs("in", """
sleeps sleep slept sleeping | dort dorment dormi dormira dormiront dormir | PA
runs run ran running | court courent couru courra courront courir | PA
walks walk walked walking | marche marchent marché marchera marcheront marcher | PA
sings sing sang singing | chante chantent chanté chantera chanteront chanter | PA
dances dance danced dancing | danse dansent dansé dansera danseront danser | P
works work worked working | travaille travaillent travaillé travaillera travailleront travailler | P
plays play played playing | joue jouent joué jouera joueront jouer | PA
laughs laugh laughed laughing | rit rient ri rira riront rire | P
swims swim swam swimming | nage nagent nagé nagera nageront nager | PA
waits wait waited waiting | attend attendent attendu attendra attendront attendre | PA
talks talk talked talking | parle parlent parlé parlera parleront parler | P
travels travel traveled traveling | voyage voyagent voyagé voyagera voyageront voyager | P
shines shine shone shining | brille brillent brillé brillera brilleront briller | TL
moves move moved moving | bouge bougent bougé bougera bougeront bouger | *
disappears disappear disappeared disappearing | disparaît disparaissent disparu disparaîtra disparaîtront disparaître | *
barks bark barked barking | aboie aboient aboyé aboiera aboieront aboyer | A
""") + _verbs("di", """
gives give gave giving | donne donnent donné donnera donneront donner | P TF PA
shows show showed showing | montre montrent montré montrera montreront montrer | P TF P
sends send sent sending | envoie envoient envoyé enverra enverront envoyer | P T P
sells sell sold selling | vend vendent vendu vendra vendront vendre | P TFA P
throws throw threw throwing | lance lancent lancé lancera lanceront lancer | P T PA
brings bring brought bringing | apporte apportent apporté apportera apporteront apporter | PA TF P
""")


def _det(en: str, number: str, forms: str, links: str = "", indef: bool = False) -> _Det:
    """forms: 'ms / fs / mp / fp' (a single form serves all four)."""
    parts = [tuple(f.split()) for f in forms.split("/")]
    parts = parts * 4 if len(parts) == 1 else parts
    en_words = tuple(en.split())
    n_fr = len(next(p for p in parts if p != ("-",)))   # "-": a form the determiner never takes
    pairs = _links(links, len(en_words), n_fr)
    src_of = tuple(tuple(i for i, j in pairs if j == k) for k in range(n_fr))
    return _Det(en_words, number, tuple(parts), src_of, indef)


_NUMBERS_EN = "two three four five six seven eight nine ten".split()
_NUMBERS_FR = "deux trois quatre cinq six sept huit neuf dix".split()
_THE = _det("the", "any", "le / la / les / les")
_A = _det("a", "sg", "un / une / - / -", indef=True)          # "an" before a vowel; never plural
_SOME = _det("some", "pl", "des", indef=True)
_DETS = (_THE, _A, _SOME,
         _det("this", "sg", "ce / cette / - / -"), _det("these", "pl", "ces"),
         _det("my", "any", "mon / ma / mes / mes"), _det("your", "any", "votre / votre / vos / vos"),
         _det("his", "any", "son / sa / ses / ses"), _det("her", "any", "son / sa / ses / ses"),
         _det("our", "any", "notre / notre / nos / nos"), _det("their", "any", "leur / leur / leurs / leurs"),
         _det("every", "sg", "chaque"), _det("each", "sg", "chaque"),
         *(_det(en, "pl", fr) for en, fr in zip(_NUMBERS_EN, _NUMBERS_FR)),
         *(_det(f"the {en}", "pl", f"les {fr}", "0-0 1-1") for en, fr in zip(_NUMBERS_EN, _NUMBERS_FR)),
         _det("many", "pl", "beaucoup de"), _det("a lot of", "pl", "beaucoup de", "0-0 1-0 2-1"),
         _det("a few", "pl", "quelques"), _det("several", "pl", "plusieurs"),
         _det("all the", "pl", "- / - / tous les / toutes les", "0-0 1-1"))
# generation weights, in _DETS order: mostly "the" and "a", as in text
_DET_WEIGHTS = (40, 14, 5, 4, 3, 4, 3, 3, 3, 2, 2, 2, 1) + (1,) * 9 + (0.5,) * 9 + (2, 1, 2, 2, 2)

_NAMES = tuple(_Proper(en, fr) for en, fr in (
    ("john", "jean"), ("mary", "marie"), ("peter", "pierre"), ("paul", "paul"), ("sophie", "sophie"),
    ("thomas", "thomas"), ("julia", "julie"), ("lucy", "lucie"), ("mark", "marc"), ("james", "jacques")))
_PRONOUNS = (_Proper("he", "il"), _Proper("she", "elle"), _Proper("they", "ils", plural=True))   # subjects only

# Prepositions. Nominal ones modify a noun ("the cat under the table"); verbal ones follow an intransitive verb
# ("sleeps under the table"). kinds: what their object may be when generating.
_LOCATIVES = (
    _phrase("in", "dans", kinds="LT"), _phrase("on", "sur", kinds="T"), _phrase("under", "sous", kinds="T"),
    _phrase("behind", "derrière", kinds="TLPA"), _phrase("in front of", "devant", kinds="TLPA"),
    _phrase("next to", "à côté de", "0-0 0-1 1-2", kinds="TLPA"), _phrase("near", "près de", kinds="TLPA"),
    _phrase("far from", "loin de", "0-0 1-1", kinds="TLPA"), _phrase("across from", "en face de", "0-0 0-1 1-2",
                                                                      kinds="TLP"),
    _phrase("around", "autour de", kinds="TL"), _phrase("above", "au-dessus de", kinds="TL"),
    _phrase("with", "avec", kinds="PA"), _phrase("without", "sans", kinds="PAT"))
_NOMINAL_PREPS = _LOCATIVES + (_phrase("of", "de", kinds="P"), _phrase("from", "de", kinds="L"))
_VERBAL_PREPS = _LOCATIVES + (
    _phrase("for", "pour", kinds="PA"), _phrase("towards", "vers", kinds="TLPA"),
    _phrase("through", "à travers", kinds="L"), _phrase("along", "le long de", kinds="L"),
    _phrase("at", "à", kinds="L"), _phrase("against", "contre", kinds="TPA"),
    _phrase("because of", "à cause de", "0-0 0-1 1-2", kinds="PAT"))

_CONJS = (_phrase("and", "et"), _phrase("but", "mais"), _phrase("or", "ou"), _phrase("because", "parce que"),
          _phrase("while", "pendant que"), _phrase("when", "quand"), _phrase("as soon as", "dès que", "0-0 1-0 2-1"),
          _phrase("and then", "puis"), _phrase("so", "donc"), _phrase("whereas", "alors que"))
_CONJ_WEIGHTS = (6, 3, 1, 3, 2, 2, 1, 2, 1, 1)
# manner adverbs close an intransitive verb phrase ("sleeps quietly"); the short ones go in front of a participle or
# an infinitive in French ("swam a lot" -> "a beaucoup nagé", "can sleep well" -> "peut bien dormir")
_MANNERS = (_phrase("quickly", "rapidement"), _phrase("slowly", "lentement"), _phrase("quietly", "tranquillement"),
            _phrase("loudly", "fort"), _phrase("well", "bien", kinds="short"), _phrase("badly", "mal", kinds="short"),
            _phrase("together", "ensemble"), _phrase("happily", "joyeusement"), _phrase("carefully", "avec soin"),
            _phrase("a lot", "beaucoup", kinds="short"), _phrase("very well", "très bien", "0-0 1-1", kinds="short"),
            _phrase("very quickly", "très rapidement", "0-0 1-1"), _phrase("early", "tôt"), _phrase("late", "tard"),
            _phrase("outside", "dehors"), _phrase("here", "ici"), _phrase("everywhere", "partout"),
            _phrase("again", "de nouveau"))
# adverbs between subject and verb in English, after the conjugated verb in French ("often saw" -> "a souvent vu")
_PRE_ADVERBS = (_phrase("always", "toujours"), _phrase("often", "souvent"), _phrase("sometimes", "parfois"),
                _phrase("rarely", "rarement"), _phrase("already", "déjà"), _phrase("also", "aussi"),
                _phrase("really", "vraiment"), _phrase("finally", "enfin"))
# time adverbs close a main clause; kinds: the tenses they go with when generating (r present, p past, f future)
_TIMES = (_phrase("today", "aujourd'hui", kinds="rpf"), _phrase("yesterday", "hier", kinds="p"),
          _phrase("tomorrow", "demain", kinds="f"), _phrase("now", "maintenant", kinds="r"),
          _phrase("later", "plus tard", kinds="f"), _phrase("every morning", "chaque matin", "0-0 1-1", kinds="r"),
          _phrase("every evening", "chaque soir", "0-0 1-1", kinds="r"),
          _phrase("every day", "chaque jour", "0-0 1-1", kinds="r"),
          _phrase("last night", "hier soir", "0-0 1-1", kinds="p"),
          _phrase("this morning", "ce matin", "0-0 1-1", kinds="rpf"),
          _phrase("tonight", "ce soir", kinds="f"),
          *(_phrase(f"on {en}", fr, "0-0 1-0", kinds="rpf") for en, fr in zip(
              "monday tuesday wednesday thursday friday saturday sunday".split(),
              "lundi mardi mercredi jeudi vendredi samedi dimanche".split())))
_TO = _phrase("to", "à")                    # before the recipient of give, show, send, ...

# French spelling at word boundaries: contractions merge two tokens, elisions rewrite the first of two
_CONTRACT = {("de", "le"): "du", ("de", "les"): "des", ("de", "des"): "de", ("de", "de"): "de",
             ("à", "le"): "au", ("à", "les"): "aux"}
_ELIDE = {"de": "d'", "ne": "n'", "que": "qu'"}

# ---------------------------------------------------------------- parse trees


@dataclass(frozen=True)
class _NP:
    noun: _Noun | None = None
    plural: bool = False
    det: _Det | None = None
    pre: _Adj | None = None
    pre_very: bool = False
    post: _Adj | None = None
    post_very: bool = False
    pp: "_PP | None" = None
    rc: "_VP | None" = None             # subject relative: rel + a verb phrase whose subject is this noun phrase
    orc: "_Clause | None" = None        # object relative: rel + subject + a transitive verb group, its object this
    rel: str = "that"
    word: _Proper | None = None         # a name or pronoun instead of determiner + noun


@dataclass(frozen=True)
class _PP:
    prep: _Phrase
    np: _NP


@dataclass(frozen=True)
class _VP:
    verb: _Verb
    tense: str                          # "present", "past", "future", "prog", "pastprog", "can", "must"
    neg: str = ""                       # "", "not" ("cannot" with can) or "never"
    adv: _Phrase | None = None          # often, always, ...
    obj: _NP | None = None
    rec: _NP | None = None              # recipient after "to"
    manner: _Phrase | None = None
    pp: _PP | None = None


@dataclass(frozen=True)
class _Clause:
    subj: _NP
    vp: _VP
    time: _Phrase | None = None


@dataclass(frozen=True)
class _Sentence:
    clauses: tuple[_Clause, ...]
    conjs: tuple[_Phrase, ...]          # one fewer than clauses


# ---------------------------------------------------------------- rendering: tree -> Pair

class _English:
    """The English words emitted so far; French fragments refer to their positions."""

    def __init__(self):
        self.words: list[str] = []

    def add(self, *words: str) -> int:
        self.words.extend(words)
        return len(self.words) - len(words)

    def phrase(self, ph: _Phrase) -> list:
        start = self.add(*ph.en)
        return [(w, tuple(start + i for i in src)) for w, src in zip(ph.fr, ph.src_of)]


def _first_word(np: _NP) -> str:
    """The English word after the determiner (it decides between "a" and "an")."""
    if np.pre:
        return "very" if np.pre_very else np.pre.en
    if np.post:
        return "very" if np.post_very else np.post.en
    return np.noun.en[np.plural]


def _np_fr(e: _English, np: _NP, negated: bool = False) -> list:
    """French (word, English positions) list for a noun phrase; negated: the object of a negated verb."""
    if np.word:
        return [(np.word.fr, (e.add(np.word.en),))]
    form = 2 * np.plural + np.noun.fem
    det = np.det
    en = ("an",) if det is _A and _first_word(np)[0] in "aeiou" else det.en
    start = e.add(*en)
    if det.indef and (negated or (det is _SOME and np.pre)):
        out = [("de", tuple(range(start, start + len(en))))]
    else:
        out = [(w, tuple(start + i for i in src)) for w, src in zip(det.forms[form], det.src_of)]
    after = []
    for adj, very, dest in ((np.pre, np.pre_very, out), (np.post, np.post_very, after)):
        if adj:
            if very:
                dest.append(("très", (e.add("very"),)))
            i = e.add(adj.en)
            dest.extend((w, (i,)) for w in adj.forms[form])
    out.append((np.noun.fr[np.plural], (e.add(np.noun.en[np.plural]),)))
    out += after
    if np.pp:
        out += e.phrase(np.pp.prep) + _np_fr(e, np.pp.np)
    if np.rc:
        out.append(("qui", (e.add(np.rel),)))
        out += _vp_fr(e, np.rc, np.plural)
    if np.orc:
        out.append(("que", (e.add(np.rel),)))
        out += _np_fr(e, np.orc.subj)
        out += _verb_fr(e, np.orc.vp, _plural(np.orc.subj), agree=(np.noun.fem, np.plural))
    return out


def _verb_fr(e: _English, vp: _VP, plural: bool, agree: tuple[bool, bool] | None = None) -> list:
    """The verb group: tense, negation and pre-verbal adverb, English words emitted in English order. agree: (feminine,
    plural) of a direct object placed before the verb, which a past participle agrees with."""
    v, neg = vp.verb, vp.neg
    pp = v.participle(*agree) if agree else v.fr[2]
    fr3 = v.fr[1] if plural else v.fr[0]
    if vp.tense == "present":
        if neg == "not":
            do = e.add("do" if plural else "does", "not", v.en[1])
            return [("ne", (do + 1,)), (fr3, (do, do + 2)), ("pas", (do + 1,))]
        if neg == "never":
            nv = e.add("never", v.en[1] if plural else v.en[0])
            return [("ne", (nv,)), (fr3, (nv + 1,)), ("jamais", (nv,))]
        adv = e.phrase(vp.adv) if vp.adv else []
        return [(fr3, (e.add(v.en[1] if plural else v.en[0]),))] + adv
    if vp.tense == "past":
        aux = "ont" if plural else "a"
        if neg == "not":
            did = e.add("did", "not", v.en[1])
            return [("ne", (did + 1,)), (aux, (did,)), ("pas", (did + 1,)), (pp, (did + 2,))]
        if neg == "never":
            nv = e.add("never", v.en[2])
            return [("ne", (nv,)), (aux, (nv + 1,)), ("jamais", (nv,)), (pp, (nv + 1,))]
        adv = e.phrase(vp.adv) if vp.adv else []
        w = e.add(v.en[2])
        return [(aux, (w,))] + adv + [(pp, (w,))]
    if vp.tense == "future":
        fut = v.fr[4] if plural else v.fr[3]
        will = e.add("will")
        if neg:
            nt = e.add(neg)
            w = e.add(v.en[1])
            return [("ne", (nt,)), (fut, (will, w)), ("pas" if neg == "not" else "jamais", (nt,))]
        adv = e.phrase(vp.adv) if vp.adv else []
        return [(fut, (will, e.add(v.en[1])))] + adv
    if vp.tense in ("prog", "pastprog"):           # "is sleeping" -> "dort", "were sleeping" -> "dormaient"
        if vp.tense == "prog":
            be, form = e.add("are" if plural else "is"), fr3
        else:
            be, form = e.add("were" if plural else "was"), v.imperfect_form(plural)
        if neg:
            nt = e.add("not")
            w = e.add(v.en[3])
            return [("ne", (nt,)), (form, (be, w)), ("pas", (nt,))]
        return [(form, (be, e.add(v.en[3])))]
    modal = ("peuvent" if plural else "peut") if vp.tense == "can" else ("doivent" if plural else "doit")
    if neg:                                      # "cannot" -> "ne peut pas"
        m = e.add("cannot")
        return [("ne", (m,)), (modal, (m,)), ("pas", (m,)), (v.fr[5], (e.add(v.en[1]),))]
    m = e.add(vp.tense)
    return [(modal, (m,)), (v.fr[5], (e.add(v.en[1]),))]


def _vp_fr(e: _English, vp: _VP, plural: bool) -> list:
    out = _verb_fr(e, vp, plural)
    if vp.obj:
        out += _np_fr(e, vp.obj, negated=bool(vp.neg))
    if vp.rec:
        out += e.phrase(_TO) + _np_fr(e, vp.rec)
    if vp.manner:
        manner = e.phrase(vp.manner)
        if vp.manner.kinds == "short" and vp.tense in ("past", "can", "must"):
            out[-1:-1] = manner                  # the verb group ends with the participle or the infinitive
        else:
            out += manner
    if vp.pp:
        out += e.phrase(vp.pp.prep) + _np_fr(e, vp.pp.np)
    return out


def _plural(np: _NP) -> bool:
    return np.word.plural if np.word else np.plural


def _render(s: _Sentence) -> Pair:
    e = _English()
    frag = []
    for k, clause in enumerate(s.clauses):
        if k:
            frag += e.phrase(s.conjs[k - 1])
        frag += _np_fr(e, clause.subj)
        frag += _vp_fr(e, clause.vp, _plural(clause.subj))
        if clause.time:
            frag += e.phrase(clause.time)
    words, srcs = [], []
    for w, src in frag:
        if words and (words[-1], w) in _CONTRACT:         # de le -> du: one token translating both
            words[-1] = _CONTRACT[words[-1], w]
            srcs[-1] = srcs[-1] + src
        else:
            words.append(w)
            srcs.append(src)
    for k in range(len(words) - 1):
        if words[k] in _ELIDE and words[k + 1][0] in _VOWELS:
            words[k] = _ELIDE[words[k]]
    links = sorted({(i, j) for j, src in enumerate(srcs) for i in src})
    return Pair(tuple(e.words), tuple(words), tuple(links))


# ---------------------------------------------------------------- parsing: English tokens -> trees

def _index(entries, key) -> dict:
    out = {}
    for entry in entries:
        for word in key(entry):
            if word in out and out[word] != entry:
                raise ValueError(f"the English word {word!r} has two entries")
            out[word] = entry
    return out


_NOUN_SG = _index(_NOUNS, lambda n: (n.en[0],))
_NOUN_PL = _index(_NOUNS, lambda n: (n.en[1],))
_ADJ = _index(_ADJECTIVES, lambda a: (a.en,))
_PROPER = _index(_NAMES, lambda p: (p.en,))
_PRONOUN = _index(_PRONOUNS, lambda p: (p.en,))
_VERB_FORMS = tuple(_index(_VERBS, lambda v, k=k: (v.en[k],)) for k in range(4))   # 3sg, base, past, -ing
_PRE_ADV = _index(_PRE_ADVERBS, lambda p: p.en)


def _starting(entries) -> dict:
    """First English word -> the entries (phrases or determiners) that start with it."""
    out: dict[str, list] = {}
    for entry in entries:
        out.setdefault(entry.en[0], []).append(entry)
    return out


_DET_START = _starting(_DETS)
_NOMINAL_START = _starting(_NOMINAL_PREPS)
_VERBAL_START = _starting(_VERBAL_PREPS)
_CONJ_START = _starting(_CONJS)
_MANNER_START = _starting(_MANNERS)
_TIME_START = _starting(_TIMES)


class _Parser:
    """All parses of a token sequence; memoised on (rule, position, context), so long sentences stay cheap."""

    def __init__(self, words: tuple[str, ...]):
        self.w = words
        self.memo: dict = {}

    def at(self, i: int) -> str:
        return self.w[i] if i < len(self.w) else ""

    def match(self, table: dict, i: int) -> list:
        """Entries of a first-word table whose English words occur at position i, with the position after them."""
        out = []
        for entry in table.get(self.at(i), ()):
            if self.w[i:i + len(entry.en)] == entry.en:
                out.append((entry, i + len(entry.en)))
        return out

    def sentences(self, i: int = 0) -> list[tuple[tuple, tuple]]:
        key = ("s", i)
        if key not in self.memo:
            out = []
            for clause, j in self.clause(i):
                if j == len(self.w):
                    out.append(((clause,), ()))
                for conj, k in self.match(_CONJ_START, j):
                    out += [((clause,) + cs, (conj,) + js) for cs, js in self.sentences(k)]
            self.memo[key] = out
        return self.memo[key]

    def clause(self, i: int) -> list:
        out = []
        for subj, j in self.np(i, relative=True, subject=True):
            for vp, k in self.vp(j, _plural(subj)):
                out.append((_Clause(subj, vp), k))
                out += [(_Clause(subj, vp, time), m) for time, m in self.match(_TIME_START, k)]
        return out

    def adjective(self, i: int) -> tuple[_Adj, bool, int] | None:
        if self.at(i) == "very" and self.at(i + 1) in _ADJ:
            return _ADJ[self.at(i + 1)], True, i + 2
        if self.at(i) in _ADJ:
            return _ADJ[self.at(i)], False, i + 1
        return None

    def np(self, i: int, relative: bool, subject: bool = False) -> list:
        key = ("np", i, relative, subject)
        if key in self.memo:
            return self.memo[key]
        out = []
        word = self.at(i)
        if word in _PROPER or (subject and word in _PRONOUN):
            out.append((_NP(word=_PROPER.get(word) or _PRONOUN[word]), i + 1))
        dets = [(_A, i + 1)] if word == "an" else self.match(_DET_START, i)
        for det, j in dets:
            base = self.nominal(det, j)
            if base is None:
                continue
            np, k = base
            variants = [(np, k)]
            for prep, m in self.match(_NOMINAL_START, k):
                variants += [(replace(np, pp=_PP(prep, obj)), q) for obj, q in self.np(m, relative=False)]
            out += variants
            if relative:
                for np, k in variants:
                    rel = self.at(k)
                    if rel not in ("that", "who"):
                        continue
                    out += [(replace(np, rc=vp, rel=rel), q) for vp, q in self.vp(k + 1, np.plural)]
                    for subj, m in self.np(k + 1, relative=True, subject=True):
                        out += [(replace(np, orc=_Clause(subj, vp), rel=rel), q)
                                for vp, q in self.verb_groups(m, _plural(subj)) if vp.verb.frame == "tr"]
        self.memo[key] = out
        return out

    def nominal(self, det: _Det, i: int) -> tuple[_NP, int] | None:
        """[very] adjective [very] adjective noun after a determiner; English puts a pre-nominal adjective first."""
        adjs = []
        k = i
        while len(adjs) < 2 and (found := self.adjective(k)):
            adjs.append(found[:2])
            k = found[2]
        pre = post = (None, False)
        if len(adjs) == 2:
            if not adjs[0][0].pre or adjs[1][0].pre:
                return None
            pre, post = adjs
        elif adjs:
            pre, post = (adjs[0], post) if adjs[0][0].pre else (pre, adjs[0])
        word = self.at(k)
        if word in _NOUN_SG:
            noun, plural = _NOUN_SG[word], False
        elif word in _NOUN_PL:
            noun, plural = _NOUN_PL[word], True
        else:
            return None
        if det.number != "any" and (det.number == "pl") != plural:
            return None
        np = _NP(noun, plural, det, pre[0], pre[1], post[0], post[1])
        if det is _A and (self.at(i - 1) == "an") != (_first_word(np)[0] in "aeiou"):
            return None
        return np, k + 1

    def verb_groups(self, i: int, plural: bool) -> list[tuple[_VP, int]]:
        """Verb groups agreeing with a singular or plural subject; the complements are added by vp."""
        at, out = self.at, []
        present = _VERB_FORMS[1] if plural else _VERB_FORMS[0]
        base, past, ing = _VERB_FORMS[1], _VERB_FORMS[2], _VERB_FORMS[3]
        w0, w1, w2 = at(i), at(i + 1), at(i + 2)
        if w0 in present:
            out.append((_VP(present[w0], "present"), i + 1))
        if w0 in past:
            out.append((_VP(past[w0], "past"), i + 1))
        if w0 in _PRE_ADV or w0 == "never":
            adv, neg = (_PRE_ADV[w0], "") if w0 in _PRE_ADV else (None, "never")
            if w1 in present:
                out.append((_VP(present[w1], "present", neg, adv), i + 2))
            if w1 in past:
                out.append((_VP(past[w1], "past", neg, adv), i + 2))
        if w0 == ("do" if plural else "does") and w1 == "not" and w2 in base:
            out.append((_VP(base[w2], "present", "not"), i + 3))
        if w0 == "did" and w1 == "not" and w2 in base:
            out.append((_VP(base[w2], "past", "not"), i + 3))
        if w0 == "will":
            if w1 in base:
                out.append((_VP(base[w1], "future"), i + 2))
            if (w1 in ("not", "never") or w1 in _PRE_ADV) and w2 in base:
                neg, adv = (w1, None) if w1 in ("not", "never") else ("", _PRE_ADV[w1])
                out.append((_VP(base[w2], "future", neg, adv), i + 3))
        if w0 in (("are", "were") if plural else ("is", "was")):
            neg = "not" if w1 == "not" else ""
            verb = ing.get(at(i + 1 + bool(neg)))
            if verb and not verb.stative:
                out.append((_VP(verb, "prog" if w0[0] in "ai" else "pastprog", neg), i + 2 + bool(neg)))
        if w0 in ("can", "must", "cannot") and w1 in base:
            out.append((_VP(base[w1], "must" if w0 == "must" else "can", "not" if w0 == "cannot" else ""), i + 2))
        return out

    def vp(self, i: int, plural: bool) -> list:
        key = ("vp", i, plural)
        if key in self.memo:
            return self.memo[key]
        out = []
        for vp, j in self.verb_groups(i, plural):
            if vp.verb.frame == "tr":
                out += [(replace(vp, obj=obj), k) for obj, k in self.np(j, relative=True)]
            elif vp.verb.frame == "di":
                for obj, k in self.np(j, relative=True):
                    if self.at(k) == "to":
                        out += [(replace(vp, obj=obj, rec=rec), m) for rec, m in self.np(k + 1, relative=True)]
            else:
                ends = [(vp, j)] + [(replace(vp, manner=m), k) for m, k in self.match(_MANNER_START, j)]
                for v, k in ends:
                    out.append((v, k))
                    for prep, m in self.match(_VERBAL_START, k):
                        out += [(replace(v, pp=_PP(prep, obj)), q) for obj, q in self.np(m, relative=False)]
        self.memo[key] = out
        return out


def _parses(src) -> list[_Sentence]:
    return [_Sentence(cs, js) for cs, js in _Parser(tuple(src)).sentences()]


def translate(src) -> Pair | None:
    """The gold pair of an English token sequence, or None when the grammar cannot read it (strict English: "a"
    before a consonant, "an" before a vowel, verbs agreeing with their subject)."""
    trees = _parses(src)
    return _render(trees[0]) if trees else None


# ---------------------------------------------------------------- generation: random trees

def _by_kind(entries, kinds) -> dict[str, tuple]:
    return {k: tuple(x for x in entries if k in kinds(x)) for k in _ANY}


_NOUNS_BY_KIND = _by_kind(_NOUNS, lambda n: n.kind)
_PRE_BY_KIND = _by_kind(_PRE_ADJ, lambda a: a.kinds)
_POST_BY_KIND = _by_kind(_POST_ADJ, lambda a: a.kinds)
_VERBS_BY_SUBJ = _by_kind(_VERBS, lambda v: v.subj)
_VERBS_BY_OBJ = _by_kind([v for v in _VERBS if v.frame == "tr"], lambda v: v.obj)   # for object relatives
_DET_CUM = tuple(sum(_DET_WEIGHTS[:k + 1]) for k in range(len(_DET_WEIGHTS)))
_CONJ_CUM = tuple(sum(_CONJ_WEIGHTS[:k + 1]) for k in range(len(_CONJ_WEIGHTS)))
_TENSES = ("present", "past", "future", "prog", "pastprog", "can", "must")
_TENSE_CUM = (34, 60, 74, 83, 91, 96, 100)              # progressives and modals are rarer
# English words of a verb group without its adverb: "does not see", "will see", "cannot see", ...
_VERB_WORDS = {("present", ""): 1, ("present", "not"): 3, ("present", "never"): 2, ("past", ""): 1,
               ("past", "not"): 3, ("past", "never"): 2, ("future", ""): 2, ("future", "not"): 3,
               ("future", "never"): 3, ("prog", ""): 2, ("prog", "not"): 3, ("pastprog", ""): 2,
               ("pastprog", "not"): 3, ("can", ""): 2, ("can", "not"): 2,
               ("must", ""): 2}
_FAMILY = {"present": "r", "prog": "r", "can": "r", "must": "r", "past": "p", "pastprog": "p", "future": "f"}


def _pick(rng: random.Random, items: tuple, cum_weights: tuple):
    return items[bisect.bisect(cum_weights, rng.random() * cum_weights[-1])]


def _gen_np(rng: random.Random, kinds: str, r: float, depth: int, relative: bool,
            subject: bool = False) -> tuple[_NP, int]:
    """A noun phrase of one of `kinds`, and its English length; r in [0, 1] makes modifiers likelier."""
    kind = rng.choice(kinds)
    if kind == "P" and rng.random() < 0.15:
        if subject and rng.random() < 0.4:
            return _NP(word=rng.choice(_PRONOUNS)), 1
        return _NP(word=rng.choice(_NAMES)), 1
    noun = rng.choice(_NOUNS_BY_KIND[kind])
    det = _pick(rng, _DETS, _DET_CUM)
    plural = det.number == "pl" or (det.number == "any" and rng.random() < 0.35)
    n = len(det.en) + 1
    p_adj = 0.12 + 0.2 * r
    pre = post = pp = rc = None
    pre_very = post_very = False
    if rng.random() < p_adj * 0.6:
        pre, pre_very = rng.choice(_PRE_BY_KIND[kind]), rng.random() < 0.1
        n += 1 + pre_very
    if rng.random() < p_adj:
        post, post_very = rng.choice(_POST_BY_KIND[kind]), rng.random() < 0.1
        n += 1 + post_very
    if depth < 4 and rng.random() < (0.1 + 0.35 * r) / (1 + depth):
        prep = rng.choice(_NOMINAL_PREPS)
        obj, m = _gen_np(rng, prep.kinds, r * 0.5, depth + 1, relative=False)
        pp = _PP(prep, obj)
        n += len(prep.en) + m
    rel, orc = "that", None
    if relative and depth < 3 and rng.random() < (0.05 + 0.4 * r) / (1 + depth):
        rel = "who" if kind == "P" and rng.random() < 0.5 else "that"
        if rng.random() < 0.3:                      # "the car that the dogs saw": object relative
            verb = rng.choice(_VERBS_BY_OBJ[kind])
            subj, m = _gen_np(rng, verb.subj, r * 0.5, depth + 1, relative=True, subject=True)
            tense, neg, adv, k = _gen_tense(rng, verb)
            orc = _Clause(subj, _VP(verb, tense, neg, adv))
            n += 1 + m + k
        else:
            rc, m = _gen_vp(rng, rng.choice(_VERBS_BY_SUBJ[kind]), plural, r * 0.7, depth + 1)
            n += 1 + m
    return _NP(noun, plural, det, pre, pre_very, post, post_very, pp, rc, orc, rel), n


def _gen_tense(rng: random.Random, verb: _Verb) -> tuple[str, str, _Phrase | None, int]:
    """Tense, negation, pre-verbal adverb and the number of English words of the verb group."""
    tense = _pick(rng, _TENSES, _TENSE_CUM)
    if verb.stative and tense in ("prog", "pastprog"):
        tense = "present" if tense == "prog" else "past"
    neg, adv = "", None
    u = rng.random()
    if tense in ("present", "past", "future"):
        if u < 0.18:
            neg = "not"
        elif u < 0.25:
            neg = "never"
        elif u < 0.4:
            adv = rng.choice(_PRE_ADVERBS)
    elif tense in ("prog", "pastprog", "can"):
        neg = "not" if u < 0.2 else ""         # with can: one word, "cannot"
    return tense, neg, adv, _VERB_WORDS[tense, neg] + (adv is not None)


def _gen_vp(rng: random.Random, verb: _Verb, plural: bool, r: float, depth: int) -> tuple[_VP, int]:
    tense, neg, adv, n = _gen_tense(rng, verb)
    obj = rec = manner = pp = None
    if verb.frame == "tr":
        obj, m = _gen_np(rng, verb.obj, r, depth, relative=True)
        n += m
    elif verb.frame == "di":
        obj, m = _gen_np(rng, verb.obj, r * 0.6, depth, relative=True)
        rec, k = _gen_np(rng, verb.rec, r * 0.6, depth, relative=True)
        n += m + 1 + k
    else:
        if rng.random() < 0.3:
            manner = rng.choice(_MANNERS)
            n += len(manner.en)
        if rng.random() < 0.15 + 0.5 * r:
            prep = rng.choice(_VERBAL_PREPS)
            pp_obj, m = _gen_np(rng, prep.kinds, r * 0.6, depth + 1, relative=False)
            pp = _PP(prep, pp_obj)
            n += len(prep.en) + m
    return _VP(verb, tense, neg, adv, obj, rec, manner, pp), n


def _gen_clause(rng: random.Random, r: float) -> tuple[_Clause, int]:
    verb = rng.choice(_VERBS)
    subj, n = _gen_np(rng, verb.subj, r, 0, relative=True, subject=True)
    vp, m = _gen_vp(rng, verb, _plural(subj), r, 0)
    time = None
    if rng.random() < 0.15:
        family = _FAMILY[vp.tense]
        time = rng.choice([t for t in _TIMES if family in t.kinds])
        m += len(time.en)
    return _Clause(subj, vp, time), n + m


def _gen_sentence(rng: random.Random, lo: int, hi: int) -> _Sentence:
    """A sentence of lo..hi English words: clauses sized to the room left, joined until the length fits."""
    while True:
        target = rng.randint(lo, hi)
        clauses, conjs, n = [], [], 0
        while n < lo:
            conj = _pick(rng, _CONJS, _CONJ_CUM) if clauses else None
            extra = len(conj.en) if conj else 0
            room = target - n - extra
            if room < 2:
                break
            for _ in range(4):
                # richness: about 4 words per clause at r = 0, about 20 at r = 1
                clause, m = _gen_clause(rng, min(1.0, max(0.0, (min(room, rng.randint(6, 24)) - 4) / 16)))
                if n + extra + m <= hi:
                    break
            else:
                break
            clauses.append(clause)
            if conj:
                conjs.append(conj)
            n += extra + m
        if lo <= n <= hi:
            return _Sentence(tuple(clauses), tuple(conjs))


def _check_lengths(min_len: int, max_len: int) -> None:
    if not 2 <= min_len <= max_len:
        raise DataError(f"sentence lengths {min_len}..{max_len} are impossible; the shortest sentence has 2 words "
                        "and min_len must not exceed max_len")


def sample_pair(rng: random.Random, min_len: int = 3, max_len: int = 30) -> Pair:
    """One random pair whose English side has min_len..max_len words; lengths spread evenly over that range."""
    _check_lengths(min_len, max_len)
    target = rng.randint(min_len, max_len)
    return _render(_gen_sentence(rng, max(min_len, target - 2), min(max_len, target + 2)))


def _distinct(rng: random.Random, n: int, min_len: int, max_len: int, seen: set) -> list[Pair]:
    out = []
    repeats = 0                 # draws in a row that gave a sentence already taken
    while len(out) < n:
        pair = sample_pair(rng, min_len, max_len)
        if pair.src not in seen:
            seen.add(pair.src)
            out.append(pair)
            repeats = 0
        elif (repeats := repeats + 1) > 1000:
            raise DataError(f"could not find {n:,} distinct sentences of {min_len}..{max_len} words; "
                            "ask for fewer or allow longer sentences")
    return out


def corpus(seed: int, n: int, min_len: int = 3, max_len: int = 30, exclude: frozenset = frozenset()) -> list[Pair]:
    """n pairs with distinct English sides, none of them in `exclude`; the same seed gives the same list."""
    return _distinct(random.Random(seed), n, min_len, max_len, set(exclude))


def test_set(seed: int, per_bucket: int, buckets=BUCKETS) -> list[Pair]:
    """per_bucket distinct pairs for each (lo, hi) source-length bucket, in bucket order."""
    rng, seen, out = random.Random(seed), set(), []
    for lo, hi in buckets:
        out += _distinct(rng, per_bucket, max(lo, 2), hi, seen)
    return out



# ---------------------------------------------------------------- vocabularies and user text

@functools.cache
def english_vocab() -> tuple[str, ...]:
    """Every English word the grammar can emit, sorted."""
    words = {"very", "that", "who", "an", "not", "never", "do", "does", "did", "will", "is", "are", "was", "were",
             "can", "cannot", "must"}
    words.update(w for n in _NOUNS for w in n.en)
    words.update(a.en for a in _ADJECTIVES)
    words.update(w for v in _VERBS for w in (v.en if not v.stative else v.en[:3]))   # no "is seeing"
    words.update(p.en for p in _NAMES + _PRONOUNS)
    for entry in (*_DETS, *_NOMINAL_PREPS, *_VERBAL_PREPS, *_CONJS, *_MANNERS, *_PRE_ADVERBS, *_TIMES, _TO):
        words.update(entry.en)
    return tuple(sorted(words))


@functools.cache
def french_vocab() -> tuple[str, ...]:
    """Every French token the grammar can emit, contractions and elided forms included, sorted."""
    words = {"très", "qui", "que", "ne", "pas", "jamais", "a", "ont", "peut", "peuvent", "doit", "doivent", "de"}
    words.update(w for n in _NOUNS for w in n.fr)
    words.update(w for a in _ADJECTIVES for form in a.forms for w in form)
    words.update(w for v in _VERBS for w in v.fr)
    words.update(v.imperfect_form(plural) for v in _VERBS if not v.stative for plural in (False, True))
    words.update(v.participle(fem, plural) for v in _VERBS if v.frame == "tr" for fem in (False, True)
                 for plural in (False, True))
    words.update(p.fr for p in _NAMES + _PRONOUNS)
    words.update(w for d in _DETS for form in d.forms for w in form if w != "-")
    for entry in (*_NOMINAL_PREPS, *_VERBAL_PREPS, *_CONJS, *_MANNERS, *_PRE_ADVERBS, *_TIMES, _TO):
        words.update(entry.fr)
    words.update(_CONTRACT.values())
    words.update(_ELIDE.values())
    return tuple(sorted(words))


_CONTRACTIONS = {"don't": "do not", "doesn't": "does not", "didn't": "did not", "won't": "will not",
                 "can't": "cannot", "isn't": "is not", "aren't": "are not"}
_QUOTES = "\"'“”‘’`«»"


def read_english(text: str) -> tuple[tuple[str, ...], list[str]]:
    """Tokens of a typed sentence (lower case, punctuation dropped, "don't" read as "do not") and the words among them
    that the grammar does not know, each once, in order of appearance."""
    if len(text) > MAX_CHARS:
        raise DataError(f"The text is {len(text)} characters; the limit is {MAX_CHARS}.")
    tokens = []
    for word in re.sub(r"[.,!?;:]", " ", text.lower().replace("’", "'")).split():
        word = word.strip(_QUOTES)
        tokens += _CONTRACTIONS.get(word, word).split()
    if not tokens:
        raise DataError("The text has no words; type an English sentence such as \"the red car is next to the "
                        "house\".")
    known = set(english_vocab())
    unknown = list(dict.fromkeys(t for t in tokens if t not in known))
    return tuple(tokens), unknown


def suggest(word: str, k: int = 3) -> list[str]:
    """Up to k known English words spelled like `word`, closest first."""
    return difflib.get_close_matches(word.lower(), english_vocab(), n=k, cutoff=0.6)


_KIND_NAMES = {"P": "person", "A": "animal", "T": "thing", "L": "place", "F": "food"}
_COLOURS = frozenset("red blue green yellow black white grey brown pink orange purple".split())


@functools.cache
def word_classes() -> dict[str, str]:
    """The class of each one-word English entry whose class is unambiguous: nouns by kind and number, colour and
    other adjectives, verbs by form, numbers, names, adverbs. Words the grammar uses in two classes are left out."""
    labels: dict[str, set[str]] = {}

    def add(word: str, label: str) -> None:
        if " " not in word:
            labels.setdefault(word, set()).add(label)
    for n in _NOUNS:
        add(n.en[0], f"noun: {_KIND_NAMES[n.kind]}")
        add(n.en[1], f"noun: {_KIND_NAMES[n.kind]}, plural")
    for a in _ADJECTIVES:
        add(a.en, "adjective: colour" if a.en in _COLOURS else "adjective")
    for v in _VERBS:
        for form, label in zip(v.en, ("verb: -s", "verb: base", "verb: past", "verb: -ing")):
            add(form, label)
    for w in _NUMBERS_EN:
        add(w, "number")
    for p in _NAMES:
        add(p.en, "name")
    for p in (*_MANNERS, *_PRE_ADVERBS):
        add(" ".join(p.en), "adverb")
    return {w: next(iter(s)) for w, s in sorted(labels.items()) if len(s) == 1}
