//! Where the REPL keeps its history: `$AGENTC_HISTORY`, else
//! `$XDG_STATE_HOME/agentc/history`, else `~/.local/state/agentc/history`.

use std::path::PathBuf;

/// The history file for this environment, or `None` when no home can be found (the session
/// then simply keeps no history).
pub fn path() -> Option<PathBuf> {
    locate(|name| std::env::var_os(name).filter(|v| !v.is_empty()))
}

fn locate(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    if let Some(file) = var("AGENTC_HISTORY") {
        return Some(PathBuf::from(file));
    }
    let state = var("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".local/state")))?;
    Some(state.join("agentc").join("history"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn with(vars: &[(&str, &str)]) -> Option<PathBuf> {
        locate(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn explicit_file_wins() {
        let found = with(&[("AGENTC_HISTORY", "/tmp/h"), ("XDG_STATE_HOME", "/s")]);
        assert_eq!(found, Some(PathBuf::from("/tmp/h")));
    }

    #[test]
    fn xdg_state_home_then_home() {
        assert_eq!(
            with(&[("XDG_STATE_HOME", "/s"), ("HOME", "/h")]),
            Some(PathBuf::from("/s/agentc/history"))
        );
        // The XDG spec says relative values are to be ignored.
        assert_eq!(
            with(&[("XDG_STATE_HOME", "rel"), ("HOME", "/h")]),
            Some(PathBuf::from("/h/.local/state/agentc/history"))
        );
        assert_eq!(with(&[]), None);
    }
}
