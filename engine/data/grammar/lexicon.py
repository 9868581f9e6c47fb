"""The grammar's words, each with its French forms and word links, and French spelling at word boundaries."""
from dataclasses import dataclass


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
_VOWELS = frozenset("aeiouyéèêàâîôûœ")                  # a French word starting with one elides de/ne/que
