//! The synthetic population of the citizens-DB, deterministic from a seed: households in
//! the seeds' regions (Astana, Kostanay, Kyzylorda and West Kazakhstan regions) with two
//! parents or one, children (a third of them under 7), disabled children, children left
//! without parental care (some with a guardian), deceased persons, identity documents,
//! and the legal entities the flows' providers are (employment centres, social-protection
//! and education departments, kindergartens, State Corporation branches).
//!
//! Everything is drawn from one [`Rng`] stream per seed in a fixed order, so the same seed
//! and size give the same persons whatever the batch size; batches only cut the stream.

use std::collections::{BTreeMap, HashMap};

use egov_core::iin::{BinAttribute, BinKind, Sex};
use egov_core::{Bin, Iin};
use egov_proto::v1::{Kinship, LifeStatus};
use time::{Date, Month};

use crate::CitizensError;
use crate::dictionaries::{self, District};
use crate::names::{self, Culture, MaleName};
// Owned by `records`, which the fixtures build on too; named here as the generator's.
pub use crate::records::{Batch, CENSUS_DATE, add_years, age_at};
use crate::records::{NewDocument, NewLegalEntity, NewLink, NewPerson, Place, Residence};
use crate::rng::Rng;

pub use crate::records::MAX_GENERATED_SERIAL;

/// First BIN serial of generated legal entities: the stack's system BINs use 00101–00110
/// and fixtures 90001, so generated entities never collide with either.
pub const FIRST_GENERATED_BIN_SERIAL: u32 = 20_000;

/// How many candidate heads of organisations are kept per district.
const HEADS_PER_DISTRICT: usize = 8;

/// Largest household the generator builds; with fewer persons left, it builds single adults.
const LARGEST_HOUSEHOLD: usize = 7;

/// Household kinds and their weights (per mille of households).
const HOUSEHOLDS: [(Household, u32); 6] = [
    (Household::Family, 400),
    (Household::SingleParent, 100),
    (Household::Couple, 150),
    (Household::Single, 338),
    (Household::Guardianship, 9),
    (Household::WithoutCare, 3),
];

/// What a household is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Household {
    /// Two parents and 1–4 children.
    Family,
    /// One parent and 1–3 children; the other parent sometimes recorded as deceased.
    SingleParent,
    /// A couple without children at home.
    Couple,
    /// One adult, sometimes deceased or missing.
    Single,
    /// A guardian and 1–2 wards without parental care, whose parents may be recorded deceased.
    Guardianship,
    /// A child without parental care and with no guardian yet (in a children's home).
    WithoutCare,
}

/// Where a household lives and who its people are.
#[derive(Debug, Clone, Copy)]
struct Home {
    residence: Residence,
    nationality: &'static str,
    culture: Culture,
}

/// How to build one person.
#[derive(Debug, Clone, Copy)]
struct Spec {
    sex: Sex,
    birth: Date,
    /// The male form of the surname.
    surname: &'static str,
    /// The father's given name; `None` draws one (the father is not recorded).
    father: Option<&'static MaleName>,
}

/// The generator of a seeded population of a given size.
#[derive(Debug)]
pub struct Population {
    rng: Rng,
    entities_rng: Rng,
    target: usize,
    emitted: usize,
    /// Next free IIN serial per (birth date, sex), so every IIN is unique.
    serials: HashMap<(i32, Sex), u16>,
    /// Candidate heads of organisations per district: adults of working age.
    heads: BTreeMap<&'static str, Vec<Iin>>,
    id_cards: u64,
    passports: u64,
    permits: u64,
    certificates: u64,
}

impl Population {
    /// Creates the generator of `target` persons from `seed`.
    pub fn new(seed: &str, target: usize) -> Population {
        Population {
            rng: Rng::new(seed, "persons"),
            entities_rng: Rng::new(seed, "legal-entities"),
            target,
            emitted: 0,
            serials: HashMap::new(),
            heads: BTreeMap::new(),
            id_cards: 0,
            passports: 0,
            permits: 0,
            certificates: 0,
        }
    }

    /// Returns how many persons were generated so far.
    pub fn emitted(&self) -> usize {
        self.emitted
    }

    /// Returns the next batch of at least `size` persons (fewer at the end), or `None`
    /// once the population is complete. Households are never split across batches.
    pub fn next_batch(&mut self, size: usize) -> Result<Option<Batch>, CitizensError> {
        if self.emitted >= self.target {
            return Ok(None);
        }
        let mut batch = Batch::default();
        while batch.persons.len() < size.max(1) && self.emitted < self.target {
            let before = batch.persons.len();
            self.household(self.target - self.emitted, &mut batch)?;
            self.emitted += batch.persons.len() - before;
        }
        Ok(Some(batch))
    }

    /// Generates every remaining person in one batch (tests and small populations).
    pub fn all(&mut self) -> Result<Batch, CitizensError> {
        Ok(self.next_batch(usize::MAX)?.unwrap_or_default())
    }

    /// Builds one household of at most `room` persons into `batch`.
    fn household(&mut self, room: usize, batch: &mut Batch) -> Result<(), CitizensError> {
        let kind = if room < LARGEST_HOUSEHOLD {
            Household::Single
        } else {
            HOUSEHOLDS[self.rng.weighted(HOUSEHOLDS.iter().map(|(_, w)| *w))].0
        };
        let home = self.home();
        match kind {
            Household::Family => self.family(&home, batch),
            Household::SingleParent => self.single_parent(&home, batch),
            Household::Couple => self.couple(&home, batch),
            Household::Single => self.single(&home, batch),
            Household::Guardianship => self.guardianship(&home, batch),
            Household::WithoutCare => self.without_care(&home, batch),
        }
    }

    fn family(&mut self, home: &Home, batch: &mut Batch) -> Result<(), CitizensError> {
        let surname = self.surname(home.culture);
        let mother_age = self.rng.between(22, 50);
        let father_age = (mother_age + self.rng.between(0, 6)).min(80);
        let father_name = self.male_name(home.culture);
        let father = self.adult(home, Sex::Male, father_age, surname, None)?;
        let maiden = self.rng.chance(250);
        let mother_surname = if maiden {
            self.surname(home.culture)
        } else {
            surname
        };
        let mut father = father;
        father.name = father_name.name;
        let mother = self.adult(home, Sex::Female, mother_age, mother_surname, None)?;
        let children = 1 + self.rng.weighted([350u32, 350, 200, 100]);
        let (father_iin, mother_iin) = (father.iin, mother.iin);
        batch
            .links
            .extend(NewLink::both(father_iin, mother_iin, Kinship::Spouse));
        self.push(father, batch);
        self.push(mother, batch);
        for _ in 0..children {
            let child = self.child(home, mother_age, surname, Some(father_name))?;
            batch
                .links
                .extend(NewLink::both(father_iin, child.iin, Kinship::Child));
            batch
                .links
                .extend(NewLink::both(mother_iin, child.iin, Kinship::Child));
            self.push(child, batch);
        }
        Ok(())
    }

    fn single_parent(&mut self, home: &Home, batch: &mut Batch) -> Result<(), CitizensError> {
        let mother_led = self.rng.chance(850);
        let parent_age = self.rng.between(22, 50);
        let other_recorded = self.rng.chance(if mother_led { 300 } else { 400 });
        let count = 1 + self.rng.weighted([500u32, 350, 150]);
        let family_surname = self.surname(home.culture);
        let father_name = self.male_name(home.culture);
        // Children carry the father's surname and name when he is known to the register.
        let father_known = !mother_led || other_recorded;
        let (sex, other_sex) = if mother_led {
            (Sex::Female, Sex::Male)
        } else {
            (Sex::Male, Sex::Female)
        };
        let mut parent = self.adult(home, sex, parent_age, family_surname, None)?;
        if !mother_led {
            parent.name = father_name.name;
        }
        let mother_age = if mother_led {
            parent_age
        } else {
            (parent_age - self.rng.between(0, 5)).max(22)
        };
        let mut children = Vec::with_capacity(count);
        for _ in 0..count {
            let father = father_known.then_some(father_name);
            children.push(self.child(home, mother_age, family_surname, father)?);
        }
        let youngest = children
            .iter()
            .map(|child| child.iin.birth_date())
            .max()
            .unwrap_or(CENSUS_DATE);
        if other_recorded {
            let other_age = if mother_led {
                (parent_age + self.rng.between(0, 6)).min(80)
            } else {
                mother_age
            };
            let mut other = self.adult(home, other_sex, other_age, family_surname, None)?;
            if mother_led {
                other.name = father_name.name;
            }
            self.kill(&mut other, youngest);
            batch
                .links
                .extend(NewLink::both(parent.iin, other.iin, Kinship::Spouse));
            for child in &children {
                batch
                    .links
                    .extend(NewLink::both(other.iin, child.iin, Kinship::Child));
            }
            self.push(other, batch);
        }
        for child in &children {
            batch
                .links
                .extend(NewLink::both(parent.iin, child.iin, Kinship::Child));
        }
        self.push(parent, batch);
        for child in children {
            self.push(child, batch);
        }
        Ok(())
    }

    fn couple(&mut self, home: &Home, batch: &mut Batch) -> Result<(), CitizensError> {
        let surname = self.surname(home.culture);
        let husband_age = self.rng.between(25, 85);
        let wife_age = (husband_age - self.rng.between(0, 5)).max(20);
        let mut husband = self.adult(home, Sex::Male, husband_age, surname, None)?;
        let wife_surname = if self.rng.chance(200) {
            self.surname(home.culture)
        } else {
            surname
        };
        let wife = self.adult(home, Sex::Female, wife_age, wife_surname, None)?;
        if husband_age > 65 && self.rng.chance(250) {
            let married = husband.iin.birth_date().max(wife.iin.birth_date());
            self.kill(&mut husband, add_years(married, 20));
        }
        batch
            .links
            .extend(NewLink::both(husband.iin, wife.iin, Kinship::Spouse));
        self.push(husband, batch);
        self.push(wife, batch);
        Ok(())
    }

    fn single(&mut self, home: &Home, batch: &mut Batch) -> Result<(), CitizensError> {
        let age = self.rng.between(18, 90);
        let sex = self.sex();
        let surname = self.surname(home.culture);
        let mut person = self.adult(home, sex, age, surname, None)?;
        let deceased = self.rng.chance(if age >= 60 { 200 } else { 20 });
        if deceased {
            let adult = add_years(person.iin.birth_date(), 18);
            self.kill(&mut person, adult);
        } else if self.rng.chance(2) {
            person.life_status = LifeStatus::Missing;
        }
        self.push(person, batch);
        Ok(())
    }

    fn guardianship(&mut self, home: &Home, batch: &mut Batch) -> Result<(), CitizensError> {
        let sex = if self.rng.chance(800) {
            Sex::Female
        } else {
            Sex::Male
        };
        let age = self.rng.between(30, 65);
        let guardian_surname = self.surname(home.culture);
        let guardian = self.adult(home, sex, age, guardian_surname, None)?;
        let wards_surname = self.surname(home.culture);
        let father_name = self.male_name(home.culture);
        let mother_age = self.rng.between(24, 45);
        let count = 1 + self.rng.index(2);
        let mut wards = Vec::with_capacity(count);
        for _ in 0..count {
            let mut ward = self.child(home, mother_age, wards_surname, Some(father_name))?;
            ward.without_parental_care = true;
            batch
                .links
                .extend(NewLink::both(guardian.iin, ward.iin, Kinship::Ward));
            wards.push(ward);
        }
        if self.rng.chance(500) {
            let youngest = wards
                .iter()
                .map(|ward| ward.iin.birth_date())
                .max()
                .unwrap_or(CENSUS_DATE);
            self.deceased_parents(
                home,
                mother_age,
                wards_surname,
                father_name,
                youngest,
                &wards,
                batch,
            )?;
        }
        self.push(guardian, batch);
        for ward in wards {
            self.push(ward, batch);
        }
        Ok(())
    }

    fn without_care(&mut self, home: &Home, batch: &mut Batch) -> Result<(), CitizensError> {
        let surname = self.surname(home.culture);
        let father_name = self.male_name(home.culture);
        let mother_age = self.rng.between(22, 45);
        let mut child = self.child(home, mother_age, surname, Some(father_name))?;
        child.without_parental_care = true;
        if self.rng.chance(400) {
            let mut mother = self.adult(home, Sex::Female, mother_age, surname, None)?;
            self.kill(&mut mother, child.iin.birth_date());
            batch
                .links
                .extend(NewLink::both(mother.iin, child.iin, Kinship::Child));
            self.push(mother, batch);
        }
        self.push(child, batch);
        Ok(())
    }

    /// Records both parents of `children` as deceased, after the youngest was born.
    #[allow(clippy::too_many_arguments)]
    fn deceased_parents(
        &mut self,
        home: &Home,
        mother_age: i64,
        surname: &'static str,
        father_name: &'static MaleName,
        youngest: Date,
        children: &[NewPerson],
        batch: &mut Batch,
    ) -> Result<(), CitizensError> {
        let father_age = (mother_age + self.rng.between(0, 6)).min(80);
        let mut father = self.adult(home, Sex::Male, father_age, surname, None)?;
        father.name = father_name.name;
        let mut mother = self.adult(home, Sex::Female, mother_age, surname, None)?;
        self.kill(&mut father, youngest);
        self.kill(&mut mother, youngest);
        batch
            .links
            .extend(NewLink::both(father.iin, mother.iin, Kinship::Spouse));
        for child in children {
            batch
                .links
                .extend(NewLink::both(father.iin, child.iin, Kinship::Child));
            batch
                .links
                .extend(NewLink::both(mother.iin, child.iin, Kinship::Child));
        }
        self.push(father, batch);
        self.push(mother, batch);
        Ok(())
    }

    /// Builds an adult aged `age` years at the census.
    fn adult(
        &mut self,
        home: &Home,
        sex: Sex,
        age: i64,
        surname: &'static str,
        father: Option<&'static MaleName>,
    ) -> Result<NewPerson, CitizensError> {
        let birth = self.birth(age, age)?;
        self.person(
            home,
            Spec {
                sex,
                birth,
                surname,
                father,
            },
        )
    }

    /// Builds a child of a mother aged `mother_age` at the census: born when she was 19
    /// or older, aged 0–17.
    fn child(
        &mut self,
        home: &Home,
        mother_age: i64,
        surname: &'static str,
        father: Option<&'static MaleName>,
    ) -> Result<NewPerson, CitizensError> {
        let oldest = (mother_age - 19).clamp(0, 17);
        let birth = self.birth(0, oldest)?;
        let sex = self.sex();
        self.person(
            home,
            Spec {
                sex,
                birth,
                surname,
                father,
            },
        )
    }

    /// Builds a person of a household.
    fn person(&mut self, home: &Home, spec: Spec) -> Result<NewPerson, CitizensError> {
        let iin = self.iin(spec.birth, spec.sex)?;
        let female = spec.sex == Sex::Female;
        let culture = home.culture;
        let name = if female {
            self.rng
                .pick(culture.female_names())
                .copied()
                .unwrap_or("Айгерім")
        } else {
            self.male_name(culture).name
        };
        let father = match spec.father {
            Some(father) => father,
            None => self.male_name(culture),
        };
        let citizenship = if self.rng.chance(8) {
            match culture {
                Culture::Russian | Culture::Ukrainian => dictionaries::RUSSIA,
                Culture::Uzbek => dictionaries::UZBEKISTAN,
                _ => dictionaries::KAZAKHSTAN,
            }
        } else {
            dictionaries::KAZAKHSTAN
        };
        let birth_place = if self.rng.chance(850) {
            home.residence.place
        } else {
            place_of(self.any_district(), 0)
        };
        let birth_date = iin.birth_date();
        self.certificates += 1;
        let certificate_date = add_days(birth_date, self.rng.between(1, 30)).min(CENSUS_DATE);
        let adult = age_at(birth_date, CENSUS_DATE) >= 18;
        Ok(NewPerson {
            iin,
            surname: culture.surname(spec.surname, female),
            name,
            patronymic: culture.patronymic(father, female),
            death_date: None,
            life_status: LifeStatus::Alive,
            nationality: home.nationality,
            citizenship,
            birth_country: citizenship,
            birth_place,
            address: home.residence,
            birth_certificate: format!("{:07}", self.certificates),
            birth_certificate_date: certificate_date,
            disabled: self.rng.chance(if adult { 60 } else { 30 }),
            without_parental_care: false,
        })
    }

    /// Marks a person deceased on a day between `earliest` (or their birth) and the census.
    fn kill(&mut self, person: &mut NewPerson, earliest: Date) {
        let from = earliest.max(add_days(person.iin.birth_date(), 1));
        let last = add_days(CENSUS_DATE, -1);
        let span = (last.to_julian_day() - from.to_julian_day()).max(0);
        person.death_date = Some(add_days(from, self.rng.between(0, i64::from(span))).min(last));
        person.life_status = LifeStatus::Deceased;
    }

    /// Adds a person and their identity documents to the batch.
    fn push(&mut self, person: NewPerson, batch: &mut Batch) {
        self.documents(&person, batch);
        let age = age_at(person.iin.birth_date(), CENSUS_DATE);
        if person.life_status == LifeStatus::Alive && (30..=60).contains(&age) {
            let heads = self.heads.entry(person.address.place.district).or_default();
            if heads.len() < HEADS_PER_DISTRICT {
                heads.push(person.iin);
            }
        }
        batch.persons.push(person);
    }

    /// Issues the identity documents a person holds: from 16, an ID card (a residence
    /// permit for a foreigner) renewed every ten years; for some adults, a passport.
    fn documents(&mut self, person: &NewPerson, batch: &mut Batch) {
        let birth = person.iin.birth_date();
        let end = person.death_date.unwrap_or(CENSUS_DATE);
        let age = age_at(birth, end);
        if age < 16 {
            return;
        }
        let renewals = (age - 16) / 10;
        let issued = add_days(
            add_years(birth, 16 + renewals * 10),
            self.rng.between(0, 60),
        )
        .min(end);
        let citizen = person.citizenship == dictionaries::KAZAKHSTAN;
        let (kind, number) = if citizen {
            self.id_cards += 1;
            (
                dictionaries::ID_CARD,
                format!("{:09}", 30_000_000 + self.id_cards),
            )
        } else {
            self.permits += 1;
            (
                dictionaries::RESIDENCE_PERMIT,
                format!("F{:08}", self.permits),
            )
        };
        batch.documents.push(NewDocument {
            iin: person.iin,
            kind,
            number,
            issue_date: issued,
            expiry_date: add_years(issued, 10),
            issuer: issuer(issued),
        });
        if citizen && age >= 18 && self.rng.chance(300) {
            let earliest = add_years(birth, 16).max(add_years(end, -10));
            let span = (end.to_julian_day() - earliest.to_julian_day()).max(0);
            let issued = add_days(earliest, self.rng.between(0, i64::from(span)));
            self.passports += 1;
            batch.documents.push(NewDocument {
                iin: person.iin,
                kind: dictionaries::PASSPORT,
                number: format!("N{:08}", self.passports),
                issue_date: issued,
                expiry_date: add_years(issued, 10),
                issuer: issuer(issued),
            });
        }
    }

    /// Returns a unique IIN for a birth date and sex: the next free serial of that day,
    /// or of an earlier day once a day's serials up to [`MAX_GENERATED_SERIAL`] are used.
    fn iin(&mut self, birth: Date, sex: Sex) -> Result<Iin, CitizensError> {
        let mut day = birth;
        loop {
            let key = (day.to_julian_day(), sex);
            let start = self.serials.get(&key).copied().unwrap_or(1);
            if start <= MAX_GENERATED_SERIAL {
                let iin = Iin::generate_from(day, sex, start)
                    .map_err(|error| CitizensError::Generate(error.to_string()))?;
                if iin.serial() <= MAX_GENERATED_SERIAL {
                    self.serials.insert(key, iin.serial() + 1);
                    return Ok(iin);
                }
                self.serials.insert(key, MAX_GENERATED_SERIAL + 1);
            }
            day = day.previous_day().ok_or_else(|| {
                CitizensError::Generate(format!("no IIN serial left before {birth}"))
            })?;
        }
    }

    /// Draws a birth date of someone aged `min`–`max` full years at the census.
    fn birth(&mut self, min: i64, max: i64) -> Result<Date, CitizensError> {
        // Days since birth: from `min` years to just under `max + 1` years.
        let low = min * 36_525 / 100;
        let high = ((max + 1) * 36_525 / 100 - 1).max(low);
        let days = self.rng.between(low, high);
        let julian = i64::from(CENSUS_DATE.to_julian_day()) - days;
        i32::try_from(julian)
            .ok()
            .and_then(|day| Date::from_julian_day(day).ok())
            .ok_or_else(|| CitizensError::Generate(format!("birth {days} days before the census")))
    }

    fn sex(&mut self) -> Sex {
        if self.rng.chance(500) {
            Sex::Female
        } else {
            Sex::Male
        }
    }

    fn male_name(&mut self, culture: Culture) -> &'static MaleName {
        let names = culture.male_names();
        &names[self.rng.index(names.len())]
    }

    fn surname(&mut self, culture: Culture) -> &'static str {
        self.rng
            .pick(culture.surnames())
            .copied()
            .unwrap_or("Ахметов")
    }

    /// Draws a district of any region, weighted by population.
    fn any_district(&mut self) -> &'static District {
        let region = &dictionaries::REGIONS[self
            .rng
            .weighted(dictionaries::REGIONS.iter().map(|r| r.weight))];
        self.district_of(region.entry.code)
    }

    fn district_of(&mut self, region: &str) -> &'static District {
        let districts = dictionaries::districts_of(region);
        let index = self.rng.weighted(districts.clone().map(|d| d.weight));
        districts
            .clone()
            .nth(index)
            .unwrap_or(&dictionaries::DISTRICTS[0])
    }

    /// Draws where a household lives and its nationality.
    fn home(&mut self) -> Home {
        let region = &dictionaries::REGIONS[self
            .rng
            .weighted(dictionaries::REGIONS.iter().map(|r| r.weight))];
        let district = self.district_of(region.entry.code);
        let locality = self.rng.index(district.localities.len());
        let street = self.rng.pick(names::STREETS).copied().unwrap_or("ул. Абая");
        let building = u16::try_from(self.rng.between(1, 150)).unwrap_or(1);
        let flat = (district.urban && self.rng.chance(700))
            .then(|| u16::try_from(self.rng.between(1, 240)).unwrap_or(1));
        let nationality = region.nationalities[self
            .rng
            .weighted(region.nationalities.iter().map(|(_, w)| *w))]
        .0;
        Home {
            residence: Residence {
                place: place_of(district, locality),
                street,
                building,
                flat,
            },
            nationality,
            culture: Culture::of_nationality(nationality),
        }
    }

    /// Builds the legal entities of every district, headed by adults of the generated
    /// population (a fixture head where a district has none). Draws from its own stream,
    /// so the entities do not change with the population size except for their heads.
    pub fn legal_entities(&mut self) -> Result<Vec<NewLegalEntity>, CitizensError> {
        let fallback = Iin::parse(crate::fixtures::PROVIDER_HEAD)
            .map_err(|error| CitizensError::Generate(error.to_string()))?;
        let mut serial = FIRST_GENERATED_BIN_SERIAL;
        let mut entities = Vec::new();
        for region in &dictionaries::REGIONS {
            let (kk, ru) = (region.entry.name_kk, region.entry.name_ru);
            let seat = dictionaries::districts_of(region.entry.code)
                .next()
                .unwrap_or(&dictionaries::DISTRICTS[0]);
            let region_heads: Vec<Iin> = dictionaries::districts_of(region.entry.code)
                .flat_map(|d| self.heads.get(d.entry.code).cloned().unwrap_or_default())
                .collect();
            let head = |rng: &mut Rng, district: &District| {
                let local = self
                    .heads
                    .get(district.entry.code)
                    .filter(|h| !h.is_empty());
                let candidates = local.map_or(region_heads.as_slice(), Vec::as_slice);
                // One draw whether or not there are candidates, so names and BINs after
                // this entity do not depend on how many heads a small population has.
                let index = rng.index(candidates.len());
                candidates.get(index).copied().unwrap_or(fallback)
            };
            let mut add = |rng: &mut Rng,
                           kind: &'static str,
                           attribute: BinAttribute,
                           district: &'static District,
                           name_kk: String,
                           name_ru: String,
                           head: Iin|
             -> Result<(), CitizensError> {
                let year = i32::try_from(rng.between(1995, 2020)).unwrap_or(2000);
                let month = Month::try_from(u8::try_from(rng.between(1, 12)).unwrap_or(1))
                    .map_err(|error| CitizensError::Generate(error.to_string()))?;
                let day = u8::try_from(rng.between(1, 28)).unwrap_or(1);
                let bin = Bin::generate_from(
                    year,
                    month,
                    BinKind::ResidentLegalEntity,
                    attribute,
                    serial,
                )
                .map_err(|error| CitizensError::Generate(error.to_string()))?;
                serial = bin.serial() + 1;
                let registration_date = Date::from_calendar_date(year, month, day)
                    .map_err(|error| CitizensError::Generate(error.to_string()))?;
                entities.push(NewLegalEntity {
                    bin,
                    name_kk,
                    name_ru,
                    kind,
                    address: Residence {
                        place: place_of(district, 0),
                        street: rng.pick(names::STREETS).copied().unwrap_or("ул. Абая"),
                        building: u16::try_from(rng.between(1, 120)).unwrap_or(1),
                        flat: None,
                    },
                    head,
                    registration_date,
                });
                Ok(())
            };
            let rng = &mut self.entities_rng;
            let employment_head = head(rng, seat);
            add(
                rng,
                dictionaries::EMPLOYMENT_CENTRE,
                BinAttribute::HeadOffice,
                seat,
                format!("{kk} әкімдігінің «Халықты жұмыспен қамту орталығы» КММ"),
                format!("КГУ «Центр занятости населения» ({ru})"),
                employment_head,
            )?;
            let branch_head = head(rng, seat);
            add(
                rng,
                dictionaries::STATE_CORPORATION,
                BinAttribute::Branch,
                seat,
                format!(
                    "«Азаматтарға арналған үкімет» мемлекеттік корпорациясы» КЕАҚ филиалы ({kk})"
                ),
                format!(
                    "Филиал НАО «Государственная корпорация «Правительство для граждан»» ({ru})"
                ),
                branch_head,
            )?;
            for district in dictionaries::districts_of(region.entry.code) {
                let (dk, dr) = (district.entry.name_kk, district.entry.name_ru);
                let social_head = head(rng, district);
                add(
                    rng,
                    dictionaries::SOCIAL_PROTECTION_DEPARTMENT,
                    BinAttribute::HeadOffice,
                    district,
                    format!("«Жұмыспен қамту және әлеуметтік бағдарламалар бөлімі» ММ ({dk})"),
                    format!("ГУ «Отдел занятости и социальных программ» ({dr})"),
                    social_head,
                )?;
                let education_head = head(rng, district);
                add(
                    rng,
                    dictionaries::EDUCATION_DEPARTMENT,
                    BinAttribute::HeadOffice,
                    district,
                    format!("«Білім бөлімі» ММ ({dk})"),
                    format!("ГУ «Отдел образования» ({dr})"),
                    education_head,
                )?;
                let kindergartens = if district.urban { 6 } else { 3 };
                for number in 1..=kindergartens {
                    let (name_kk, name_ru) = rng
                        .pick(names::KINDERGARTEN_NAMES)
                        .copied()
                        .unwrap_or(("Балапан", "Балапан"));
                    let kindergarten_head = head(rng, district);
                    add(
                        rng,
                        dictionaries::KINDERGARTEN,
                        BinAttribute::HeadOffice,
                        district,
                        format!("«№{number} «{name_kk}» бөбекжай-бақшасы» МКҚК ({dk})"),
                        format!("ГККП «Ясли-сад №{number} «{name_ru}»» ({dr})"),
                        kindergarten_head,
                    )?;
                }
            }
        }
        Ok(entities)
    }
}

/// Returns a place in a district: its `locality`-th settlement (the centre when out of range).
fn place_of(district: &'static District, locality: usize) -> Place {
    let locality = district
        .localities
        .get(locality)
        .or_else(|| district.localities.first())
        .map_or(district.entry.code, |entry| entry.code);
    Place {
        region: district.region,
        district: district.entry.code,
        locality,
    }
}

/// Returns the issuer of a document issued on `date`: the Ministry of Justice before 2011,
/// the Ministry of Internal Affairs since.
fn issuer(date: Date) -> &'static str {
    if date.year() < 2011 {
        dictionaries::MINISTRY_OF_JUSTICE
    } else {
        dictionaries::MINISTRY_OF_INTERNAL_AFFAIRS
    }
}

/// Returns `date` moved by `days` (unchanged if that leaves the calendar's range).
fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(time::Duration::days(days)).unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn generate(seed: &str, size: usize) -> Batch {
        Population::new(seed, size).all().expect("generates")
    }

    #[test]
    fn the_same_seed_gives_the_same_first_persons_whatever_the_batch_size() {
        let whole = generate("egov-stack", 2_000);
        let mut batched = Population::new("egov-stack", 2_000);
        let mut persons = Vec::new();
        while let Some(batch) = batched.next_batch(97).expect("generates") {
            persons.extend(batch.persons);
        }
        assert_eq!(whole.persons, persons);
        let other = generate("another seed", 2_000);
        let first = |batch: &Batch| {
            batch
                .persons
                .iter()
                .take(100)
                .map(|p| p.iin)
                .collect::<Vec<_>>()
        };
        assert_ne!(first(&whole), first(&other));
    }

    #[test]
    fn the_population_has_exactly_the_asked_size() {
        for size in [0, 1, 6, 7, 8, 1_234] {
            assert_eq!(generate("egov-stack", size).persons.len(), size);
        }
    }

    #[test]
    fn every_iin_of_a_sample_of_ten_thousand_is_valid_and_unique() {
        let batch = generate("egov-stack", 10_000);
        let mut seen = HashSet::new();
        for person in &batch.persons {
            let parsed = Iin::parse(person.iin.as_str()).expect("valid IIN");
            assert_eq!(parsed, person.iin);
            assert!(person.iin.serial() <= MAX_GENERATED_SERIAL);
            assert!(seen.insert(person.iin), "{} repeats", person.iin);
            assert_eq!(person.gender(), crate::records::gender(person.iin.sex()));
        }
        let ids: HashSet<&str> = batch.documents.iter().map(|d| d.number.as_str()).collect();
        assert_eq!(
            ids.len(),
            batch.documents.len(),
            "document numbers are unique"
        );
    }

    #[test]
    fn every_bin_of_the_legal_entities_is_valid_unique_and_headed_by_a_stored_adult() {
        let mut population = Population::new("egov-stack", 10_000);
        let batch = population.all().expect("generates");
        let entities = population.legal_entities().expect("entities");
        let persons: HashSet<Iin> = batch.persons.iter().map(|p| p.iin).collect();
        let mut bins = HashSet::new();
        assert!(entities.len() > 100, "{}", entities.len());
        for entity in &entities {
            assert_eq!(
                Bin::parse(entity.bin.as_str()).expect("valid BIN"),
                entity.bin
            );
            assert!(entity.bin.serial() >= FIRST_GENERATED_BIN_SERIAL);
            assert!(bins.insert(entity.bin), "{} repeats", entity.bin);
            assert!(persons.contains(&entity.head), "{} head", entity.bin);
        }
        for kind in [
            dictionaries::EMPLOYMENT_CENTRE,
            dictionaries::SOCIAL_PROTECTION_DEPARTMENT,
            dictionaries::EDUCATION_DEPARTMENT,
            dictionaries::KINDERGARTEN,
            dictionaries::STATE_CORPORATION,
        ] {
            assert!(entities.iter().any(|e| e.kind == kind), "{kind}");
        }
    }

    #[test]
    fn legal_entities_keep_their_bins_and_names_whatever_the_population_size() {
        let entities = |size| {
            let mut population = Population::new("egov-stack", size);
            population.all().expect("generates");
            let entities = population.legal_entities().expect("entities");
            entities
                .into_iter()
                .map(|e| (e.bin, e.name_ru))
                .collect::<Vec<_>>()
        };
        assert_eq!(entities(0), entities(5_000));
    }

    #[test]
    fn families_have_children_under_seven_disabled_children_orphans_and_the_deceased() {
        let batch = generate("egov-stack", 10_000);
        let child = |p: &&NewPerson| age_at(p.iin.birth_date(), CENSUS_DATE) < 18;
        let under_seven = batch
            .persons
            .iter()
            .filter(|p| age_at(p.iin.birth_date(), CENSUS_DATE) < 7)
            .count();
        assert!(under_seven > 500, "{under_seven}");
        assert!(batch.persons.iter().filter(child).any(|p| p.disabled));
        let without_care: Vec<&NewPerson> = batch
            .persons
            .iter()
            .filter(|p| p.without_parental_care)
            .collect();
        assert!(!without_care.is_empty());
        assert!(without_care.iter().all(child));
        let guarded: HashSet<Iin> = batch
            .links
            .iter()
            .filter(|l| l.kinship == Kinship::Guardian)
            .map(|l| l.iin)
            .collect();
        assert!(without_care.iter().any(|p| guarded.contains(&p.iin)));
        assert!(without_care.iter().any(|p| !guarded.contains(&p.iin)));
        let deceased: Vec<&NewPerson> = batch
            .persons
            .iter()
            .filter(|p| p.life_status == LifeStatus::Deceased)
            .collect();
        assert!(deceased.len() > 100, "{}", deceased.len());
        for person in deceased {
            let death = person.death_date.expect("death date");
            assert!(death > person.iin.birth_date() && death < CENSUS_DATE);
        }
        assert!(
            batch
                .persons
                .iter()
                .filter(|p| p.life_status != LifeStatus::Deceased)
                .all(|p| p.death_date.is_none())
        );
    }

    #[test]
    fn every_link_has_its_inverse_and_joins_generated_persons() {
        let batch = generate("egov-stack", 5_000);
        let persons: HashSet<Iin> = batch.persons.iter().map(|p| p.iin).collect();
        let links: HashSet<(Iin, Iin, i32)> = batch
            .links
            .iter()
            .map(|l| (l.iin, l.relative, l.kinship as i32))
            .collect();
        for link in &batch.links {
            assert!(persons.contains(&link.iin) && persons.contains(&link.relative));
            let back = crate::records::inverse(link.kinship) as i32;
            assert!(links.contains(&(link.relative, link.iin, back)), "{link:?}");
            if link.kinship == Kinship::Child {
                assert!(
                    link.relative.birth_date() > link.iin.birth_date(),
                    "{link:?}"
                );
            }
        }
    }

    #[test]
    fn children_take_the_patronymic_of_their_recorded_father() {
        let batch = generate("egov-stack", 3_000);
        let by_iin: HashMap<Iin, &NewPerson> = batch.persons.iter().map(|p| (p.iin, p)).collect();
        let mut checked = 0;
        for link in batch.links.iter().filter(|l| l.kinship == Kinship::Parent) {
            let (child, parent) = (by_iin[&link.iin], by_iin[&link.relative]);
            if parent.iin.sex() == Sex::Male && !child.without_parental_care {
                assert!(
                    child.patronymic.starts_with(&parent.name[..2]),
                    "{child:?} of {parent:?}"
                );
                checked += 1;
            }
        }
        assert!(checked > 100, "{checked}");
    }
}
