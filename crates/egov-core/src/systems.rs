//! The stack's information systems: their ids in the gateway registry, the
//! BINs their seal certificates carry, and their names in the seeds.
//!
//! One table, so the registry the CLI writes, each service's default config
//! and the tests agree on who is who.

/// An information system of the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SystemInfo {
    /// The id in the gateway registry and in envelope headers.
    pub id: &'static str,
    /// The BIN of the operating organisation (OU=BIN… of its seal).
    pub bin: &'static str,
    /// The name the seeds use (Kazakh / Russian).
    pub name: &'static str,
}

/// The national e-government gateway (ЭҮШ / ШЭП).
pub const GATEWAY: SystemInfo = SystemInfo {
    id: "shep",
    bin: "040340001015",
    name: "ЭҮШ / ШЭП",
};
/// The regional gateway and its workstations (ЭҮАШ АЖО / РШЭП АРМ).
pub const REGIONAL_GATEWAY: SystemInfo = SystemInfo {
    id: "rshep",
    bin: "040340001025",
    name: "ЭҮАШ / РШЭП",
};
/// The e-gov portal and personal cabinet (ЭҮП / Портал).
pub const PORTAL: SystemInfo = SystemInfo {
    id: "portal",
    bin: "040340001035",
    name: "ЭҮП / Портал",
};
/// The State Corporation's integrated IS (ХҚО АЖ / ИИС ЦОН).
pub const STATE_CORPORATION: SystemInfo = SystemInfo {
    id: "con",
    bin: "040340001045",
    name: "ХҚО / ЦОН",
};
/// The state databases of individuals and legal entities (ЖТ МДБ / ГБД ФЛ, ЗТ МДБ / ГБД ЮЛ).
pub const CITIZENS: SystemInfo = SystemInfo {
    id: "citizens",
    bin: "040340001055",
    name: "ЖТ МДБ / ГБД ФЛ",
};
/// The unified notary information system (БНАЖ / ЕНИС).
pub const NOTARY: SystemInfo = SystemInfo {
    id: "notary",
    bin: "040340001065",
    name: "БНАЖ / ЕНИС",
};
/// The Labour Market automated IS («Еңбек нарығы» ААЖ).
pub const LABOR: SystemInfo = SystemInfo {
    id: "labor",
    bin: "040340001075",
    name: "«Еңбек нарығы» ААЖ",
};
/// The social-protection IS («Е-собес» АЖ).
pub const ESOBES: SystemInfo = SystemInfo {
    id: "esobes",
    bin: "040340001085",
    name: "«Е-собес» АЖ",
};
/// The kindergarten queue management IS and electronic register.
pub const QUEUE: SystemInfo = SystemInfo {
    id: "queue",
    bin: "040340001095",
    name: "Кезектілікті басқару АЖ / ИС управления очередью",
};
/// The provider back office.
pub const BACKOFFICE: SystemInfo = SystemInfo {
    id: "backoffice",
    bin: "040340001104",
    name: "Көрсетілетін қызметті беруші / Услугодатель",
};

/// Every system, in the order of a request's travel.
pub const ALL: [SystemInfo; 10] = [
    PORTAL,
    STATE_CORPORATION,
    GATEWAY,
    REGIONAL_GATEWAY,
    CITIZENS,
    NOTARY,
    LABOR,
    ESOBES,
    QUEUE,
    BACKOFFICE,
];

/// Returns a system by id.
pub fn by_id(id: &str) -> Option<SystemInfo> {
    ALL.into_iter().find(|system| system.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Bin;

    #[test]
    fn every_system_bin_is_valid_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for system in ALL {
            Bin::parse(system.bin).unwrap_or_else(|err| panic!("{}: {err}", system.id));
            assert!(seen.insert(system.bin), "{} repeats a BIN", system.id);
            assert_eq!(by_id(system.id), Some(system));
        }
    }
}
