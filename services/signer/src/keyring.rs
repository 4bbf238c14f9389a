//! The citizens' keys: made here (Ed25519, `ring`), certified by the centre, kept in the data
//! dir as `keys/<IIN>.json` readable by the owner only, and used only to sign.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use egov_core::Iin;
use egov_core::envelope::Signer;
use egov_core::pki::CertificateInfo;
use egov_core::pki::authority::{Holder, KeyMaterial};
use egov_core::pki::{KeyPurpose, Role};
use egov_proto::v1::Signature;
use ring::rand::SystemRandom;
use ring::signature::Ed25519KeyPair;
use serde::{Deserialize, Serialize};

use crate::SignerError;
use crate::centre::{Applicant, CertificationCentre};

/// A kept key as the pages show it: whose, and its certificate.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    /// The holder's IIN.
    pub iin: String,
    /// The certificate.
    pub certificate: CertificateInfo,
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    pkcs8_hex: String,
    chain_hex: Vec<String>,
}

/// The kept keys, by IIN; cheap to clone.
#[derive(Clone)]
pub struct Keyring {
    dir: PathBuf,
    // A std lock: held for a look-up or an insert, never across an await.
    keys: Arc<RwLock<BTreeMap<String, Arc<Signer>>>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SignerError + '_ {
    move |source| SignerError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl Keyring {
    /// Opens the keys kept under `data_dir/keys`, creating the directory.
    pub fn open(data_dir: &Path) -> Result<Keyring, SignerError> {
        let dir = data_dir.join("keys");
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut keys = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let path = entry.map_err(io(&dir))?.path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            let file: KeyFile = serde_json::from_str(&text)
                .map_err(|error| SignerError::Key(format!("{}: {error}", path.display())))?;
            let signer = signer_of(&file)?;
            if let Some(iin) = signer.certificate().iin {
                keys.insert(iin.to_string(), Arc::new(signer));
            }
        }
        Ok(Keyring {
            dir,
            keys: Arc::new(RwLock::new(keys)),
        })
    }

    /// Makes a key pair for the applicant, has the centre certify its public key and keeps
    /// it, replacing an older key of the same IIN.
    pub async fn enrol(
        &self,
        centre: &dyn CertificationCentre,
        applicant: &Applicant,
    ) -> Result<KeyInfo, SignerError> {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| SignerError::Key("the system's random source failed".into()))?;
        let key = KeyMaterial::from_pkcs8(pkcs8.as_ref())
            .map_err(|error| SignerError::Key(error.to_string()))?;
        let holder = Holder {
            surname: applicant.surname.clone(),
            given_name: applicant.given_name.clone(),
            iin: applicant.iin,
            bin: None,
            organization: None,
            role: Role::Individual,
            purpose: KeyPurpose::Sign,
        };
        let request = egov_core::pki::request::build(&holder, &key)
            .map_err(|error| SignerError::Key(error.to_string()))?;
        let issued = centre.issue(applicant, request).await?;
        let file = KeyFile {
            pkcs8_hex: hex::encode(pkcs8.as_ref()),
            chain_hex: issued.chain.iter().map(hex::encode).collect(),
        };
        let signer = signer_of(&file)?;
        let iin = applicant.iin.to_string();
        let path = self.dir.join(format!("{iin}.json"));
        let text =
            serde_json::to_string(&file).map_err(|error| SignerError::Key(error.to_string()))?;
        write_private(&path, &text)?;
        let info = KeyInfo {
            iin: iin.clone(),
            certificate: signer.certificate().clone(),
        };
        self.write().insert(iin, Arc::new(signer));
        Ok(info)
    }

    /// Returns the kept keys, by IIN.
    pub fn keys(&self) -> Vec<KeyInfo> {
        self.read()
            .iter()
            .map(|(iin, signer)| KeyInfo {
                iin: iin.clone(),
                certificate: signer.certificate().clone(),
            })
            .collect()
    }

    /// Signs the exact header and payload bytes with the key of `iin`.
    pub fn sign(&self, iin: &str, header: &[u8], payload: &[u8]) -> Result<Signature, SignerError> {
        let signer = self
            .read()
            .get(iin)
            .cloned()
            .ok_or_else(|| SignerError::NoKey(iin.to_owned()))?;
        signer
            .signature(header, payload)
            .map_err(|error| SignerError::Key(error.to_string()))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Signer>>> {
        self.keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<Signer>>> {
        self.keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Parses an IIN a person typed.
pub fn parse_iin(text: &str) -> Result<Iin, SignerError> {
    Iin::parse(text.trim()).map_err(|_| SignerError::InvalidIin(text.trim().to_owned()))
}

fn signer_of(file: &KeyFile) -> Result<Signer, SignerError> {
    let bad = |what: &str| SignerError::Key(format!("kept {what} is not hex"));
    let pkcs8 = hex::decode(&file.pkcs8_hex).map_err(|_| bad("key"))?;
    let chain = file
        .chain_hex
        .iter()
        .map(|der| hex::decode(der).map_err(|_| bad("chain")))
        .collect::<Result<Vec<_>, _>>()?;
    Signer::new(&pkcs8, chain).map_err(|error| SignerError::Key(error.to_string()))
}

/// Writes a key file readable by its owner only.
fn write_private(path: &Path, text: &str) -> Result<(), SignerError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io(path))?;
    file.write_all(text.as_bytes()).map_err(io(path))
}

/// Creates `path` empty if missing and makes it readable by its owner only, before anything
/// is written to it.
pub(crate) fn create_private_file(path: &Path) -> Result<(), SignerError> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(io(path))?;
    // A file made before (by an older signer, or under another umask) is narrowed too.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io(path))?;
    }
    Ok(())
}
