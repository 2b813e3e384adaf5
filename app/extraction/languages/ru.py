"""Russian: word forms by pymorphy3 (тонна/тонны/тонн, опий/опия), sentences by razdel, and the
Russian words for units, currencies, metrics, phases and scope cues of CSTO and ministry releases."""

import re

from app.domain.text.sentences import Span, blocks, strip_span
from app.extraction.languages import Forms, Language

_CYRILLIC_WORD_RE = re.compile(r"[а-яё-]+", re.IGNORECASE)


def split_sentences(text: str) -> list[Span]:
    """razdel's sentences inside each line (file names cut out), as offsets into the text."""
    from razdel import sentenize

    out = []
    for block in blocks(text):
        for s in sentenize(text[block.start : block.end]):
            span = strip_span(text, block.start + s.start, block.start + s.stop)
            if span is not None:
                out.append(span)
    return out


def _forms() -> Forms:
    """Build pymorphy3's analyser once; a word's forms are those of its two likeliest readings."""
    import pymorphy3

    morph = pymorphy3.MorphAnalyzer()

    def forms(w: str) -> tuple[str, ...]:
        if len(w) <= 2 or w.isupper() or not _CYRILLIC_WORD_RE.fullmatch(w):
            return (w,)  # "т", "кг", "г.", "ОДКБ": abbreviations are written one way
        found = {w.lower(), *(f.word for p in morph.parse(w)[:2] for f in p.lexeme)}
        found |= {f.replace("ё", "е") for f in found}  # "наемник" as often as "наёмник"
        return tuple(sorted(found, key=len, reverse=True))

    return forms


_KEYWORDS: dict[str, tuple[str, ...]] = {
    "administrative_offenders": ("административной ответственности",),
    "ammunition_seized": ("боеприпас", "патрон"),
    "amphetamine_seized": ("амфетамин",),
    "cocaine_seized": ("кокаин",),
    "criminal_cases_opened": ("уголовное дело", "возбуждено … уголовных дел"),
    "drug_crimes_detected": (
        "наркопреступление",
        "преступление в сфере незаконного оборота наркотиков",
        "преступление",
    ),
    "drug_groups_exposed": (
        "выявлено … преступных групп",
        "выявлено … группировок",
        "вскрыто … преступных групп",
    ),
    "drug_groups_neutralised": (
        "преступная группа",
        "преступная группировка",
        "наркогруппировка",
        "группировка",
    ),
    "drug_laboratories_eliminated": ("нарколаборатория", "лаборатория"),
    "drugs_seized": (
        "наркотик",
        "наркотическое средство",
        "психотропное вещество",
        "наркотических",
        "наркосредство",
    ),
    "explosives_seized": ("взрывчатое вещество", "взрывчатка"),
    "fines_imposed": ("штраф",),
    "fines_imposed_eur": ("штраф",),
    "fines_imposed_rub": ("штраф",),
    "firearms_seized": ("огнестрельное оружие", "оружие", "ствол"),
    "foreign_nationals_expelled": (
        "выдворено",
        "выдворены",
        "депортировано",
        "иностранный гражданин",
        "иностранец",
    ),
    "hashish_seized": ("гашиш",),
    "heroin_seized": ("героин",),
    "human_trafficking_cases": ("торговля людьми",),
    "illegal_migrants_detained": ("нелегальный мигрант", "незаконный мигрант", "мигрант"),
    "illicit_proceeds_identified": (
        "преступный доход",
        "незаконный доход",
        "доход",
        "легализация",
        "отмывание",
    ),
    "illicit_proceeds_identified_eur": (
        "преступный доход",
        "незаконный доход",
        "доход",
        "легализация",
        "отмывание",
    ),
    "illicit_proceeds_identified_rub": (
        "преступный доход",
        "незаконный доход",
        "доход",
        "легализация",
        "отмывание",
    ),
    "internet_resources_blocked": (
        "интернет-ресурс … заблокировано",
        "заблокировано … интернет-ресурс",
        "сайт … заблокировано",
        "заблокировано … сайт",
        "заблокирован",
    ),
    "internet_resources_identified": ("интернет-ресурс", "сайт", "веб-ресурс", "информационный ресурс"),
    "marijuana_seized": ("марихуана", "каннабис"),
    "mephedrone_seized": ("мефедрон",),
    "migration_channels_eliminated": ("канал незаконной миграции", "канал нелегальной миграции"),
    "migration_violations_suppressed": ("нарушение миграционного законодательства", "нарушение"),
    "opium_seized": ("опий", "опиум"),
    "personnel_involved": ("сотрудник", "личный состав", "военнослужащий"),
    "phases_conducted": ("этап",),
    "precursors_seized": ("прекурсор",),
    "property_arrested": ("имущество", "активы"),
    "property_arrested_eur": ("имущество", "активы"),
    "property_arrested_rub": ("имущество", "активы"),
    "smuggling_cases_detected": ("контрабанда",),
    "suspicious_transactions_identified": (
        "подозрительная операция",
        "подозрительная транзакция",
        "финансовая операция",
    ),
    "synthetic_drugs_seized": ("синтетический наркотик", "синтетических", "синтетического происхождения"),
    "terrorism_suspects_detained": ("террористической деятельности", "боевик"),
    "terrorist_acts_prevented": ("террористический акт", "теракт"),
    "wanted_persons_detained": ("розыск", "разыскиваемый"),
}

LANGUAGE = Language(
    tag="ru",
    split_sentences=split_sentences,
    forms=_forms,
    phrase_end=re.compile(
        r"(?<!\w)(?:и|или|а|но|в|во|на|у|при|из|с|со|по|за|что|был|была|было|были"
        r"|котор[а-яё]+|изъят[а-яё]*|задержан[а-яё]*|выявлен[а-яё]*)(?!\w)",
        re.IGNORECASE,
    ),
    cumulative=re.compile(
        r"(?<!\w)(?:с\s+(?:(?:19|20)\d{2}\s+года|начала\s+(?:операции|проведения|реализации)|момента\s+(?:начала|создания))"
        r"|за\s+(?:все\s+)?(?:(?:прошедшие|последние|минувшие)\s+)?(?:\w+\s+)?(?:лет|года|десятилетия)\b"
        r"|за\s+(?:всю\s+)?историю|за\s+весь\s+период)",
        re.IGNORECASE,
    ),
    total=re.compile(
        r"(?<!\w)(?:всего|в\s+общей\s+сложности|в\s+целом|на\s+сегодняшний\s+день)(?!\w)", re.IGNORECASE
    ),
    anaphoric=re.compile(
        r"(?<!\w)за\s+(?:это|этот|то|тот|указанный)\s+(?:время|период)(?!\w)", re.IGNORECASE
    ),
    organisation=re.compile(
        r"(?<!\w)(?:все[хм]?|нескольких|ряда)\s+(?:\w+\s+)?операци[йяи]\w*"
        r"|спецслужб\w*\s+(?:государств\s+-\s+членов\s+)?ОДКБ|совместн\w+\s+(?:деятельност|работ)\w*\s+ОДКБ",
        re.IGNORECASE,
    ),
    unit_words={
        "t": ("тонна", "т", "т."),
        "kg": ("килограмм", "кг", "кг."),
        "g": ("грамм", "г", "г."),
        "count": ("единица", "штука", "шт", "шт.", "ед.", "человек"),
        "USD": ("доллар США", "доллар", "долл.", "долл. США"),
        "RUB": ("рубль", "руб.", "руб", "₽"),
        "EUR": ("евро",),
    },
    metric_keywords=_KEYWORDS,
    phase_names={
        "channel-center-2019": ("Канал-Центр",),
        "channel-2023-stage-1": ("Канал 2023, первый этап", "первый этап операции «Канал» 2023"),
        "channel-far-eastern-raid": ("Канал – Дальневосточный рейд", "Дальневосточный рейд"),
    },
    counted_nouns=re.compile(
        r"[ \t\u00a0]+(?:[а-яё-]+\s+)?(?:дел|групп|каналов|лиц|человек|граждан)(?!\w)", re.IGNORECASE
    ),
)
