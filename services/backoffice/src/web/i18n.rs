//! The worklist's three languages (kk, ru, en): the Fluent strings of
//! `locales/<lang>/worklist.ftl`, embedded at build time, and the catalogue's own names.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};

use crate::catalogue::Names;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Fluent wraps placeables in U+2068/U+2069 by default: invisible in a browser, but they
        // break text search in tests and copy-paste of IINs and numbers.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static KK: LanguageIdentifier = langid!("kk");
static RU: LanguageIdentifier = langid!("ru");
static EN: LanguageIdentifier = langid!("en");

/// A language of the worklist: Kazakh (the state language, the default), Russian, English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Қазақша.
    #[default]
    Kk,
    /// Русский.
    Ru,
    /// English.
    En,
}

impl Lang {
    /// Every language, in the switcher's order.
    pub const ALL: [Lang; 3] = [Lang::Kk, Lang::Ru, Lang::En];

    /// Reads a `lang` parameter (`kk`, `ru`, `en`).
    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "kk" => Some(Lang::Kk),
            "ru" => Some(Lang::Ru),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Reads an optional `lang` parameter; a missing or unknown one is the default, since a
    /// stale link should still show the page.
    pub fn or_default(code: Option<&str>) -> Lang {
        code.and_then(Lang::parse).unwrap_or_default()
    }

    /// Returns the code, as the `lang` parameter and the `<html lang>` write it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Kk => "kk",
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    /// Returns the language's own name, as the switcher shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Kk => "Қазақша",
            Lang::Ru => "Русский",
            Lang::En => "English",
        }
    }

    /// Picks this language's text of a catalogue name.
    pub fn pick(self, names: &Names) -> &str {
        match self {
            Lang::Kk => &names.kk,
            Lang::Ru => &names.ru,
            Lang::En => &names.en,
        }
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::Kk => &KK,
            Lang::Ru => &RU,
            Lang::En => &EN,
        }
    }
}

/// Looks up the worklist's strings in one language.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    lang: Lang,
}

impl Tr {
    /// Returns the translator of a language.
    pub fn new(lang: Lang) -> Tr {
        Tr { lang }
    }

    /// Returns the language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Returns the string of a key; a missing key shows as itself, so a gap is visible on the
    /// page instead of an empty label (and the unit test below keeps the three files in step).
    pub fn get(&self, key: &str) -> String {
        self.try_get(key).unwrap_or_else(|| key.to_owned())
    }

    /// Returns the string of a key, if any language file has it.
    pub fn try_get(&self, key: &str) -> Option<String> {
        LOCALES.try_lookup(self.lang.id(), key)
    }

    /// Returns the string of a key with one string argument.
    pub fn with(&self, key: &str, name: &'static str, value: &str) -> String {
        let args = HashMap::from([(Cow::Borrowed(name), FluentValue::from(value.to_owned()))]);
        LOCALES
            .try_lookup_with_args(self.lang.id(), key, &args)
            .unwrap_or_else(|| key.to_owned())
    }

    /// Returns the string of a key with a `$count`, which picks the plural form.
    pub fn count(&self, key: &str, count: usize) -> String {
        let args = HashMap::from([(Cow::Borrowed("count"), FluentValue::from(count))]);
        LOCALES
            .try_lookup_with_args(self.lang.id(), key, &args)
            .unwrap_or_else(|| key.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Returns the message ids of a worklist.ftl.
    fn keys(text: &str) -> BTreeSet<String> {
        text.lines()
            .filter(|line| line.starts_with(|c: char| c.is_ascii_lowercase()))
            .filter_map(|line| line.split_once(" ="))
            .map(|(key, _)| key.trim().to_owned())
            .collect()
    }

    #[test]
    fn kazakh_russian_and_english_files_have_the_same_keys() {
        let kk = keys(include_str!("../../locales/kk/worklist.ftl"));
        let ru = keys(include_str!("../../locales/ru/worklist.ftl"));
        let en = keys(include_str!("../../locales/en/worklist.ftl"));
        assert!(kk.len() > 50, "{} keys", kk.len());
        assert_eq!(
            kk.symmetric_difference(&en).collect::<Vec<_>>(),
            Vec::<&String>::new()
        );
        assert_eq!(
            ru.symmetric_difference(&en).collect::<Vec<_>>(),
            Vec::<&String>::new()
        );
    }

    #[test]
    fn russian_plurals_pick_one_few_and_many() {
        let ru = Tr::new(Lang::Ru);
        assert_eq!(ru.count("tasks-count", 1), "1 задача");
        assert_eq!(ru.count("tasks-count", 3), "3 задачи");
        assert_eq!(ru.count("tasks-count", 5), "5 задач");
        assert_eq!(Tr::new(Lang::En).count("tasks-count", 1), "1 task");
        assert_eq!(ru.count("norm-cd", 28), "28 календарных дней");
        assert_eq!(ru.count("norm-wd", 1), "1 рабочий день");
    }

    #[test]
    fn arguments_are_not_wrapped_in_isolation_marks() {
        let text = Tr::new(Lang::Kk).with("case-heading", "number", "LABOR-1");
        assert!(text.contains("LABOR-1"), "{text}");
        assert!(!text.contains('\u{2068}'), "{text:?}");
    }

    #[test]
    fn an_unknown_language_code_falls_back_to_kazakh() {
        assert_eq!(Lang::or_default(Some("de")), Lang::Kk);
        assert_eq!(Lang::or_default(Some("ru")), Lang::Ru);
    }
}
