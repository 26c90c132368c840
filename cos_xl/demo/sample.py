"""SYNTHETIC inputs for every region of a period: plausible, reproducible from a seed, not real.

Nothing here is official statistics. The figures are invented for the demonstration round and
only their magnitudes are meant to be plausible. National magnitudes chosen, for the 85 subjects
that report in 2020 (the four subjects added in 2022 get the same per-resident rates on top):

============================  ============  =========================================
input                         about         why
============================  ============  =========================================
``students_go``               17 000 000    school students (issue 6)
``orgs_go``                   40 000        schools (issue 6)
``teachers_go``               1 070 000     teachers of general education (~1 million)
``students_do``               12 500 000    enrolments in out-of-school programmes
``orgs_do``                   16 000        organisations of additional education
``students_spo``              3 500 000     vocational students
``orgs_spo``                  3 500         vocational organisations
``e40107`` (2020Q3)           ~10 000       ~1.3 % of teachers a year, cumulative by quarter
``e40111_students``           ~1 000 000    ~90 % of subjects take part, 6-26 % of their
                                            schools, 110-240 students per equipped school
============================  ============  =========================================

The totals are spread over the regions by an approximate resident population (built in below,
rounded; ``cos_xl.regions`` has none), a youth factor for the regions with many children, and
noise; students per school are higher in the big cities. The "of them" inputs are shares of
their totals that grow with a region's "digital maturity" (a random number per region) and a
little each quarter, so cumulative counts never decrease within a year and no share moves by
20 points between quarters. So, by construction, a synthetic region breaks no rule of the form:
every ratio is inside the plausibility ranges, every part is at most its total, every numerator
above zero has an information system declared. The only warning it can get is ``target-not-met``
(about a fifth of the regions have sites with full information below 100 %; half of those
explain why in the workbook, which makes the finding ``info``).

Nationally, E4.01.11 meets the children part (≥ 500 000) and, depending on the seed, the 75
subjects part (about 76 take part), but not the 25 % of schools part (about 16 %).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from cos_xl.periods import Period
from cos_xl.plural import plural
from cos_xl.regions import Region, all_regions, regions_for_period
from cos_xl.spec import Form, load_form

__all__ = [
    "NATIONAL_2020",
    "SYNTHETIC_NOTE",
    "national_sums",
    "sample_explanations",
    "sample_inputs",
    "sample_region",
]

SYNTHETIC_NOTE = ("Данные синтетические: сгенерированы для демонстрации cos-xl, это не "
                  "официальная статистика и не отчёты регионов.")

#: National totals of the 85 subjects reporting in 2020 that the synthetic data are scaled to.
NATIONAL_2020 = {
    "students_go": 17_000_000, "orgs_go": 40_000, "teachers_go": 1_070_000,
    "students_do": 12_500_000, "orgs_do": 16_000,
    "students_spo": 3_500_000, "orgs_spo": 3_500,
}

# Approximate resident population, thousands, about 1 January 2020, rounded (Rosstat figures as
# generally published); the four subjects of 2022 (90, 93, 94, 95) are rough guesses. Used only
# as weights to spread the synthetic totals.
POPULATION = {
    "01": 463, "02": 4038, "03": 986, "04": 220, "05": 3110, "06": 507, "07": 869, "08": 272,
    "09": 466, "10": 614, "11": 820, "12": 680, "13": 784, "14": 972, "15": 697, "16": 3902,
    "17": 327, "18": 1501, "19": 535, "20": 1478, "21": 1217, "22": 2317, "23": 5675,
    "24": 2876, "25": 1896, "26": 2801, "27": 1315, "28": 790, "29": 1050, "30": 1005,
    "31": 1549, "32": 1200, "33": 1358, "34": 2491, "35": 1160, "36": 2324, "37": 997,
    "38": 2391, "39": 1012, "40": 1010, "41": 313, "42": 2658, "43": 1263, "44": 637,
    "45": 827, "46": 1104, "47": 1876, "48": 1140, "49": 140, "50": 7691, "51": 741,
    "52": 3203, "53": 600, "54": 2798, "55": 1926, "56": 1963, "57": 733, "58": 1304,
    "59": 2599, "60": 627, "61": 4198, "62": 1108, "63": 3179, "64": 2422, "65": 488,
    "66": 4311, "67": 934, "68": 1016, "69": 1270, "70": 1079, "71": 1466, "72": 1538,
    "73": 1229, "74": 3466, "75": 1066, "76": 1253, "77": 12678, "78": 5398, "79": 159,
    "83": 44, "86": 1675, "87": 50, "89": 544, "90": 500, "91": 1913, "92": 449, "93": 2200,
    "94": 1400, "95": 300,
}
# Children per resident relative to the country (the North Caucasus, Tuva, the Altai Republic,
# Yakutia and the oil districts are young; the two capitals old). Others: 1.
YOUTH = {
    "05": 1.45, "06": 1.5, "20": 1.65, "17": 1.55, "04": 1.3, "14": 1.25, "07": 1.15,
    "09": 1.1, "15": 1.1, "08": 1.15, "03": 1.15, "86": 1.2, "89": 1.25, "83": 1.2, "87": 1.15,
    "77": 0.85, "78": 0.85,
}
# Students per school relative to the country: big cities have big schools.
BIG_SCHOOLS = {"77": 4.5, "78": 1.9, "92": 1.5, "50": 1.5, "63": 1.2, "66": 1.2, "54": 1.2}

# Information systems declared per indicator: (choice, text for «Другие системы») options; the
# choice texts must be items of the form's list «info_systems» (a test checks it).
JOURNAL = "Электронный журнал / электронный дневник"
EPGU = "ЕПГУ (Госуслуги), личный кабинет «Образование»"
REGIONAL = "Региональная ИС с централизованной авторизацией"
RESH = "РЭШ (Российская электронная школа)"
MARKETPLACE = "Маркетплейс образовательных услуг (АИС «Элемент»)"
ONE_WINDOW = "Ресурс «одного окна» («Современная цифровая образовательная среда в РФ»)"
SEVERAL = "Несколько систем (перечислите в графе «Другие системы»)"
OTHER = "Иная система (укажите в графе «Другие системы»)"
INFO_SYSTEMS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "E4.03": ((JOURNAL, None), (SEVERAL, "Электронный журнал, региональная ИС «Навигатор»")),
    "E4.04": ((EPGU, None), (REGIONAL, None),
              (SEVERAL, "ЕПГУ и региональная система электронного образования")),
    "E4.05": ((RESH, None), (MARKETPLACE, None), (SEVERAL, "РЭШ, Маркетплейс, «Сферум»")),
    "E4.07": ((ONE_WINDOW, None), (RESH, None), (SEVERAL, "РЭШ, «Сферум», ресурс «одного окна»")),
    "E4.08": ((OTHER, "Региональная платформа дополнительного профессионального образования"),
              (ONE_WINDOW, None)),
    "E4.01.05": ((OTHER, "Региональный мониторинг официальных сайтов организаций"),),
    "E4.01.07": ((OTHER, "Реестр ФГАОУ ДПО «Академия Минпросвещения России»"),
                 (OTHER, "Региональный институт развития образования")),
    "E4.01.11": ((JOURNAL, None), (OTHER, "Учёт оборудования регионального проекта ЦОС")),
}

SURNAMES = ("Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов",
            "Михайлов", "Новиков", "Морозов", "Волков", "Алексеев", "Лебедев", "Егоров",
            "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
            "Захаров", "Зайцев", "Борисов", "Яковлев", "Григорьев", "Романов", "Сергеев",
            "Кузьмин", "Фролов", "Дмитриев", "Гусев", "Ильин", "Максимов", "Поляков", "Сорокин",
            "Виноградов", "Белов", "Медведев", "Антонов", "Тарасов", "Жуков", "Баранов",
            "Филиппов", "Комаров", "Давыдов", "Беляев", "Богданов", "Осипов", "Сидоров")
MALE_NAMES = ("Александр", "Алексей", "Андрей", "Дмитрий", "Сергей", "Михаил", "Иван",
              "Николай", "Владимир", "Павел", "Евгений", "Олег", "Игорь", "Роман", "Максим")
FEMALE_NAMES = ("Анна", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Мария", "Светлана",
                "Екатерина", "Юлия", "Марина", "Галина", "Людмила", "Надежда", "Оксана")
PATRONYMICS = (("Александрович", "Александровна"), ("Сергеевич", "Сергеевна"),
               ("Николаевич", "Николаевна"), ("Андреевич", "Андреевна"),
               ("Дмитриевич", "Дмитриевна"), ("Владимирович", "Владимировна"),
               ("Иванович", "Ивановна"), ("Михайлович", "Михайловна"), ("Петрович", "Петровна"),
               ("Юрьевич", "Юрьевна"), ("Викторович", "Викторовна"),
               ("Анатольевич", "Анатольевна"))
POSITIONS = ("Главный специалист отдела общего образования",
             "Начальник отдела цифровой трансформации образования",
             "Консультант отдела информатизации образования",
             "Ведущий специалист-эксперт отдела мониторинга",
             "Заместитель директора регионального центра обработки информации")
AUTHORITIES = ("министерство образования субъекта", "департамент образования субъекта",
               "комитет по образованию субъекта")
_TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                     ("a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n",
                      "o", "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "",
                      "y", "", "e", "yu", "ya"), strict=True))


def _translit(text: str) -> str:
    return "".join(_TRANSLIT.get(ch, ch) for ch in text.lower())


@dataclass(frozen=True)
class _Profile:
    """What stays the same for a region across periods (one seed)."""

    totals: dict[str, float]  # unscaled
    maturity: float
    jitter: dict[str, float]  # per share, 0..1
    sites_full: bool
    sites_share: tuple[float, float]  # go, do when not full
    e40107_rate: float
    e40111_share: float | None  # None: the region does not take part
    e40111_per_school: int
    person: dict[str, str]
    systems: dict[str, tuple[str, str | None]]
    explains: bool


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random("cos-xl-demo/" + "/".join(map(str, (seed, *parts))))


def _profile(region: Region, seed: int) -> _Profile:
    rng = _rng(seed, region.code)
    pop = POPULATION.get(region.code, 500) * rng.uniform(0.97, 1.03)
    students_go = pop * YOUTH.get(region.code, 1.0) * rng.uniform(0.92, 1.08)
    school_size = BIG_SCHOOLS.get(region.code) or rng.uniform(0.55, 1.3)
    do_size = rng.uniform(0.6, 1.6)
    spo_size = rng.uniform(0.6, 1.5)
    totals = {
        "students_go": students_go,
        "orgs_go": students_go / school_size,
        "teachers_go": students_go / rng.uniform(12.5, 18.5),
        "students_do": students_go * rng.uniform(0.55, 0.95),
        "students_spo": students_go * rng.uniform(0.16, 0.26),
    }
    totals["orgs_do"] = totals["students_do"] / do_size
    totals["orgs_spo"] = totals["students_spo"] / spo_size
    jitter = {name: rng.random() for name in (
        "e403_go", "e403_do", "e403_spo", "e404_go", "e404_do", "e404_spo", "e407_go",
        "e407_spo", "e405_go", "e405_do", "e405_spo", "e408_go")}
    female = rng.random() < 0.7
    surname = rng.choice(SURNAMES)
    first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
    patronymic = rng.choice(PATRONYMICS)[1 if female else 0]
    surname = surname + "а" if female else surname
    person = {
        "resp_name": f"{surname} {first} {patronymic}",
        "resp_position": f"{rng.choice(POSITIONS)}, {rng.choice(AUTHORITIES)}",
        "resp_phone": (f"+7 ({rng.randint(300, 999)}) {rng.randint(200, 999)}-"
                       f"{rng.randint(10, 99)}-{rng.randint(10, 99)}"),
        "resp_email": (f"{_translit(surname)}.{_translit(first[0])}{_translit(patronymic[0])}"
                       f"@obr{region.code}.example.ru"),
    }
    systems = {code: rng.choice(options) for code, options in INFO_SYSTEMS.items()}
    sites_full = rng.random() < 0.78
    takes_part = rng.random() < 0.9
    return _Profile(
        totals=totals, maturity=rng.random(), jitter=jitter, sites_full=sites_full,
        sites_share=(rng.uniform(0.93, 0.995), rng.uniform(0.88, 0.99)),
        e40107_rate=rng.uniform(0.006, 0.02),
        e40111_share=rng.uniform(0.06, 0.26) if takes_part else None,
        e40111_per_school=rng.randint(110, 240), person=person, systems=systems,
        explains=rng.random() < 0.5)


@lru_cache(maxsize=16)
def _profiles(seed: int) -> dict[str, _Profile]:
    return {region.code: _profile(region, seed) for region in all_regions()}


@lru_cache(maxsize=16)
def _scales(seed: int) -> dict[str, float]:
    """Factors that bring the 85 subjects of 2020 to the national totals (the seed moves each
    total by up to ±1.5 %)."""
    profiles = _profiles(seed)
    base = [region.code for region in all_regions() if region.reports_from is None]
    rng = _rng(seed, "national")
    return {name: total * rng.uniform(0.985, 1.015) / sum(profiles[c].totals[name] for c in base)
            for name, total in NATIONAL_2020.items()}


# Plausibility bounds of the rules, with a margin: a synthetic region never trips them.
_PER_ORG = (10, 4_000)
_PER_TEACHER = (6, 30)
# (low, high) share of the total for each "of them" input
SHARES = {
    "e403_go": (0.55, 0.95), "e403_do": (0.20, 0.70), "e403_spo": (0.30, 0.85),
    "e404_go": (0.35, 0.85), "e404_do": (0.20, 0.60), "e404_spo": (0.25, 0.70),
    "e407_go": (0.05, 0.35), "e407_spo": (0.05, 0.40),
    "e405_go": (0.75, 1.00), "e405_do": (0.40, 0.90), "e405_spo": (0.60, 1.00),
    "e408_go": (0.10, 0.45),
}
TOTAL_OF = {"e403_go": "students_go", "e404_go": "students_go", "e407_go": "students_go",
            "e405_go": "orgs_go", "e408_go": "teachers_go", "e403_do": "students_do",
            "e404_do": "students_do", "e405_do": "orgs_do", "e403_spo": "students_spo",
            "e404_spo": "students_spo", "e407_spo": "students_spo", "e405_spo": "orgs_spo"}
_NUMERATORS = {"E4.03": ("e403_go", "e403_do", "e403_spo"),
               "E4.04": ("e404_go", "e404_do", "e404_spo"),
               "E4.05": ("e405_go", "e405_do", "e405_spo"), "E4.07": ("e407_go", "e407_spo"),
               "E4.08": ("e408_go",), "E4.01.05": ("e40105_go", "e40105_do"),
               "E4.01.07": ("e40107",), "E4.01.11": ("e40111_students",)}


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def sample_region(region: Region, period: Period | str, seed: int = 0,
                  form: Form | None = None) -> dict[str, object]:
    """Every input of the form for one region and period: counts as ints, texts as str, an
    information system left empty (None) where its indicator's numerator is 0."""
    period = Period.parse(period)
    form = form or load_form()
    profile = _profiles(seed)[region.code]
    scale = _scales(seed)
    quarters = (period.year - 2020) * 4 + period.quarter - 3  # since 2020Q3
    drift = _clamp(0.02 * quarters, -0.2, 0.6)
    growth = 1 + 0.01 * (period.year - 2020)
    values: dict[str, object] = {}
    for name in NATIONAL_2020:
        values[name] = max(1, round(profile.totals[name] * scale[name] * growth))
    # keep every ratio the rules check well inside its range
    for students, orgs in (("students_go", "orgs_go"), ("students_do", "orgs_do"),
                           ("students_spo", "orgs_spo")):
        values[students] = max(values[students], _PER_ORG[0] * values[orgs])
        low, high = values[students] / _PER_ORG[1], values[students] / _PER_ORG[0]
        values[orgs] = max(1, round(_clamp(values[orgs], max(1, low), high)))
    values["teachers_go"] = round(_clamp(values["teachers_go"],
                                         values["students_go"] / _PER_TEACHER[1],
                                         values["students_go"] / _PER_TEACHER[0]))
    for part, (low, high) in SHARES.items():
        level = _clamp(0.7 * profile.maturity + 0.3 * profile.jitter[part] + drift, 0, 1)
        values[part] = min(values[TOTAL_OF[part]], round(values[TOTAL_OF[part]]
                                                         * (low + (high - low) * level)))
    for group, share in zip(("go", "do"), profile.sites_share, strict=True):
        orgs = values[f"orgs_{group}"]
        values[f"e40105_{group}"] = orgs if profile.sites_full else max(
            0, min(orgs - 1, round(orgs * share)))
    values["e40107"] = round(values["teachers_go"] * profile.e40107_rate
                             * period.quarter / 4)
    if profile.e40111_share is None:
        values["e40111_orgs_go"] = values["e40111_students"] = 0
    else:
        share = min(0.95, profile.e40111_share * (1 + max(0.0, drift)))
        schools = max(1, min(values["orgs_go"], round(values["orgs_go"] * share)))
        values["e40111_orgs_go"] = schools
        values["e40111_students"] = min(values["students_go"],
                                        schools * profile.e40111_per_school)
    values.update(profile.person)
    for ind in form.indicators:
        code = ind.spec.code
        used = sum(int(values.get(name) or 0) for name in _NUMERATORS.get(code, ())) > 0
        choice, other = profile.systems.get(code, (None, None)) if used else (None, None)
        values[ind.spec.is_name] = choice
        values[ind.spec.is_other_name] = other
    return {item.id: values.get(item.id) for item in form.inputs}


def sample_inputs(period: Period | str, seed: int = 0,
                  form: Form | None = None) -> dict[str, dict[str, object]]:
    """SYNTHETIC inputs of every region reporting in the period: region code -> input id ->
    value. The same period and seed give the same figures; a region's figures do not depend on
    which other regions are asked for."""
    period = Period.parse(period)
    form = form or load_form()
    return {region.code: sample_region(region, period, seed, form)
            for region in regions_for_period(period.year, period.quarter)}


def target_not_met_rule(form: Form) -> str:
    """Id of the rule instance that warns when E4.01.05 is below 100 %."""
    return next(rule.id for rule in form.rules if rule.code == "target-not-met")


def sample_explanations(period: Period | str, inputs: Mapping[str, Mapping[str, object]],
                        seed: int = 0, form: Form | None = None) -> dict[str, dict[str, str]]:
    """Explanations some regions write for their warning: about half of the regions whose
    sites with full information are below 100 % (region code -> rule id -> text)."""
    period = Period.parse(period)
    form = form or load_form()
    rule_id = target_not_met_rule(form)
    due = (period.end + dt.timedelta(days=45)).strftime("%d.%m.%Y")
    out: dict[str, dict[str, str]] = {}
    for code, values in inputs.items():
        profile = _profiles(seed)[code]
        missing = sum(int(values[f"orgs_{g}"]) - int(values[f"e40105_{g}"]) for g in ("go", "do"))
        if missing > 0 and profile.explains:
            orgs = plural(missing, "организации", "организаций", "организаций")
            out[code] = {rule_id: (
                f"На сайтах {missing} {orgs} обновляется раздел «Сведения об "
                f"образовательной организации»; срок завершения — {due}.")}
    return out


def national_sums(inputs: Mapping[str, Mapping[str, object]]) -> dict[str, int]:
    """Sum of every count input over the regions given (texts and empty cells count 0)."""
    sums: dict[str, int] = {}
    for values in inputs.values():
        for name, value in values.items():
            if isinstance(value, int) and not isinstance(value, bool):
                sums[name] = sums.get(name, 0) + value
    return sums
