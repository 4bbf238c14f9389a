//! The citizens-DB through the gateway: a sandbox certification centre and gateway
//! in-process, the citizens-DB served on port 0 over a small generated population plus
//! the fixtures, and the portal and the State Corporation (ЦОН) calling it with signed
//! requests — every answer and refusal checked by its exact status code.

use std::collections::HashSet;
use std::net::SocketAddr;

use egov_citizens::fixtures::*;
use egov_citizens::{FAMILY_GET, LEGAL_ENTITY_GET, PERSON_GET, Store};
use egov_core::{Bin, Iin, StatusCode, systems};
use egov_proto::v1::citizens_client::CitizensClient;
use egov_proto::v1::{
    FamilyLink, GetFamilyRequest, GetFamilyResponse, GetLegalEntityRequest, GetLegalEntityResponse,
    GetPersonRequest, GetPersonResponse, Kinship, LifeStatus, Person,
};
use egov_system::GatewayCaller;
use egov_test_stack::CitizensDb;
use egov_testkit::Sandbox;
use tempfile::TempDir;

/// Generated persons in the test database: enough for every household kind.
const POPULATION: usize = 3_000;

/// A sandbox with the citizens-DB routed for the portal and the State Corporation.
struct Stack {
    sandbox: Sandbox,
    portal: GatewayCaller,
    con: GatewayCaller,
    grpc: SocketAddr,
    http: SocketAddr,
    database_url: String,
    _dir: TempDir,
}

impl Stack {
    async fn start() -> Stack {
        let quiet = egov_bus::telemetry::TelemetryConfig {
            log_filter: "warn".into(),
            json: false,
            otlp_endpoint: None,
        };
        egov_bus::telemetry::init_with("egov-citizens-tests", &quiet).expect("telemetry");
        let dir = tempfile::tempdir().expect("temp dir");
        let sandbox = Sandbox::start().await;
        let citizens = CitizensDb::start(&sandbox, dir.path(), POPULATION, sandbox.clock()).await;
        let (addr, http_addr, database_url) = (citizens.grpc, citizens.http, citizens.database_url);
        // Senders must be registered systems before a route may name them.
        let portal = sandbox.caller(systems::PORTAL.id, systems::PORTAL.bin);
        let con = sandbox.caller(
            systems::STATE_CORPORATION.id,
            systems::STATE_CORPORATION.bin,
        );
        let senders = [systems::PORTAL.id, systems::STATE_CORPORATION.id];
        for service in egov_citizens::SERVICE_IDS {
            sandbox.route(service, systems::CITIZENS.id, addr, &senders);
        }
        Stack {
            sandbox,
            portal,
            con,
            grpc: addr,
            http: http_addr,
            database_url,
            _dir: dir,
        }
    }

    async fn person(&self, iin: &str) -> Result<Person, StatusCode> {
        self.portal
            .call::<GetPersonRequest, GetPersonResponse>(
                PERSON_GET,
                systems::CITIZENS.id,
                &GetPersonRequest { iin: iin.into() },
            )
            .await
            .map(|answer| answer.person.expect("person in the answer"))
            .map_err(|error| error.code())
    }

    async fn family(&self, iin: &str) -> Result<Vec<FamilyLink>, StatusCode> {
        self.con
            .call::<GetFamilyRequest, GetFamilyResponse>(
                FAMILY_GET,
                systems::CITIZENS.id,
                &GetFamilyRequest { iin: iin.into() },
            )
            .await
            .map(|answer| answer.links)
            .map_err(|error| error.code())
    }
}

fn relatives(links: &[FamilyLink], kinship: Kinship) -> HashSet<String> {
    links
        .iter()
        .filter(|link| link.kinship == kinship as i32)
        .map(|link| link.relative.as_ref().expect("relative").iin.clone())
        .collect()
}

#[tokio::test]
async fn person_found_by_iin_has_every_field_filled() {
    let stack = Stack::start().await;
    let person = stack.person(UNEMPLOYED_ADULT).await.expect("found");
    assert_eq!(person.iin, UNEMPLOYED_ADULT);
    assert_eq!(
        (
            person.surname.as_str(),
            person.name.as_str(),
            person.patronymic.as_str()
        ),
        ("Серіков", "Нұрлан", "Қайратұлы")
    );
    let birth = person.birth_date.expect("birth date");
    assert_eq!((birth.year, birth.month, birth.day), (1995, 7, 3));
    assert_eq!(person.gender, egov_proto::v1::Gender::Male as i32);
    assert_eq!(person.life_status, LifeStatus::Alive as i32);
    assert!(person.death_date.is_none());
    let nationality = person.nationality.expect("nationality");
    assert_eq!(
        (nationality.name_kk.as_str(), nationality.name_ru.as_str()),
        ("қазақ", "казах")
    );
    assert_eq!(person.citizenship.expect("citizenship").code, "398");
    let certificate = person.birth_certificate.expect("birth certificate");
    assert!(!certificate.number.is_empty() && !certificate.registry_office.is_empty());
    assert!(certificate.issue_date.is_some());
    let birth_place = person.birth_place.expect("birth place");
    assert!(birth_place.region.is_some() && birth_place.district.is_some());
    let address = person.registration_address.expect("address");
    assert_eq!(address.region.expect("region").name_ru, "город Астана");
    assert_eq!(address.district.expect("district").name_kk, "Есіл ауданы");
    assert_eq!(
        (
            address.locality.as_str(),
            address.street.as_str(),
            address.building.as_str(),
            address.flat.as_str()
        ),
        ("Астана", "ул. Кенесары", "40", "17")
    );
    let document = person.documents.first().expect("an ID card");
    assert_eq!(document.r#type.as_ref().expect("type").code, "002");
    assert!(!document.number.is_empty());
    assert!(document.issue_date.is_some() && document.expiry_date.is_some());
    assert!(
        document
            .issuer
            .as_ref()
            .is_some_and(|i| !i.name_ru.is_empty())
    );
}

#[tokio::test]
async fn a_generated_person_is_found_through_the_gateway_too() {
    let stack = Stack::start().await;
    let store = Store::open(&stack.database_url).await.expect("opens");
    let sample = store.sample_iins(5).await.expect("sample");
    assert!(!sample.is_empty());
    for key in sample {
        let iin = format!("{key:012}");
        let person = stack.person(&iin).await.expect("found");
        assert_eq!(person.iin, iin);
        assert!(!person.surname.is_empty() && !person.name.is_empty());
        assert!(person.registration_address.is_some());
    }
}

#[tokio::test]
async fn person_not_in_the_database_is_refused_with_edat001() {
    let stack = Stack::start().await;
    Iin::parse(PERSON_NOT_IN_DATABASE).expect("the IIN itself is valid");
    assert_eq!(
        stack
            .person(PERSON_NOT_IN_DATABASE)
            .await
            .expect_err("refused"),
        StatusCode::DataNotFound
    );
    assert_eq!(
        stack
            .family(PERSON_NOT_IN_DATABASE)
            .await
            .expect_err("refused"),
        StatusCode::DataNotFound
    );
    let error = stack
        .portal
        .call::<GetPersonRequest, GetPersonResponse>(
            PERSON_GET,
            systems::CITIZENS.id,
            &GetPersonRequest {
                iin: PERSON_NOT_IN_DATABASE.into(),
            },
        )
        .await
        .expect_err("refused");
    assert!(
        error.to_string().contains(PERSON_NOT_IN_DATABASE),
        "{error}"
    );
}

#[tokio::test]
async fn malformed_iin_is_refused_with_edat002() {
    let stack = Stack::start().await;
    for iin in ["", "12345", "88041239999X", "880412399993", "881312399992"] {
        assert_eq!(
            stack.person(iin).await.expect_err("refused"),
            StatusCode::InvalidRequest,
            "{iin:?}"
        );
    }
    let error = stack
        .con
        .call::<GetFamilyRequest, GetFamilyResponse>(
            FAMILY_GET,
            systems::CITIZENS.id,
            &GetFamilyRequest {
                iin: "880412399993".into(),
            },
        )
        .await
        .expect_err("refused");
    assert_eq!(error.code(), StatusCode::InvalidRequest);
    assert!(error.to_string().contains("check digit"), "{error}");
}

#[tokio::test]
async fn legal_entity_is_found_by_bin_with_its_head_in_the_database() {
    let stack = Stack::start().await;
    let entity = stack
        .con
        .call::<GetLegalEntityRequest, GetLegalEntityResponse>(
            LEGAL_ENTITY_GET,
            systems::CITIZENS.id,
            &GetLegalEntityRequest {
                bin: ASTANA_EMPLOYMENT_CENTRE.into(),
            },
        )
        .await
        .expect("found")
        .legal_entity
        .expect("entity");
    assert_eq!(entity.bin, ASTANA_EMPLOYMENT_CENTRE);
    assert_eq!(entity.head_iin, PROVIDER_HEAD);
    assert!(
        entity.name_kk.contains("жұмыспен қамту"),
        "{}",
        entity.name_kk
    );
    assert!(
        entity.name_ru.contains("Центр занятости"),
        "{}",
        entity.name_ru
    );
    assert_eq!(entity.kind.expect("kind").code, "01");
    assert!(entity.address.is_some() && entity.registration_date.is_some());
    assert!(stack.person(&entity.head_iin).await.is_ok());
}

#[tokio::test]
async fn legal_entity_not_in_the_database_or_malformed_is_refused_by_code() {
    let stack = Stack::start().await;
    Bin::parse(LEGAL_ENTITY_NOT_IN_DATABASE).expect("the BIN itself is valid");
    for (bin, code) in [
        (LEGAL_ENTITY_NOT_IN_DATABASE, StatusCode::DataNotFound),
        ("090540900011", StatusCode::InvalidRequest),
        ("0905409000", StatusCode::InvalidRequest),
    ] {
        let error = stack
            .portal
            .call::<GetLegalEntityRequest, GetLegalEntityResponse>(
                LEGAL_ENTITY_GET,
                systems::CITIZENS.id,
                &GetLegalEntityRequest { bin: bin.into() },
            )
            .await
            .expect_err("refused");
        assert_eq!(error.code(), code, "{bin}: {error}");
    }
}

#[tokio::test]
async fn family_links_of_a_parent_include_the_child_under_7() {
    let stack = Stack::start().await;
    let links = stack.family(PARENT_OF_CHILD_UNDER_7).await.expect("found");
    let children = relatives(&links, Kinship::Child);
    assert_eq!(
        children,
        HashSet::from([CHILD_UNDER_7.to_owned(), CHILD_7_OR_OVER.to_owned()])
    );
    assert_eq!(
        relatives(&links, Kinship::Spouse),
        HashSet::from([SPOUSE_OF_PARENT_OF_CHILD_UNDER_7.to_owned()])
    );
    let child = links
        .iter()
        .filter_map(|link| link.relative.as_ref())
        .find(|person| person.iin == CHILD_UNDER_7)
        .expect("the child's record");
    assert_eq!(child.birth_date.expect("birth").year, 2022);
}

#[tokio::test]
async fn a_child_has_its_parents_and_an_orphan_its_guardian() {
    let stack = Stack::start().await;
    let links = stack.family(CHILD_UNDER_7).await.expect("found");
    assert_eq!(
        relatives(&links, Kinship::Parent),
        HashSet::from([
            PARENT_OF_CHILD_UNDER_7.to_owned(),
            SPOUSE_OF_PARENT_OF_CHILD_UNDER_7.to_owned()
        ])
    );
    let orphan = stack.family(ORPHAN_WITH_GUARDIAN).await.expect("found");
    assert_eq!(
        relatives(&orphan, Kinship::Guardian),
        HashSet::from([GUARDIAN.to_owned()])
    );
    assert_eq!(
        relatives(&orphan, Kinship::Parent),
        HashSet::from([DECEASED_FATHER_OF_ORPHAN.to_owned()])
    );
    let guardian = stack.family(GUARDIAN).await.expect("found");
    assert_eq!(
        relatives(&guardian, Kinship::Ward),
        HashSet::from([ORPHAN_WITH_GUARDIAN.to_owned()])
    );
    assert!(
        stack
            .family(UNEMPLOYED_ADULT)
            .await
            .expect("found")
            .is_empty()
    );
}

#[tokio::test]
async fn a_disabled_child_is_flagged() {
    let stack = Stack::start().await;
    let child = stack.person(DISABLED_CHILD).await.expect("found");
    assert!(child.disabled);
    assert!(
        !stack
            .person(PARENT_OF_DISABLED_CHILD)
            .await
            .expect("found")
            .disabled
    );
    let links = stack.family(PARENT_OF_DISABLED_CHILD).await.expect("found");
    assert_eq!(
        relatives(&links, Kinship::Child),
        HashSet::from([DISABLED_CHILD.to_owned()])
    );
}

#[tokio::test]
async fn an_orphan_is_without_parental_care() {
    let stack = Stack::start().await;
    for iin in [ORPHAN_WITH_GUARDIAN, CHILD_WITHOUT_GUARDIAN] {
        assert!(
            stack
                .person(iin)
                .await
                .expect("found")
                .without_parental_care,
            "{iin}"
        );
    }
    assert!(
        stack
            .family(CHILD_WITHOUT_GUARDIAN)
            .await
            .expect("found")
            .is_empty()
    );
    assert!(
        !stack
            .person(CHILD_UNDER_7)
            .await
            .expect("found")
            .without_parental_care
    );
}

#[tokio::test]
async fn a_deceased_person_has_a_death_date_and_is_deceased() {
    let stack = Stack::start().await;
    let person = stack.person(DECEASED_PERSON).await.expect("found");
    assert_eq!(person.life_status, LifeStatus::Deceased as i32);
    let death = person.death_date.expect("death date");
    assert_eq!((death.year, death.month, death.day), (2024, 2, 14));
    let father = stack
        .person(DECEASED_FATHER_OF_ORPHAN)
        .await
        .expect("found");
    assert_eq!(father.life_status, LifeStatus::Deceased as i32);
}

#[tokio::test]
async fn a_request_from_a_system_with_no_route_is_refused_by_the_gateway_with_eacc001() {
    let stack = Stack::start().await;
    let labor = stack.sandbox.caller(systems::LABOR.id, systems::LABOR.bin);
    let error = labor
        .call::<GetPersonRequest, GetPersonResponse>(
            PERSON_GET,
            systems::CITIZENS.id,
            &GetPersonRequest {
                iin: UNEMPLOYED_ADULT.into(),
            },
        )
        .await
        .expect_err("refused");
    assert_eq!(error.code(), StatusCode::AccessDenied, "{error}");
}

/// Signs a direct call as the portal's system would.
fn signed<M: prost::Message + prost::Name>(
    stack: &Stack,
    service_id: &str,
    message: M,
) -> tonic::Request<M> {
    let header = stack.portal.header::<M>(service_id, systems::CITIZENS.id);
    egov_system::direct::signed_request(&stack.portal.identity().signer, &header, message)
        .expect("signed")
}

#[tokio::test]
async fn the_direct_citizens_contract_answers_like_the_gateway() {
    let stack = Stack::start().await;
    let mut client = CitizensClient::connect(format!("http://{}", stack.grpc))
        .await
        .expect("connects");
    let person = client
        .get_person(signed(
            &stack,
            PERSON_GET,
            GetPersonRequest {
                iin: EMPLOYED_ADULT.into(),
            },
        ))
        .await
        .expect("found")
        .into_inner()
        .person
        .expect("person");
    assert_eq!(person.surname, "Иванова");
    for (iin, code) in [
        (PERSON_NOT_IN_DATABASE, StatusCode::DataNotFound),
        ("not an IIN", StatusCode::InvalidRequest),
    ] {
        let status = client
            .get_person(signed(
                &stack,
                PERSON_GET,
                GetPersonRequest { iin: iin.into() },
            ))
            .await
            .expect_err("refused");
        assert_eq!(StatusCode::from_grpc(&status), Some(code), "{status:?}");
    }
    let family = client
        .get_family(signed(
            &stack,
            FAMILY_GET,
            GetFamilyRequest {
                iin: PRINCIPAL.into(),
            },
        ))
        .await
        .expect("found")
        .into_inner();
    assert_eq!(
        relatives(&family.links, Kinship::Child),
        HashSet::from([REPRESENTATIVE.to_owned()])
    );
    let (status, metrics) =
        egov_testkit::service::http_request(stack.http, "citizens", "GET", "/metrics", "").await;
    assert_eq!(status, 200);
    assert!(metrics.contains("citizens_lookups_total"), "{metrics}");
    assert!(
        metrics.contains("citizens_lookup_duration_seconds"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_direct_look_up_without_a_signed_envelope_is_refused_with_esig001() {
    let stack = Stack::start().await;
    let mut client = CitizensClient::connect(format!("http://{}", stack.grpc))
        .await
        .expect("connects");
    let refused = client
        .get_person(GetPersonRequest {
            iin: EMPLOYED_ADULT.into(),
        })
        .await
        .expect_err("unsigned");
    assert_eq!(
        StatusCode::from_grpc(&refused),
        Some(StatusCode::SignatureMissing),
        "{refused:?}"
    );
    assert!(!refused.message().contains("Иванова"), "no personal data");
    let refused = client
        .get_family(GetFamilyRequest {
            iin: PRINCIPAL.into(),
        })
        .await
        .expect_err("unsigned");
    assert_eq!(
        StatusCode::from_grpc(&refused),
        Some(StatusCode::SignatureMissing)
    );
}

#[tokio::test]
async fn requests_change_nothing_stored() {
    let stack = Stack::start().await;
    let store = Store::open(&stack.database_url).await.expect("opens");
    let before = store.person_count().await.expect("count");
    let _ = stack.person(UNEMPLOYED_ADULT).await;
    let _ = stack.person(PERSON_NOT_IN_DATABASE).await;
    let _ = stack.family(PARENT_OF_CHILD_UNDER_7).await;
    assert_eq!(store.person_count().await.expect("count"), before);
    assert_eq!(before, i64::try_from(POPULATION + PERSONS).expect("fits"));
}
