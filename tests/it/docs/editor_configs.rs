//! The editor set-ups of docs/editors.md hold: every ```toml block of the docs is TOML
//! and every ```lua block is Lua (unless marked `<!-- illustrative -->`), the Helix one
//! declares the `agent` language served by `agentc lsp`, the Neovim ones start
//! `agentc lsp`, and the VS Code one installs the `.vsix` that `npm run package` writes.

use super::markdown::{all_blocks, blocks, Block, ROOT};
use std::path::Path;

fn checked(info: &str) -> Vec<Block> {
    all_blocks()
        .into_iter()
        .filter(|b| b.info == info && b.marker.as_deref() != Some("illustrative"))
        .collect()
}

fn editors_md() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("docs/editors.md")).expect("docs/editors.md")
}

#[test]
fn every_toml_block_in_the_docs_parses() {
    for block in checked("toml") {
        if let Err(error) = block.text.parse::<toml::Table>() {
            panic!("{}: not TOML: {error}", block.place());
        }
    }
}

#[test]
fn every_lua_block_in_the_docs_parses() {
    for block in checked("lua") {
        if let Err(errors) = full_moon::parse(&block.text) {
            let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("{}: not Lua:\n{}", block.place(), errors.join("\n"));
        }
    }
}

/// The Helix block: the `agent` language for `*.agent`, with the server `agentc lsp`.
#[test]
fn the_helix_setup_serves_agent_files_with_agentc_lsp() {
    let doc = editors_md();
    let helix: Vec<toml::Table> = blocks("docs/editors.md", &doc)
        .iter()
        .filter(|b| b.info == "toml")
        .map(|b| b.text.parse().expect("TOML"))
        .collect();
    let [config] = helix.as_slice() else {
        panic!("docs/editors.md should show one languages.toml");
    };
    let server = &config["language-server"]["agentc"];
    assert_eq!(server["command"].as_str(), Some("agentc"));
    assert_eq!(
        server["args"].as_array().unwrap(),
        &vec![toml::Value::from("lsp")]
    );
    let languages = config["language"].as_array().expect("[[language]]");
    let agent = languages
        .iter()
        .find(|l| l["name"].as_str() == Some("agent"))
        .expect("a language named agent");
    let has = |key: &str, value: &str| {
        agent[key]
            .as_array()
            .is_some_and(|items| items.iter().any(|i| i.as_str() == Some(value)))
    };
    assert!(
        has("file-types", "agent"),
        "`.agent` files are not the language's"
    );
    assert!(
        has("language-servers", "agentc"),
        "the language has no agentc server"
    );
    assert!(has("comment-tokens", "//"), "the line comment is `//`");
    assert_eq!(agent["block-comment-tokens"]["start"].as_str(), Some("/*"));
    assert_eq!(agent["block-comment-tokens"]["end"].as_str(), Some("*/"));
}

/// Each Neovim block that starts a client starts `agentc lsp`, and the file type it
/// serves is the one `vim.filetype.add` gives `.agent` files.
#[test]
fn the_neovim_setups_start_agentc_lsp_for_agent_files() {
    let doc = editors_md();
    let lua: Vec<String> = blocks("docs/editors.md", &doc)
        .into_iter()
        .filter(|b| b.info == "lua")
        .map(|b| b.text.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert!(
        lua.iter()
            .any(|l| l.contains(r#"vim.filetype.add({ extension = { agent = "agent" } })"#)),
        "no block maps `.agent` to the `agent` file type"
    );
    let clients: Vec<&String> = lua
        .iter()
        .filter(|l| l.contains("vim.lsp.config(") || l.contains("vim.lsp.start("))
        .collect();
    assert_eq!(clients.len(), 2, "the 0.11 and the 0.8–0.10 set-ups");
    for client in clients {
        assert!(client.contains(r#"cmd = { "agentc", "lsp" }"#), "{client}");
        assert!(
            client.contains(r#"filetypes = { "agent" }"#)
                || client.contains(r#"pattern = "agent""#),
            "{client}"
        );
    }
}

/// The VS Code set-up names the `.vsix` and the extension folder as `vsce` and VS Code
/// spell them from editors/vscode/package.json: bumping its version fails here until the
/// docs follow.
#[test]
fn the_vscode_setup_installs_what_vsce_packages() {
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(ROOT).join("editors/vscode/package.json"))
            .expect("editors/vscode/package.json"),
    )
    .expect("package.json is JSON");
    let field = |key: &str| manifest[key].as_str().expect(key).to_string();
    let (name, version, publisher) = (field("name"), field("version"), field("publisher"));
    let doc = editors_md();
    for wanted in [
        "npm run package".to_string(),
        format!("code --install-extension {name}-{version}.vsix"),
        format!("~/.vscode/extensions/{publisher}.{name}-{version}"),
    ] {
        assert!(
            doc.contains(&wanted),
            "docs/editors.md does not say `{wanted}`"
        );
    }
    let settings = manifest["contributes"]["configuration"]["properties"]
        .as_object()
        .expect("the extension's settings");
    for setting in settings.keys() {
        assert!(
            doc.contains(&format!("`{setting}`")),
            "docs/editors.md does not describe the setting `{setting}`"
        );
    }
}
