//! The centre's secrets on disk: its data dir and database owner-only, and `ca.secret`, the
//! random secret the CA keys derive from, generated once with mode 0600.

use std::io::Write as _;
use std::path::Path;

use crate::PkiError;

/// Creates `dir` (and its parents) if missing and makes it owner-only (0700).
pub fn create_private_dir(dir: &Path) -> Result<(), PkiError> {
    std::fs::create_dir_all(dir).map_err(|source| PkiError::Io {
        action: format!("create data dir {}", dir.display()),
        source,
    })?;
    restrict(dir, 0o700)
}

/// Creates `file` empty if missing and makes it owner-only (0600), before anything is written.
pub fn create_private_file(file: &Path) -> Result<(), PkiError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .map_err(|source| PkiError::Io {
            action: format!("create {}", file.display()),
            source,
        })?;
    restrict(file, 0o600)
}

/// Returns the CA secret in `path`, generating 32 random bytes (hex) with mode 0600 on first start.
pub fn ca_secret(path: &Path) -> Result<String, PkiError> {
    let io = |action: &str, source| PkiError::Io {
        action: format!("{action} {}", path.display()),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            restrict(path, 0o600)?;
            let secret = text.trim().to_owned();
            if secret.len() < 32 {
                return Err(PkiError::Corrupt {
                    what: "CA secret",
                    reason: format!("{} holds fewer than 32 characters", path.display()),
                });
            }
            Ok(secret)
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let secret = egov_signin::secret::random_hex(32)
                .map_err(|error| PkiError::Config(format!("CA secret: {error}")))?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(|source| io("create", source))?;
            file.write_all(secret.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|source| io("write", source))?;
            Ok(secret)
        }
        Err(source) => Err(io("read", source)),
    }
}

/// Sets a path's permission bits (no-op off Unix).
fn restrict(path: &Path, mode: u32) -> Result<(), PkiError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(
            |source| PkiError::Io {
                action: format!("restrict {} to {mode:o}", path.display()),
                source,
            },
        )?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_secret_is_generated_once_owner_only_and_read_back() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("ca.secret");
        let first = ca_secret(&path).expect("generated");
        assert_eq!(ca_secret(&path).expect("read back"), first);
        assert_eq!(first.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
