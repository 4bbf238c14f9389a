//! Name lists for the synthetic population, by naming tradition: Kazakh (patronymic
//! -ұлы / -қызы, surname -ов / -ова), Russian (patronymic -ович / -овна, with the
//! irregular ones spelled out), and the Ukrainian, Uzbek, Tatar, German and Korean
//! surnames of Kazakhstan's other peoples, with their male and female forms.

use crate::dictionaries;

/// A naming tradition: which given names, surnames and patronymic forms a person gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Culture {
    /// Kazakh names, Kazakh patronymics (Серікұлы / Серікқызы).
    Kazakh,
    /// Russian names and patronymics (Иванович / Ивановна); Russians and Belarusians.
    Russian,
    /// Russian given names, Ukrainian surnames (Шевченко).
    Ukrainian,
    /// Uzbek names, patronymic in the Russian form (Каримович).
    Uzbek,
    /// Tatar names, patronymic in the Russian form (Ринатович).
    Tatar,
    /// Russian given names, German surnames (Шмидт), which have no female form.
    German,
    /// Russian given names, Korean surnames (Ким), which have no female form.
    Korean,
}

impl Culture {
    /// Returns the naming tradition of a nationality code.
    pub fn of_nationality(code: &str) -> Culture {
        match code {
            dictionaries::KAZAKH => Culture::Kazakh,
            dictionaries::UKRAINIAN => Culture::Ukrainian,
            dictionaries::UZBEK => Culture::Uzbek,
            dictionaries::TATAR => Culture::Tatar,
            dictionaries::GERMAN => Culture::German,
            dictionaries::KOREAN => Culture::Korean,
            _ => Culture::Russian,
        }
    }

    /// Returns the male given names (with their Russian-form patronymics where irregular).
    pub fn male_names(self) -> &'static [MaleName] {
        match self {
            Culture::Kazakh => KAZAKH_MALE,
            Culture::Uzbek => UZBEK_MALE,
            Culture::Tatar => TATAR_MALE,
            Culture::Russian | Culture::Ukrainian | Culture::German | Culture::Korean => {
                RUSSIAN_MALE
            }
        }
    }

    /// Returns the female given names.
    pub fn female_names(self) -> &'static [&'static str] {
        match self {
            Culture::Kazakh => KAZAKH_FEMALE,
            Culture::Uzbek => UZBEK_FEMALE,
            Culture::Tatar => TATAR_FEMALE,
            Culture::Russian | Culture::Ukrainian | Culture::German | Culture::Korean => {
                RUSSIAN_FEMALE
            }
        }
    }

    /// Returns the surnames, in their male form.
    pub fn surnames(self) -> &'static [&'static str] {
        match self {
            Culture::Kazakh => KAZAKH_SURNAMES,
            Culture::Russian => RUSSIAN_SURNAMES,
            Culture::Ukrainian => UKRAINIAN_SURNAMES,
            Culture::Uzbek => UZBEK_SURNAMES,
            Culture::Tatar => TATAR_SURNAMES,
            Culture::German => GERMAN_SURNAMES,
            Culture::Korean => KOREAN_SURNAMES,
        }
    }

    /// Returns a surname in the form for a man or a woman: Иванов / Иванова,
    /// Қайратұлы / Қайратқызы, Ковальский / Ковальская; Шевченко, Шмидт and Ким do not change.
    pub fn surname(self, male_form: &str, female: bool) -> String {
        if !female || matches!(self, Culture::German | Culture::Korean) {
            return male_form.to_owned();
        }
        if let Some(stem) = male_form.strip_suffix("ұлы") {
            return format!("{stem}қызы");
        }
        for (male, female) in [("ский", "ская"), ("цкий", "цкая")] {
            if let Some(stem) = male_form.strip_suffix(male) {
                return format!("{stem}{female}");
            }
        }
        if ["ов", "ев", "ёв", "ин", "ын"]
            .iter()
            .any(|ending| male_form.ends_with(ending))
        {
            return format!("{male_form}а");
        }
        male_form.to_owned()
    }

    /// Returns the patronymic of a child of a father with this given name.
    pub fn patronymic(self, father: &MaleName, female: bool) -> String {
        match (self, female) {
            (Culture::Kazakh, false) => format!("{}ұлы", father.name),
            (Culture::Kazakh, true) => format!("{}қызы", father.name),
            (_, false) => father
                .son
                .map_or_else(|| format!("{}ович", father.name), str::to_owned),
            (_, true) => father
                .daughter
                .map_or_else(|| format!("{}овна", father.name), str::to_owned),
        }
    }
}

/// A male given name and, where the Russian patronymic is not simply `+ович / +овна`,
/// its forms for a son and a daughter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaleName {
    /// The name.
    pub name: &'static str,
    /// A son's patronymic, when irregular.
    pub son: Option<&'static str>,
    /// A daughter's patronymic, when irregular.
    pub daughter: Option<&'static str>,
}

const fn regular(name: &'static str) -> MaleName {
    MaleName {
        name,
        son: None,
        daughter: None,
    }
}

const fn irregular(name: &'static str, son: &'static str, daughter: &'static str) -> MaleName {
    MaleName {
        name,
        son: Some(son),
        daughter: Some(daughter),
    }
}

/// Kazakh male names.
pub const KAZAKH_MALE: &[MaleName] = &[
    regular("Ерлан"),
    regular("Серік"),
    regular("Нұрлан"),
    regular("Қайрат"),
    regular("Асхат"),
    regular("Бауыржан"),
    regular("Дәурен"),
    regular("Ержан"),
    regular("Мұрат"),
    regular("Ғалым"),
    regular("Талғат"),
    regular("Болат"),
    regular("Марат"),
    regular("Арман"),
    regular("Айдос"),
    regular("Нұрсұлтан"),
    regular("Алмас"),
    regular("Ерболат"),
    regular("Бекзат"),
    regular("Дархан"),
    regular("Жандос"),
    regular("Руслан"),
    regular("Әлихан"),
    regular("Ислам"),
    regular("Абай"),
    regular("Азамат"),
    regular("Бақытжан"),
    regular("Еркебұлан"),
    regular("Жасұлан"),
    regular("Қанат"),
    regular("Мейрам"),
    regular("Нұржан"),
    regular("Олжас"),
    regular("Рахат"),
    regular("Саят"),
    regular("Темірлан"),
    regular("Тимур"),
    regular("Ұлан"),
    regular("Шыңғыс"),
    regular("Әділ"),
    regular("Ақжол"),
    regular("Арсен"),
    regular("Данияр"),
    regular("Ермек"),
    regular("Жарас"),
    regular("Қуаныш"),
    regular("Мақсат"),
    regular("Сұлтан"),
    regular("Санжар"),
    regular("Есен"),
];

/// Kazakh female names.
pub const KAZAKH_FEMALE: &[&str] = &[
    "Айгерім",
    "Әйгерім",
    "Гүлнар",
    "Жанар",
    "Динара",
    "Айжан",
    "Назерке",
    "Аружан",
    "Ақбота",
    "Мадина",
    "Сәуле",
    "Гүлмира",
    "Салтанат",
    "Жұлдыз",
    "Меруерт",
    "Ботагөз",
    "Дана",
    "Аяулым",
    "Іңкәр",
    "Томирис",
    "Айым",
    "Жансая",
    "Камила",
    "Әсел",
    "Ләззат",
    "Гүлжан",
    "Балжан",
    "Айнұр",
    "Нұргүл",
    "Раушан",
    "Шынар",
    "Ақмарал",
    "Әлия",
    "Айсұлу",
    "Дильназ",
    "Зарина",
    "Қарлығаш",
    "Мөлдір",
    "Нәзира",
    "Сабина",
];

/// Kazakh surnames, male form.
pub const KAZAKH_SURNAMES: &[&str] = &[
    "Ахметов",
    "Жақсыбеков",
    "Сейітов",
    "Омаров",
    "Нұрғалиев",
    "Әбілов",
    "Тоқаев",
    "Қасымов",
    "Сәрсенбаев",
    "Исаев",
    "Бекмұхамбетов",
    "Жұмабаев",
    "Оспанов",
    "Мұқанов",
    "Құдайбергенов",
    "Есенов",
    "Ержанов",
    "Ибраев",
    "Әлиев",
    "Байжанов",
    "Серікбаев",
    "Дүйсенов",
    "Нұрпейісов",
    "Тұрсынов",
    "Қалиев",
    "Мусин",
    "Сүлейменов",
    "Абдрахманов",
    "Жүнісов",
    "Әміров",
    "Құрманов",
    "Бектұров",
    "Иманғалиев",
    "Садықов",
    "Төлеуов",
    "Жаңабаев",
    "Шәріпов",
    "Ескендіров",
    "Мамыров",
    "Байтұрсынов",
    "Қайратұлы",
    "Серікұлы",
    "Болатұлы",
    "Маратұлы",
];

/// Russian male names, with the irregular patronymics spelled out.
pub const RUSSIAN_MALE: &[MaleName] = &[
    regular("Александр"),
    irregular("Сергей", "Сергеевич", "Сергеевна"),
    irregular("Дмитрий", "Дмитриевич", "Дмитриевна"),
    irregular("Андрей", "Андреевич", "Андреевна"),
    irregular("Алексей", "Алексеевич", "Алексеевна"),
    regular("Иван"),
    irregular("Николай", "Николаевич", "Николаевна"),
    regular("Владимир"),
    irregular("Евгений", "Евгеньевич", "Евгеньевна"),
    irregular("Михаил", "Михайлович", "Михайловна"),
    regular("Павел"),
    regular("Виктор"),
    irregular("Игорь", "Игоревич", "Игоревна"),
    regular("Олег"),
    irregular("Юрий", "Юрьевич", "Юрьевна"),
    regular("Артём"),
    regular("Максим"),
    regular("Денис"),
    regular("Роман"),
    regular("Константин"),
    irregular("Василий", "Васильевич", "Васильевна"),
    irregular("Пётр", "Петрович", "Петровна"),
    irregular("Анатолий", "Анатольевич", "Анатольевна"),
    irregular("Геннадий", "Геннадьевич", "Геннадьевна"),
    irregular("Илья", "Ильич", "Ильинична"),
    regular("Вадим"),
    regular("Станислав"),
    regular("Кирилл"),
    irregular("Никита", "Никитич", "Никитична"),
    irregular("Григорий", "Григорьевич", "Григорьевна"),
];

/// Russian female names.
pub const RUSSIAN_FEMALE: &[&str] = &[
    "Елена",
    "Ольга",
    "Наталья",
    "Татьяна",
    "Ирина",
    "Светлана",
    "Анна",
    "Мария",
    "Екатерина",
    "Юлия",
    "Анастасия",
    "Марина",
    "Людмила",
    "Галина",
    "Валентина",
    "Надежда",
    "Оксана",
    "Виктория",
    "Дарья",
    "Алина",
    "Ксения",
    "Полина",
    "София",
    "Вера",
    "Любовь",
    "Кристина",
    "Евгения",
    "Александра",
    "Валерия",
    "Лариса",
];

/// Russian (and Belarusian) surnames, male form.
pub const RUSSIAN_SURNAMES: &[&str] = &[
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Зайцев",
    "Соловьёв",
    "Борисов",
    "Яковлев",
    "Григорьев",
    "Романов",
    "Сергеев",
    "Кузьмин",
    "Фролов",
    "Александров",
    "Дмитриев",
    "Королёв",
    "Гусев",
    "Киселёв",
    "Ильин",
    "Максимов",
    "Поляков",
    "Сорокин",
    "Виноградов",
    "Ковалёв",
    "Белов",
    "Медведев",
    "Антонов",
    "Тарасов",
    "Жуков",
    "Савицкий",
    "Ковальский",
];

/// Ukrainian surnames (most have no female form).
pub const UKRAINIAN_SURNAMES: &[&str] = &[
    "Шевченко",
    "Бондаренко",
    "Коваленко",
    "Ткаченко",
    "Кравченко",
    "Мельник",
    "Ковальчук",
    "Бойко",
    "Олейник",
    "Литвиненко",
    "Савчук",
    "Лысенко",
    "Руденко",
    "Гончаренко",
];

/// Uzbek male names.
pub const UZBEK_MALE: &[MaleName] = &[
    regular("Бахтияр"),
    regular("Шухрат"),
    regular("Улугбек"),
    regular("Фаррух"),
    regular("Азиз"),
    regular("Рустам"),
    regular("Джамшид"),
    regular("Бобур"),
    regular("Шерзод"),
    regular("Ильхом"),
    regular("Отабек"),
    regular("Акмал"),
];

/// Uzbek female names.
pub const UZBEK_FEMALE: &[&str] = &[
    "Гульноза",
    "Дилноза",
    "Нигора",
    "Феруза",
    "Шахноза",
    "Малика",
    "Мохира",
    "Умида",
    "Нодира",
];

/// Uzbek surnames, male form.
pub const UZBEK_SURNAMES: &[&str] = &[
    "Юлдашев",
    "Каримов",
    "Рахимов",
    "Усманов",
    "Турсунов",
    "Алимов",
    "Ахмедов",
    "Мирзаев",
    "Хасанов",
    "Исмаилов",
];

/// Tatar male names.
pub const TATAR_MALE: &[MaleName] = &[
    regular("Ринат"),
    regular("Ильдар"),
    regular("Рашид"),
    regular("Ильгиз"),
    regular("Айдар"),
    regular("Ильнур"),
    regular("Рустем"),
    regular("Фарид"),
    regular("Дамир"),
    regular("Азат"),
    regular("Ильшат"),
];

/// Tatar female names.
pub const TATAR_FEMALE: &[&str] = &[
    "Гульнара",
    "Альфия",
    "Лилия",
    "Диляра",
    "Эльвира",
    "Резеда",
    "Гузель",
    "Алсу",
    "Ильмира",
    "Лейсан",
];

/// Tatar surnames, male form.
pub const TATAR_SURNAMES: &[&str] = &[
    "Хабибуллин",
    "Галиев",
    "Сафин",
    "Юсупов",
    "Гарипов",
    "Валиев",
    "Закиров",
    "Шарипов",
    "Хайруллин",
    "Мингазов",
];

/// German surnames of Kazakhstan's Germans (no female form).
pub const GERMAN_SURNAMES: &[&str] = &[
    "Шмидт",
    "Мюллер",
    "Вебер",
    "Шнайдер",
    "Фишер",
    "Майер",
    "Вагнер",
    "Беккер",
    "Шульц",
    "Гофман",
    "Рихтер",
    "Келлер",
];

/// Korean surnames of Kazakhstan's Koreans (коре сарам; no female form).
pub const KOREAN_SURNAMES: &[&str] = &[
    "Ким",
    "Пак",
    "Ли",
    "Цой",
    "Тен",
    "Хан",
    "Югай",
    "Когай",
    "Шин",
    "Нам",
    "Лим",
    "Хегай",
];

/// Streets the generated addresses use.
pub const STREETS: &[&str] = &[
    "ул. Абая",
    "ул. Ауэзова",
    "пр. Республики",
    "ул. Байтурсынова",
    "ул. Пушкина",
    "ул. Гоголя",
    "ул. Сейфуллина",
    "ул. Кенесары",
    "ул. Жамбыла",
    "пр. Достык",
    "ул. Тауелсиздик",
    "ул. Бейбитшилик",
    "ул. Мира",
    "ул. Гагарина",
    "ул. Толе би",
    "ул. Алтынсарина",
    "ул. Кунаева",
    "ул. Момышулы",
    "ул. Валиханова",
    "ул. Шевченко",
    "ул. Чехова",
    "ул. Маметовой",
    "ул. Желтоксан",
    "ул. Победы",
    "ул. Строительная",
    "ул. Школьная",
    "ул. Садовая",
    "ул. Набережная",
    "ул. Молодёжная",
    "ул. Степная",
];

/// Names of kindergartens, Kazakh and Russian.
pub const KINDERGARTEN_NAMES: &[(&str, &str)] = &[
    ("Балапан", "Балапан"),
    ("Айгөлек", "Айголек"),
    ("Ақбота", "Акбота"),
    ("Күншуақ", "Куншуак"),
    ("Болашақ", "Болашак"),
    ("Ертегі", "Ертеги"),
    ("Балдырған", "Балдырган"),
    ("Нұршуақ", "Нуршуак"),
    ("Қызғалдақ", "Кызгалдак"),
    ("Шаттық", "Шаттык"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surnames_take_the_female_form_of_their_tradition() {
        assert_eq!(Culture::Russian.surname("Иванов", true), "Иванова");
        assert_eq!(Culture::Russian.surname("Ковальский", true), "Ковальская");
        assert_eq!(Culture::Kazakh.surname("Серікұлы", true), "Серікқызы");
        assert_eq!(Culture::Kazakh.surname("Мусин", true), "Мусина");
        assert_eq!(Culture::Ukrainian.surname("Шевченко", true), "Шевченко");
        assert_eq!(Culture::Korean.surname("Шин", true), "Шин");
        assert_eq!(Culture::German.surname("Шмидт", true), "Шмидт");
        assert_eq!(Culture::Russian.surname("Иванов", false), "Иванов");
    }

    #[test]
    fn patronymics_follow_the_father_and_the_tradition() {
        let serik = regular("Серік");
        assert_eq!(Culture::Kazakh.patronymic(&serik, false), "Серікұлы");
        assert_eq!(Culture::Kazakh.patronymic(&serik, true), "Серікқызы");
        let ivan = regular("Иван");
        assert_eq!(Culture::Russian.patronymic(&ivan, false), "Иванович");
        assert_eq!(Culture::Russian.patronymic(&ivan, true), "Ивановна");
        let ilya = irregular("Илья", "Ильич", "Ильинична");
        assert_eq!(Culture::German.patronymic(&ilya, true), "Ильинична");
    }

    #[test]
    fn every_regular_russian_form_name_ends_in_a_consonant() {
        // `+ович` after a vowel or `й` would be misspelt; those names must be irregular.
        for list in [RUSSIAN_MALE, UZBEK_MALE, TATAR_MALE] {
            for name in list.iter().filter(|n| n.son.is_none()) {
                let last = name.name.chars().last().unwrap_or_default();
                assert!(!"аеёиоуыэюяйь".contains(last), "{}", name.name);
            }
        }
    }
}
