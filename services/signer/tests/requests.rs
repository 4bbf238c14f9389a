//! The requests the portal hands the signer, kept in its data dir: they survive a restart of
//! the signer, can be signed after it, hold no key, and stay within the limit. The signer runs
//! in-process on loopback port 0 and certifies its key with a real certification centre.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use egov_bus::service::Listeners;
use egov_core::Iin;
use egov_proto::v1::{Header, Signature};
use egov_signer::centre::Applicant;
use egov_signer::requests::{Created, MAX_WAITING, NewRequest, REQUESTS_FILE, RequestState};
use egov_signer::{Keyring, PkiCentre, Requests};
use prost::Message;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const CITIZEN_IIN: &str = "850102300131";
const REGISTRAR: &str = "registrar";
const REGISTRAR_PASSWORD: &str = "correct horse battery";

/// A process running in this test: says stop, then is joined.
struct Running<E> {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), E>>,
}

impl<E: std::fmt::Debug> Running<E> {
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("join").expect("stops cleanly");
    }
}

async fn loopback() -> (TcpListener, TcpListener) {
    let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind gRPC");
    let http = TcpListener::bind("127.0.0.1:0").await.expect("bind HTTP");
    (grpc, http)
}

/// Starts a certification centre in `dir` with the registrar account the signer enrols under,
/// added as an operator adds it; returns its gRPC endpoint.
async fn start_centre(dir: &Path) -> (String, Running<egov_pki::PkiError>) {
    let config = egov_pki::Config::with_data_dir(dir);
    egov_pki::registrar::add_registrar(&config, REGISTRAR, REGISTRAR_PASSWORD)
        .await
        .expect("registrar added");
    let (grpc, http) = loopback().await;
    let endpoint = format!("http://{}", grpc.local_addr().expect("addr"));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(egov_pki::run(config, grpc, http, async {
        let _ = stopped.await;
    }));
    (endpoint, Running { stop, task })
}

/// Starts the signer on `data_dir`; returns its HTTP address.
async fn start_signer(
    data_dir: &Path,
    centre: Arc<PkiCentre>,
) -> (SocketAddr, Running<egov_signer::SignerError>) {
    let (grpc, http) = loopback().await;
    let addr = http.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(egov_signer::serve(
        egov_signer::Config::with_data_dir(data_dir),
        centre,
        Listeners { grpc, http },
        async {
            let _ = stopped.await;
        },
    ));
    (addr, Running { stop, task })
}

/// Sends one HTTP/1.1 request; returns the status, the head and the body.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<(&str, String)>,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let (content_type, body) = body.unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: signer\r\nConnection: close\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status");
    (status, head.to_owned(), body.to_owned())
}

async fn state(addr: SocketAddr, id: &str) -> RequestState {
    let (status, _, body) = http(addr, "GET", &format!("/api/requests/{id}"), None).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("a state")
}

/// The header the portal prepared: it names the citizen.
fn new_request_header() -> Vec<u8> {
    Header {
        service_id: "labor.apply".into(),
        message_id: "0193a4c2-7f00-7000-8000-000000000001".into(),
        user_iin: CITIZEN_IIN.into(),
        ..Header::default()
    }
    .encode_to_vec()
}

/// What the portal hands over: the header, and a payload.
fn new_request() -> NewRequest {
    NewRequest {
        header_hex: hex::encode(new_request_header()),
        payload_hex: hex::encode(b"the application, byte for byte"),
        return_url: "http://portal.test/cabinet".into(),
        title: "Registration as unemployed".into(),
    }
}

#[tokio::test]
async fn a_request_to_sign_survives_a_restart_of_the_signer_and_is_signed_after_it() {
    let dir = TempDir::new().expect("temp dir");
    let (endpoint, pki) = start_centre(&dir.path().join("pki")).await;
    let centre = Arc::new(
        PkiCentre::new(&endpoint)
            .expect("centre")
            .with_registrar(REGISTRAR.into(), REGISTRAR_PASSWORD.into()),
    );
    let data_dir = dir.path().join("signer");
    Keyring::open(&data_dir)
        .expect("keys")
        .enrol(
            centre.as_ref(),
            &Applicant {
                iin: Iin::parse(CITIZEN_IIN).expect("IIN"),
                surname: "Сәрсенбаев".into(),
                given_name: "Ерлан".into(),
                days: 30,
            },
        )
        .await
        .expect("the citizen's key certified");

    let (addr, signer) = start_signer(&data_dir, centre.clone()).await;
    let json = serde_json::to_string(&new_request()).expect("json");
    let (status, _, body) = http(
        addr,
        "POST",
        "/api/requests",
        Some(("application/json", json)),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let created: Created = serde_json::from_str(&body).expect("created");
    signer.stop().await;

    let (addr, signer) = start_signer(&data_dir, centre).await;
    assert_eq!(state(addr, &created.id).await.state, "waiting");
    let (status, _, page) = http(addr, "GET", &created.sign_path, None).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(&hex::encode(b"the application, byte for byte")),
        "the page shows the exact payload after the restart"
    );
    let nonce = page
        .split(r#"name="nonce" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form's one-time token");
    let form = format!("nonce={nonce}&lang=en&iin={CITIZEN_IIN}&action=sign");
    let (status, head, body) = http(
        addr,
        "POST",
        &created.sign_path,
        Some(("application/x-www-form-urlencoded", form)),
    )
    .await;
    assert_eq!(status, 303, "{body}");
    assert!(
        head.to_ascii_lowercase()
            .contains("location: http://portal.test/cabinet"),
        "{head}"
    );
    let signed = state(addr, &created.id).await;
    assert_eq!(signed.state, "signed");
    let signature = Signature::decode(hex::decode(&signed.signature_hex).expect("hex").as_slice())
        .expect("a signature");
    assert!(!signature.value.is_empty());
    assert_eq!(
        signature.header_sha256[..],
        egov_core::envelope::sha256(&new_request_header()),
        "the signature covers the exact header the portal handed over"
    );
    signer.stop().await;
    pki.stop().await;

    // Nothing private is kept with the requests: not the key, not its seed; owner-only.
    let key: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data_dir.join("keys").join(format!("{CITIZEN_IIN}.json")))
            .expect("the key file"),
    )
    .expect("json");
    let pkcs8_hex = key["pkcs8_hex"].as_str().expect("pkcs8_hex");
    let pkcs8 = hex::decode(pkcs8_hex).expect("hex");
    // ring's Ed25519 PKCS#8 document: the 32-byte seed follows a 16-byte prefix.
    let seed = &pkcs8[16..48];
    for name in [REQUESTS_FILE.to_owned(), format!("{REQUESTS_FILE}-wal")] {
        let path = data_dir.join(&name);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        for secret in [pkcs8.as_slice(), seed, pkcs8_hex.as_bytes()] {
            assert!(
                !bytes.windows(secret.len()).any(|window| window == secret),
                "{name} holds the private key"
            );
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect(&name).permissions().mode();
            assert_eq!(mode & 0o077, 0, "{name} is readable by others: {mode:o}");
        }
    }
}

#[tokio::test]
async fn beyond_the_most_requests_kept_the_oldest_goes_first() {
    let dir = TempDir::new().expect("temp dir");
    let requests = Requests::open(dir.path()).await.expect("opens");
    let first = requests.create(new_request()).await.expect("kept");
    for _ in 1..MAX_WAITING {
        requests.create(new_request()).await.expect("kept");
    }
    assert!(requests.get(&first.id).await.expect("reads").is_some());
    let newest = requests.create(new_request()).await.expect("kept");
    assert_eq!(requests.count().await.expect("counts"), MAX_WAITING);
    assert!(requests.get(&first.id).await.expect("reads").is_none());
    assert!(requests.get(&newest.id).await.expect("reads").is_some());
    requests.close().await;
}
