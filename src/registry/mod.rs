//! The model registry: the names a registry accepts, the folder of published
//! models, and (natively) the client that uploads to a fairmark server. The
//! server and the CLI share these, so both refuse the same names.
#[cfg(not(target_arch = "wasm32"))]
pub mod client;

/// Environment variable that holds the bearer token for publishing.
pub const TOKEN_ENV: &str = "FAIRMARK_TOKEN";

/// Whether a model name is one a registry accepts: 1 to 128 of ASCII letters,
/// digits, `-` and `_` (so never hidden, never a path).
pub fn valid_model_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
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
        for bad in ["", ".x", "../x", "a/b", "a.b", "/etc", "é", long.as_str()] {
            assert!(!valid_model_name(bad), "{bad}");
        }
    }
}
