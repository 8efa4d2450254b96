//! `rstuf admin ceremony --interactive`: the ceremony's questions asked at
//! the terminal, with upstream's defaults in brackets, each answer checked
//! at once (a wrong answer is explained and asked again). The answers
//! become the same [`CeremonyArgs`] the flags give, so both paths build
//! and check the payload with the same code. Passwords are read without
//! echo and never written anywhere.

use crate::ceremony::CeremonyArgs;
use crate::error::{local, CliError, CliResult};
use crate::keys::{default_name, load_key_file, KeyFile, PasswordSource, TypedPassword};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Wrong answers tolerated per question before giving up.
const TRIES: usize = 5;

/// Asks questions on `output` and reads answers from `input`.
pub struct Prompter<R, W> {
    input: R,
    output: W,
    /// Read passwords from the terminal without echo.
    hidden: bool,
}

impl<R: BufRead, W: Write> Prompter<R, W> {
    pub fn new(input: R, output: W, hidden: bool) -> Self {
        Prompter {
            input,
            output,
            hidden,
        }
    }

    fn line(&mut self) -> CliResult<String> {
        let mut line = String::new();
        let n = self
            .input
            .read_line(&mut line)
            .map_err(|e| local(format!("reading the answer: {e}")))?;
        if n == 0 {
            return Err(CliError::Usage(
                "the input ended before the ceremony was complete".into(),
            ));
        }
        Ok(line.trim().to_string())
    }

    fn say(&mut self, text: &str) -> CliResult<()> {
        writeln!(self.output, "{text}").map_err(|e| local(e.to_string()))
    }

    /// Ask until `check` accepts the answer (the default when empty).
    pub fn ask<T>(
        &mut self,
        question: &str,
        default: Option<&str>,
        mut check: impl FnMut(&str) -> Result<T, String>,
    ) -> CliResult<T> {
        for _ in 0..TRIES {
            match default {
                Some(d) => write!(self.output, "{question} [{d}]: "),
                None => write!(self.output, "{question}: "),
            }
            .and_then(|_| self.output.flush())
            .map_err(|e| local(e.to_string()))?;
            let mut answer = self.line()?;
            if answer.is_empty() {
                answer = default.unwrap_or_default().to_string();
            }
            match check(&answer) {
                Ok(v) => return Ok(v),
                Err(why) => self.say(&format!("  {why}"))?,
            }
        }
        Err(CliError::Usage(format!(
            "no acceptable answer to '{question}' after {TRIES} tries"
        )))
    }

    fn number(&mut self, question: &str, default: u64, min: u64, max: u64) -> CliResult<u64> {
        self.ask(question, Some(&default.to_string()), |a| {
            a.parse::<u64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| format!("give a whole number from {min} to {max}"))
        })
    }

    fn yes(&mut self, question: &str, default: bool) -> CliResult<bool> {
        self.ask(question, Some(if default { "y" } else { "n" }), |a| match a
            .to_ascii_lowercase()
            .as_str()
        {
            "y" | "yes" => Ok(true),
            "n" | "no" => Ok(false),
            _ => Err("answer y or n".into()),
        })
    }

    fn password(&mut self, prompt: &str) -> CliResult<Zeroizing<String>> {
        if self.hidden {
            rpassword::prompt_password(prompt)
                .map(Zeroizing::new)
                .map_err(|e| local(format!("reading the password: {e}")))
        } else {
            write!(self.output, "{prompt}")
                .and_then(|_| self.output.flush())
                .map_err(|e| local(e.to_string()))?;
            self.line().map(Zeroizing::new)
        }
    }

    /// A key file that exists and holds a key; `FILE.pub` stands in for an
    /// encrypted private key when it exists.
    fn key_file(&mut self, question: &str) -> CliResult<PathBuf> {
        self.ask(question, None, |a| {
            let path = PathBuf::from(a);
            if a.is_empty() {
                return Err("give the path of a PEM key file".into());
            }
            match load_key_file(&path, None) {
                Ok(KeyFile::Encrypted) if !crate::keys::pub_path(&path).is_file() => Err(format!(
                    "{a} is an encrypted private key: give its public key ({a}.pub) instead"
                )),
                Ok(_) => Ok(path),
                Err(e) => Err(e.to_string()),
            }
        })
    }

    /// Everything the ceremony needs.
    pub fn ceremony(&mut self, server: &str) -> CliResult<CeremonyArgs> {
        self.say("Key ceremony: root v1 of a new TUF repository (defaults in brackets).")?;
        let count = self.number("How many root keys", 2, 2, 50)?;
        let threshold = self.number(
            "How many root signatures are required (threshold, at least 2)",
            2.min(count),
            2,
            count,
        )?;
        let mut root_keys = Vec::new();
        for i in 1..=count {
            let file = self.key_file(&format!("Root key {i}: PEM file (public or private)"))?;
            let name = self.ask(
                &format!("Root key {i}: name"),
                Some(&default_name(&file)),
                |a| {
                    if a.contains(':') || a.chars().any(char::is_control) {
                        Err("a name may not contain ':' or control characters".into())
                    } else {
                        Ok(a.to_string())
                    }
                },
            )?;
            root_keys.push(format!("{}:{name}", file.display()));
        }
        let online_key = self.key_file("Online key: PEM public key file")?;
        let online_key_uri = self.ask(
            "Online key URI (empty: fn:<keyid>, a file in the key vault)",
            Some(""),
            |a| {
                if a.is_empty()
                    || a.split_once(':')
                        .is_some_and(|(s, r)| !s.is_empty() && !r.is_empty())
                {
                    Ok((!a.is_empty()).then(|| a.to_string()))
                } else {
                    Err("a URI looks like SCHEME:NAME, e.g. hv:online or awskms:alias/tuf".into())
                }
            },
        )?;
        let layout = self.ask(
            "Artifact layout: succinct (hash bins), classic (hash bins), custom (delegations file)",
            Some("succinct"),
            |a| match a {
                "succinct" | "classic" | "custom" => Ok(a.to_string()),
                _ => Err("answer succinct, classic or custom".into()),
            },
        )?;
        let mut args = CeremonyArgs {
            root_keys,
            root_threshold: Some(threshold),
            online_key: Some(online_key),
            online_key_uri,
            online_key_name: "online".into(),
            timeout: 300,
            ..CeremonyArgs::default()
        };
        match layout.as_str() {
            "custom" => {
                args.delegations = Some(self.ask("Delegations JSON file", None, |a| {
                    crate::ceremony::read_delegations(std::path::Path::new(a))
                        .map(|_| PathBuf::from(a))
                        .map_err(|e| e.to_string())
                })?);
            }
            kind => {
                let n = self.ask(
                    "Number of hash bins (a power of two, 2 to 16384)",
                    Some("256"),
                    |a| {
                        a.parse::<u32>()
                            .ok()
                            .filter(|n| (2..=16384).contains(n) && n.is_power_of_two())
                            .ok_or_else(|| "give a power of two from 2 to 16384".to_string())
                    },
                )?;
                if kind == "classic" {
                    args.classic_bins = Some(n);
                } else {
                    args.bins = Some(n);
                }
            }
        }
        let mut expires = Vec::new();
        let mut roles = vec![
            ("root", 365),
            ("timestamp", 1),
            ("snapshot", 1),
            ("targets", 365),
        ];
        if args.delegations.is_none() {
            roles.push(("bins", 1));
        }
        for (role, default) in roles {
            let days = self.number(
                &format!("Days until {role} metadata expires"),
                default,
                1,
                36600,
            )?;
            expires.push(format!("{role}={days}"));
        }
        args.expires = vec![expires.join(",")];

        loop {
            let file = self.ask(
                "Sign with a root private key file now (empty when done)",
                Some(""),
                |a| {
                    if a.is_empty() || std::path::Path::new(a).is_file() {
                        Ok(a.to_string())
                    } else {
                        Err(format!("{a} is not a file"))
                    }
                },
            )?;
            if file.is_empty() {
                break;
            }
            let path = PathBuf::from(&file);
            if let Ok(KeyFile::Encrypted) = load_key_file(&path, None) {
                let mut accepted = None;
                for _ in 0..3 {
                    let pw = self.password(&format!("Password for {file}: "))?;
                    match load_key_file(&path, Some(pw.as_str())) {
                        Ok(KeyFile::Private(_)) => {
                            accepted = Some(pw);
                            break;
                        }
                        Ok(_) | Err(_) => {
                            self.say("  wrong password, or not a private key; try again")?
                        }
                    }
                }
                let pw = accepted.ok_or_else(|| local(format!("could not decrypt {file}")))?;
                args.passwords
                    .push((path.clone(), PasswordSource::Typed(TypedPassword(pw))));
            }
            args.sign.push(file);
        }
        args.out = self.ask("Write the payload to", Some("ceremony-payload.json"), |a| {
            if a.is_empty() {
                Err("give a file name".into())
            } else {
                Ok(PathBuf::from(a))
            }
        })?;
        args.send = self.yes(&format!("Send it to {server} now"), false)?;
        Ok(args)
    }
}

/// Ask at the process's terminal.
pub fn ask_ceremony(server: &str) -> CliResult<CeremonyArgs> {
    let stdin = std::io::stdin();
    let hidden = stdin.is_terminal();
    let mut p = Prompter::new(stdin.lock(), std::io::stdout(), hidden);
    p.ceremony(server)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_answers_are_explained_and_asked_again() {
        let input = b"x\n1\n3\n".as_slice();
        let mut out = Vec::new();
        let n = Prompter::new(input, &mut out, false)
            .number("How many", 2, 2, 5)
            .unwrap();
        assert_eq!(n, 3);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("How many [2]: ").count(), 3);
        assert!(text.contains("from 2 to 5"));

        let mut out = Vec::new();
        assert_eq!(
            Prompter::new(b"\n".as_slice(), &mut out, false)
                .number("n", 7, 1, 9)
                .unwrap(),
            7
        );
        let err = Prompter::new(b"".as_slice(), Vec::new(), false)
            .number("n", 7, 1, 9)
            .unwrap_err();
        assert!(err.to_string().contains("input ended"));
        let err = Prompter::new(b"a\nb\nc\nd\ne\n".as_slice(), Vec::new(), false)
            .yes("ok", false)
            .unwrap_err();
        assert!(err.to_string().contains("5 tries"));
    }
}
