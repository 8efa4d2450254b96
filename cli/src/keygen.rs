//! `rstuf admin keygen`: a new offline key as a PKCS#8 PEM file (encrypted
//! with a password when one is given) plus `FILE.pub`, and its TUF key JSON.

use crate::error::{local, CliResult};
use crate::keys::{pub_path, write_atomic, KeyKind, PasswordSource, PrivateKey, TufKeyForm as _};
use crate::output::Output;
use serde_json::json;
use std::path::Path;

pub struct KeygenArgs<'a> {
    pub kind: KeyKind,
    pub out: &'a Path,
    pub password: Option<PasswordSource>,
    pub name: Option<&'a str>,
}

pub fn keygen(args: KeygenArgs<'_>, out: &Output) -> CliResult<()> {
    let public_path = pub_path(args.out);
    for path in [args.out, public_path.as_path()] {
        if path.symlink_metadata().is_ok() {
            return Err(local(format!(
                "{} already exists; refusing to overwrite it",
                path.display()
            )));
        }
    }
    // Read the password before the (slow, for RSA) key generation.
    let password = args
        .password
        .as_ref()
        .map(PasswordSource::read)
        .transpose()?;
    let key = PrivateKey::generate(args.kind.into())?;
    let pem = key.to_pem(password.as_ref().map(|p| p.as_bytes()))?;
    let public_pem = key.public_pem()?;
    let public = key.public()?;
    let name = args
        .name
        .map(str::to_string)
        .unwrap_or_else(|| crate::keys::default_name(args.out));
    let tuf_key = public.tuf_key(Some(name.as_str()), None);
    let keyid = public.keyid(Some(name.as_str()), None);

    write_atomic(args.out, pem.as_bytes(), 0o600, false)?;
    if let Err(e) = write_atomic(&public_path, public_pem.as_bytes(), 0o644, false) {
        // No half-made key pair is left behind.
        let _ = std::fs::remove_file(args.out);
        return Err(e);
    }

    if out.json {
        out.print_json(&json!({
            "keyid": keyid,
            "key": tuf_key,
            "bare_keyid": public.bare_keyid(),
            "private_key": args.out.display().to_string(),
            "public_key": public_path.display().to_string(),
            "encrypted": password.is_some(),
        }));
    } else {
        out.success(&format!(
            "Wrote {} ({}{}) and {}",
            args.out.display(),
            public.keytype,
            if password.is_some() {
                ", encrypted"
            } else {
                ""
            },
            public_path.display()
        ));
        println!("keyid: {keyid}");
        println!(
            "bare keyid (no name; as an online key the service finds it as fn:<this>): {}",
            public.bare_keyid()
        );
        println!(
            "key:   {}",
            serde_json::to_string_pretty(&tuf_key).unwrap_or_default()
        );
    }
    Ok(())
}
