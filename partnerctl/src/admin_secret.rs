//! Secrets of a local data directory (the admin JWT secret, the session secret):
//! generated once, kept in files only their owner can read, so `partnerctl` commands
//! and `partnerctl serve` agree without any configuration.

use std::io::Write;
use std::path::Path;

pub const ADMIN_JWT: &str = partner_service::config::ADMIN_JWT_SECRET_FILE;
pub const SESSION: &str = partner_service::config::SESSION_SECRET_FILE;

pub fn load_or_create(data_dir: &Path) -> std::io::Result<String> {
    load_or_create_named(data_dir, ADMIN_JWT)
}

pub fn load_or_create_named(data_dir: &Path, file: &str) -> std::io::Result<String> {
    let path = data_dir.join(file);
    match std::fs::read_to_string(&path) {
        Ok(secret) if !secret.trim().is_empty() => return Ok(secret.trim().to_owned()),
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    std::fs::create_dir_all(data_dir)?;
    let secret = partner_domain::api_key::random_base62(48);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(secret.as_bytes())?;
            Ok(secret)
        }
        // Another process created it first: use theirs.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(std::fs::read_to_string(&path)?.trim().to_owned())
        }
        Err(err) => Err(err),
    }
}
