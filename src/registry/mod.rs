//! The model registry: the names a registry accepts, the folder of published
//! models, and (natively) the client that uploads to a fairmark server. The
//! server and the CLI share these, so both refuse the same names.
#[cfg(not(target_arch = "wasm32"))]
pub mod client;

/// Environment variable that holds the bearer token for publishing.
pub const TOKEN_ENV: &str = "FAIRMARK_TOKEN";

/// Whether a model name is one a registry accepts: 1 to 128 of ASCII letters,
/// digits, `-` and `_` (so never hidden, never a path), and not a name that
/// Windows reserves for a device ([`windows_device_name`]).
pub fn valid_model_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !windows_device_name(name)
}

/// Whether Windows would take a file of this name for a device rather than a
/// file: `CON`, `PRN`, `AUX`, `NUL`, `COM0`-`COM9`, `LPT0`-`LPT9` (also with
/// the superscript digits ¹²³), `CONIN$` and `CONOUT$`, in any case, with any
/// extension (`nul.bpk`, `con.tar.gz`) and with trailing spaces or dots
/// before it, which Windows strips. A model published on Linux under such a
/// name could not be copied to, or served from, a Windows machine, and
/// opening it there would open the device.
pub fn windows_device_name(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name);
    let stem = stem.trim_end_matches([' ', '.']).to_ascii_uppercase();
    match stem.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        _ => {
            let Some(rest) = stem
                .strip_prefix("COM")
                .or_else(|| stem.strip_prefix("LPT"))
            else {
                return false;
            };
            let mut digits = rest.chars();
            matches!(
                (digits.next(), digits.next()),
                (Some('0'..='9' | '¹' | '²' | '³'), None)
            )
        }
    }
}

/// Names of the sub-directories of `parent` that hold a manifest, sorted (for
/// "did you mean" messages and model registries).
#[cfg(not(target_arch = "wasm32"))]
pub fn list_models(parent: &std::path::Path) -> Vec<String> {
    use crate::model::manifest::MANIFEST_FILE;
    let Ok(entries) = std::fs::read_dir(if parent.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        parent
    }) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join(MANIFEST_FILE).is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names() {
        for ok in ["ceph-unet", "a", "A_1-b"] {
            assert!(valid_model_name(ok), "{ok}");
        }
        let long = "x".repeat(129);
        for bad in [
            "",
            ".x",
            "../x",
            "a/b",
            "a.b",
            "/etc",
            "é",
            long.as_str(),
            "C:",
            "a\\b",
            "CON",
            "nul",
            "Com1",
            "lpt9",
            "aux",
            "PRN",
        ] {
            assert!(!valid_model_name(bad), "{bad}");
        }
        // Close to a device name is not one.
        for ok in ["CONS", "nul-model", "com10", "lpt", "COM1x", "aux_2"] {
            assert!(valid_model_name(ok), "{ok}");
        }
    }

    #[test]
    fn windows_device_names() {
        for device in [
            "CON",
            "con.bpk",
            "NUL.tar.gz",
            "aux",
            "Prn.md",
            "COM1",
            "com9.bpk",
            "LPT0",
            "lpt3.x",
            "COM¹.bpk",
            "CONIN$",
            "conout$.bpk",
            "NUL .bpk",
            "con..bpk",
        ] {
            assert!(windows_device_name(device), "{device}");
        }
        for file in [
            "weights.bpk",
            "console.bpk",
            "com10.bpk",
            "lpt.bpk",
            "xnul.bpk",
            "a.con",
            "com.bpk",
        ] {
            assert!(!windows_device_name(file), "{file}");
        }
    }
}
