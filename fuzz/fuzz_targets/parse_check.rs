//! Arbitrary bytes through the front end: decode, parse, check. Nothing may panic, hang or
//! overflow, and every diagnostic must point inside the text it names.

#![no_main]

use agentc::check::{check_program, LoadError, Loader};
use agentc::diagnostics::SourceMap;
use agentc::syntax;
use libfuzzer_sys::fuzz_target;

/// Imports resolve to nothing: the fuzzer explores one file at a time.
struct NoFiles;

impl Loader for NoFiles {
    fn load(&mut self, path: &str) -> Result<String, LoadError> {
        Err(format!("{path}: not found").into())
    }
}

fuzz_target!(|bytes: &[u8]| {
    let text = match syntax::decode(bytes) {
        Ok(text) => text,
        Err(error) => error.text,
    };
    let parsed = syntax::parse(Default::default(), &text);
    for diagnostic in &parsed.diagnostics {
        for label in &diagnostic.labels {
            let range = label.span.range();
            assert!(range.end <= text.len() && range.start <= range.end);
            assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
        }
    }
    let mut sources = SourceMap::new();
    let root = sources.add("fuzz.agent", text);
    let _ = check_program(&mut sources, root, &mut NoFiles);
});
