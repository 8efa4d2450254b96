//! Output for people (aligned tables, colour on a terminal) and for scripts
//! (`--json`, one JSON document on stdout).

use std::io::IsTerminal;

pub struct Output {
    pub json: bool,
    pub color: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Output {
            json,
            color: !json
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    pub fn print_json(&self, value: &serde_json::Value) {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    }

    pub fn success(&self, text: &str) {
        if self.color {
            println!("\x1b[32m{text}\x1b[0m");
        } else {
            println!("{text}");
        }
    }

    pub fn table(&self, headers: &[&str], rows: &[Vec<String>]) {
        let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
        for row in rows {
            for (i, cell) in row.iter().enumerate() {
                if i < widths.len() {
                    widths[i] = widths[i].max(cell.chars().count());
                }
            }
        }
        let line = |cells: Vec<String>| {
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c:<w$}", w = widths.get(i).copied().unwrap_or(0)))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        let header = line(headers.iter().map(|h| h.to_string()).collect());
        if self.color {
            println!("\x1b[1m{header}\x1b[0m");
        } else {
            println!("{header}");
        }
        for row in rows {
            println!("{}", line(row.clone()));
        }
    }
}
