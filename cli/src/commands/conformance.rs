//! `egov conformance <system> --endpoint <host:port> [--junit report.xml]`: runs one system's
//! contract from the conformance kit against any endpoint that claims to speak it, prints each
//! check as conforming or not with the reason and a score, writes JUnit XML, and exits non-zero
//! below 100 %.
//!
//! The kit signs its requests with its own keys, which it makes and keeps in
//! `<data dir>/conformance/`: a seal in the name of the system that calls the one checked (the
//! portal for the citizens-DB, …) and, for the application intakes, a State Corporation
//! operator's certificate. The stack's certification centre certifies them for a registrar:
//! by default the registration desk, whose password `egov up` keeps in the data dir (as for
//! `egov scenario run`). Answers are verified against the centre's root and revocation list.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use egov_conformance::contracts::OPERATOR_IIN;
use egov_conformance::{Contract, Kit, Signatory};
use egov_core::Iin;
use egov_core::clock::{Clock as _, SystemClock};
use egov_core::envelope::Signer;
use egov_core::pki::authority::Holder;
use egov_core::pki::{KeyPurpose, Role};
use egov_proto::v1::certification_centre_client::CertificationCentreClient;
use egov_system::identity::{EnrolmentProof, KeyFiles, ca_certificates, enrol_holder};
use egov_system::{Enrolment, SystemIdentity};
use tonic::transport::{Channel, Endpoint};

/// How long an answer of the centre about a certificate's revocation is re-used.
const REVOCATION_FRESHNESS: Duration = Duration::from_secs(30);

/// What `egov conformance` was asked.
#[derive(Debug)]
pub struct Options {
    /// The system whose contract to run (`citizens`, `notary`, …).
    pub system: String,
    /// The endpoint of its `MessageReceiver` (or of the gateway, for `shep`).
    pub endpoint: String,
    /// Where to write JUnit XML.
    pub junit: Option<PathBuf>,
    /// The certification centre's gRPC endpoint.
    pub pki: String,
    /// The registrar the centre certifies the kit's keys for.
    pub registrar_login: String,
    /// Its password; `None` reads the one `egov up` kept in the data dir.
    pub registrar_password: Option<String>,
}

/// Runs the contract and reports; exits non-zero unless every check conforms.
pub async fn run(data_dir: &Path, options: Options) -> anyhow::Result<ExitCode> {
    let contract = Contract::of(&options.system)?;
    let password =
        crate::commands::up::registrar_password(data_dir, options.registrar_password.clone())?;
    let registrar = (options.registrar_login.clone(), password);
    let mut centre = Centre::new(data_dir, &options, registrar).await?;
    let enrolment = Enrolment::of(
        &contract.caller,
        egov_system::config::DEFAULT_RESPONSIBLE_IIN,
    )?;
    let mut seal = enrolment.holder();
    seal.given_name = "CONFORMANCE KIT".into();
    let identity = Arc::new(SystemIdentity {
        system_id: contract.caller.id.to_owned(),
        bin: enrolment.bin,
        signer: centre.certified(&seal, contract.caller.id).await?,
        root: centre.root.clone(),
    });
    let verifier = identity
        .remote_verifier(&options.pki, REVOCATION_FRESHNESS)
        .context("cannot trust the certification centre")?;
    let mut kit = Kit::new(identity, verifier);
    if contract.signatory == Signatory::Operator {
        let operator = Holder {
            surname: "OPERATOR".into(),
            given_name: "CONFORMANCE KIT".into(),
            iin: Iin::parse(OPERATOR_IIN)?,
            bin: Some(enrolment.bin),
            organization: Some(contract.caller.name.to_owned()),
            role: Role::Employee,
            purpose: KeyPurpose::Sign,
        };
        let name = format!("{}-operator", contract.caller.id);
        kit = kit.with_operator(centre.certified(&operator, &name).await?);
    }
    let report = kit.run(&contract, &options.endpoint).await?;
    println!("{report}");
    if let Some(path) = &options.junit {
        report
            .to_junit()
            .write(path)
            .with_context(|| format!("cannot write the JUnit report {}", path.display()))?;
    }
    Ok(if report.conforms() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The stack's certification centre, as the kit enrols its keys with it.
struct Centre<'a> {
    options: &'a Options,
    /// The registrar's login and password.
    registrar: (String, String),
    client: CertificationCentreClient<Channel>,
    root: egov_core::pki::CertificateInfo,
    intermediate: Vec<u8>,
    dir: PathBuf,
}

impl<'a> Centre<'a> {
    /// Fetches the centre's root and intermediate.
    async fn new(
        data_dir: &'a Path,
        options: &'a Options,
        registrar: (String, String),
    ) -> anyhow::Result<Centre<'a>> {
        let channel = Endpoint::from_shared(options.pki.clone())
            .with_context(|| format!("{:?} is not a certification centre URL", options.pki))?
            .connect_lazy();
        let mut client = CertificationCentreClient::new(channel);
        let (root, intermediate) = ca_certificates(&options.pki, &mut client).await?;
        let dir = data_dir.join("conformance");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Centre {
            options,
            registrar,
            client,
            root,
            intermediate,
            dir,
        })
    }

    /// A signer for `holder` with the key kept as `<name>.key`: its kept certificate while it
    /// still fits, else a new one the centre issues to the registrar.
    async fn certified(&mut self, holder: &Holder, name: &str) -> anyhow::Result<Signer> {
        let files = KeyFiles::in_dir(&self.dir, name);
        let now = SystemClock.now();
        let pki = self.options.pki.clone();
        // A kept certificate needs no registrar: try it alone first.
        if self.dir.join(format!("{name}.crt")).is_file()
            && let Ok(signer) = enrol_holder(
                &pki,
                &mut self.client,
                holder,
                None,
                Some(&files),
                &self.intermediate,
                now,
            )
            .await
        {
            return Ok(signer);
        }
        let (login, password) = &self.registrar;
        let proof = EnrolmentProof::Registrar { login, password };
        enrol_holder(
            &pki,
            &mut self.client,
            holder,
            Some(proof),
            Some(&files),
            &self.intermediate,
            now,
        )
        .await
        .with_context(|| format!("the certification centre did not certify the kit's {name} key"))
    }
}
