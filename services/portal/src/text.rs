//! The portal's words in Kazakh, Russian and English; the page's language comes from `?lang=`.

pub use egov_signin::pages::{Lang, escape};

/// Picks the text of a language.
pub fn t(lang: Lang, kk: &'static str, ru: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Kk => kk,
        Lang::Ru => ru,
        Lang::En => en,
    }
}

/// Picks a catalogue text (`LocalizedText`) in a language.
pub fn pick(text: Option<&egov_proto::v1::LocalizedText>, lang: Lang) -> String {
    text.map(|text| match lang {
        Lang::Kk => text.kk.clone(),
        Lang::Ru => text.ru.clone(),
        Lang::En => text.en.clone(),
    })
    .unwrap_or_default()
}

/// The refusal of process 4 (common portal flow): «ЭЦҚ түпнұсқалығы расталмады».
pub fn eds_not_confirmed(lang: Lang) -> &'static str {
    t(
        lang,
        "Бас тарту: ЭЦҚ-ның түпнұсқалығы расталмады",
        "Отказ: подлинность ЭЦП не подтверждена",
        "Refused: EDS authenticity not confirmed",
    )
}
