//! `agentc lsp`: a Language Server Protocol server on standard input and output. It holds
//! the workspace's `.agent` files in an [`ide::World`] (the open buffers as the editor has
//! them, the others as on disk) and answers every request from the `ide` layer; this module
//! only speaks the protocol and reads the disk.
//!
//! Diagnostics are checked again once typing pauses ([`DEBOUNCE`], at most [`MAX_DELAY`]
//! after the first edit), and only files whose text changed are parsed again. They are
//! pushed (`textDocument/publishDiagnostics`) unless the client pulls them
//! (`textDocument/diagnostic`). A request the services fail on is answered with an error;
//! the server goes on.

mod convert;

use super::files;
use crate::check::Loader;
use crate::ide::{self, World};
use convert::Lines;
use lsp_server::{Connection, ErrorCode, Message, Notification, ProtocolError, Request, Response};
use lsp_types as lsp;
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// How long typing must pause before diagnostics are checked again.
const DEBOUNCE: Duration = Duration::from_millis(50);
/// The longest diagnostics wait while typing goes on.
const MAX_DELAY: Duration = Duration::from_millis(300);

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> ExitCode {
    let (connection, threads) = Connection::stdio();
    let served = serve(connection);
    let joined = threads.join();
    match (served, joined) {
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
        (Err(error), _) => {
            note!("agentc lsp: {error}");
            ExitCode::from(1)
        }
        (_, Err(error)) => {
            note!("agentc lsp: {error}");
            ExitCode::from(1)
        }
    }
}

/// Answers on `connection` until the client says `exit` or goes away; the error is the
/// protocol broken (no `initialize` first, a message after `shutdown` …).
pub fn serve(connection: Connection) -> Result<(), ProtocolError> {
    let (id, params) = connection.initialize_start()?;
    let params: lsp::InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let result = lsp::InitializeResult {
        capabilities: capabilities(),
        server_info: Some(lsp::ServerInfo {
            name: "agentc".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    };
    let result = serde_json::to_value(result).expect("capabilities serialise");
    connection.initialize_finish(id, result)?;
    let mut server = Server::new(connection, &params);
    server.main_loop()
}

fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Kind(
            lsp::TextDocumentSyncKind::INCREMENTAL,
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        rename_provider: Some(lsp::OneOf::Right(lsp::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec![".".into(), ":".into(), " ".into()]),
            ..Default::default()
        }),
        signature_help_provider: Some(lsp::SignatureHelpOptions {
            trigger_characters: Some(vec!["(".into(), ",".into()]),
            ..Default::default()
        }),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        workspace_symbol_provider: Some(lsp::OneOf::Left(true)),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Simple(true)),
        semantic_tokens_provider: Some(
            lsp::SemanticTokensServerCapabilities::SemanticTokensOptions(
                lsp::SemanticTokensOptions {
                    legend: lsp::SemanticTokensLegend {
                        token_types: convert::TOKEN_TYPES.to_vec(),
                        token_modifiers: Vec::new(),
                    },
                    full: Some(lsp::SemanticTokensFullOptions::Bool(true)),
                    ..Default::default()
                },
            ),
        ),
        workspace: Some(lsp::WorkspaceServerCapabilities {
            workspace_folders: Some(lsp::WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(lsp::OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        diagnostic_provider: Some(lsp::DiagnosticServerCapabilities::Options(
            lsp::DiagnosticOptions {
                identifier: Some("agentc".into()),
                inter_file_dependencies: true,
                workspace_diagnostics: false,
                ..Default::default()
            },
        )),
        ..Default::default()
    }
}

/// Why a request got no answer.
type Failure = (ErrorCode, String);

struct Server {
    connection: Connection,
    world: World,
    /// The workspace folders, as paths.
    roots: Vec<String>,
    /// The files the editor has open: their text is the editor's, not the disk's.
    open: HashSet<String>,
    /// The client pulls diagnostics, so none are pushed.
    pulls: bool,
    /// When the first and the last edit not yet checked were made.
    pending: Option<(Instant, Instant)>,
    /// What was last pushed, by path, so only changes are sent.
    published: HashMap<String, Vec<lsp::Diagnostic>>,
}

impl Server {
    fn new(connection: Connection, params: &lsp::InitializeParams) -> Server {
        let mut roots: Vec<String> = params
            .workspace_folders
            .iter()
            .flatten()
            .map(|f| root_path(&f.uri))
            .collect();
        #[allow(deprecated)] // Older clients send only `rootUri`.
        if roots.is_empty() {
            roots.extend(params.root_uri.iter().map(root_path));
        }
        roots.retain(|r| r.starts_with('/'));
        let dirs: Vec<PathBuf> = roots.iter().map(PathBuf::from).collect();
        let loader: Box<dyn Loader> = match files::FsLoader::new(&dirs, &Default::default()) {
            Ok(loader) if !dirs.is_empty() => Box::new(loader),
            _ => Box::new(ide::NoFiles),
        };
        let mut world = World::new(loader);
        world.set_roots(roots.clone());
        let pulls = params
            .capabilities
            .text_document
            .as_ref()
            .is_some_and(|t| t.diagnostic.is_some());
        let mut server = Server {
            connection,
            world,
            roots,
            open: HashSet::new(),
            pulls,
            pending: None,
            published: HashMap::new(),
        };
        // The files of the workspace as on disk, so imports and references reach them.
        for path in files::discover(&dirs).unwrap_or_default() {
            if let Some(path) = path.to_str() {
                server.read_from_disk(path);
            }
        }
        if !dirs.is_empty() {
            server.edited();
        }
        server
    }

    fn read_from_disk(&mut self, path: &str) {
        let text = files::read_source(std::path::Path::new(path))
            .ok()
            .and_then(|bytes| crate::syntax::decode(&bytes).ok());
        match text {
            Some(text) => self.world.set_file(path, text),
            None => self.world.remove_file(path),
        }
    }

    fn main_loop(&mut self) -> Result<(), ProtocolError> {
        loop {
            let message = match self.pending {
                None => self
                    .connection
                    .receiver
                    .recv()
                    .map_err(|_| crossbeam_channel::RecvTimeoutError::Disconnected),
                Some((first, last)) => {
                    let wait = DEBOUNCE
                        .saturating_sub(last.elapsed())
                        .min(MAX_DELAY.saturating_sub(first.elapsed()));
                    self.connection.receiver.recv_timeout(wait)
                }
            };
            match message {
                Ok(Message::Request(request)) => {
                    if self.connection.handle_shutdown(&request)? {
                        return Ok(());
                    }
                    self.request(request);
                }
                Ok(Message::Notification(n)) if n.method == "exit" => return Ok(()),
                Ok(Message::Notification(n)) => self.notification(n),
                Ok(Message::Response(_)) => {}
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => self.publish(),
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return Ok(()),
            }
        }
    }

    fn send(&self, message: Message) {
        // The client went away: the loop ends when its messages stop.
        let _ = self.connection.sender.send(message);
    }

    fn edited(&mut self) {
        let now = Instant::now();
        self.pending = Some(match self.pending {
            Some((first, _)) => (first, now),
            None => (now, now),
        });
    }

    /// Checks again and pushes the diagnostics that changed.
    fn publish(&mut self) {
        self.pending = None;
        if self.pulls {
            return;
        }
        let found = self.world.diagnostics();
        for (path, diagnostics) in &found {
            let converted = self.convert_diagnostics(path, diagnostics);
            if self.published.get(path) == Some(&converted) {
                continue;
            }
            let Some(uri) = convert::uri_of(path) else {
                continue;
            };
            self.published.insert(path.clone(), converted.clone());
            let params = lsp::PublishDiagnosticsParams {
                uri,
                diagnostics: converted,
                version: None,
            };
            self.send(Message::Notification(Notification::new(
                lsp::notification::PublishDiagnostics::METHOD.into(),
                params,
            )));
        }
        // A file no longer in the world has no diagnostics left.
        let gone: Vec<String> = self
            .published
            .keys()
            .filter(|p| !found.iter().any(|(f, _)| f == *p))
            .cloned()
            .collect();
        for path in gone {
            self.published.remove(&path);
            if let Some(uri) = convert::uri_of(&path) {
                let params = lsp::PublishDiagnosticsParams {
                    uri,
                    diagnostics: Vec::new(),
                    version: None,
                };
                self.send(Message::Notification(Notification::new(
                    lsp::notification::PublishDiagnostics::METHOD.into(),
                    params,
                )));
            }
        }
    }

    fn convert_diagnostics(
        &self,
        path: &str,
        diagnostics: &[crate::diagnostics::Diagnostic],
    ) -> Vec<lsp::Diagnostic> {
        let lines = Lines::new(self.world.text(path).unwrap_or_default());
        diagnostics
            .iter()
            .map(|d| convert::diagnostic(d, &lines, |id| self.world.file(id)))
            .collect()
    }

    fn notification(&mut self, n: Notification) {
        use lsp::notification as note;
        match n.method.as_str() {
            note::DidOpenTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<lsp::DidOpenTextDocumentParams>(n.params)
                else {
                    return;
                };
                let path = convert::path_of(&p.text_document.uri);
                self.world.set_file(&path, p.text_document.text);
                self.open.insert(path);
                self.edited();
            }
            note::DidChangeTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<lsp::DidChangeTextDocumentParams>(n.params)
                else {
                    return;
                };
                let path = convert::path_of(&p.text_document.uri);
                let mut text = self.world.text(&path).unwrap_or_default().to_string();
                for change in p.content_changes {
                    convert::apply_change(&mut text, change);
                }
                self.world.set_file(&path, text);
                self.edited();
            }
            note::DidCloseTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<lsp::DidCloseTextDocumentParams>(n.params)
                else {
                    return;
                };
                let path = convert::path_of(&p.text_document.uri);
                self.open.remove(&path);
                // What is on disk is the file again (or nothing, for a buffer never saved).
                self.read_from_disk(&path);
                self.edited();
            }
            note::DidChangeWatchedFiles::METHOD => {
                let Ok(p) = serde_json::from_value::<lsp::DidChangeWatchedFilesParams>(n.params)
                else {
                    return;
                };
                for change in p.changes {
                    let path = convert::path_of(&change.uri);
                    if path.ends_with(".agent") && !self.open.contains(&path) {
                        self.read_from_disk(&path);
                    }
                }
                self.edited();
            }
            note::DidChangeWorkspaceFolders::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp::DidChangeWorkspaceFoldersParams>(n.params)
                else {
                    return;
                };
                let removed: Vec<String> =
                    p.event.removed.iter().map(|f| root_path(&f.uri)).collect();
                let added: Vec<String> = p.event.added.iter().map(|f| root_path(&f.uri)).collect();
                self.roots.retain(|r| !removed.contains(r));
                self.roots.extend(added.iter().cloned());
                self.world.set_roots(self.roots.clone());
                let dirs: Vec<PathBuf> = added.iter().map(PathBuf::from).collect();
                for path in files::discover(&dirs).unwrap_or_default() {
                    if let Some(path) = path.to_str() {
                        self.read_from_disk(path);
                    }
                }
                self.edited();
            }
            _ => {}
        }
    }

    fn request(&mut self, request: Request) {
        let id = request.id.clone();
        let answered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.answer(&request.method, request.params)
        }));
        let response = match answered {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err((code, message))) => Response::new_err(id, code as i32, message),
            Err(_) => Response::new_err(
                id,
                ErrorCode::InternalError as i32,
                "agentc failed on this request; please report it".into(),
            ),
        };
        self.send(Message::Response(response));
    }

    fn answer(&mut self, method: &str, params: Value) -> Result<Value, Failure> {
        use lsp::request as req;
        fn parse<P: serde::de::DeserializeOwned>(params: Value) -> Result<P, Failure> {
            serde_json::from_value(params).map_err(|e| (ErrorCode::InvalidParams, e.to_string()))
        }
        fn json<T: serde::Serialize>(value: T) -> Result<Value, Failure> {
            Ok(serde_json::to_value(value).expect("protocol types serialise"))
        }
        match method {
            req::HoverRequest::METHOD => json(self.hover(parse(params)?)),
            req::GotoDefinition::METHOD => json(self.definition(parse(params)?)),
            req::References::METHOD => json(self.references(parse(params)?)),
            req::PrepareRenameRequest::METHOD => json(self.prepare_rename(parse(params)?)?),
            req::Rename::METHOD => json(self.rename(parse(params)?)?),
            req::Completion::METHOD => json(self.completion(parse(params)?)),
            req::SignatureHelpRequest::METHOD => json(self.signature_help(parse(params)?)),
            req::Formatting::METHOD => json(self.format(parse(params)?)),
            req::DocumentSymbolRequest::METHOD => json(self.document_symbols(parse(params)?)),
            req::WorkspaceSymbolRequest::METHOD => json(self.workspace_symbols(parse(params)?)),
            req::CodeActionRequest::METHOD => json(self.code_actions(parse(params)?)),
            req::SemanticTokensFullRequest::METHOD => json(self.semantic_tokens(parse(params)?)),
            req::DocumentDiagnosticRequest::METHOD => json(self.pull(parse(params)?)),
            _ => Err((
                ErrorCode::MethodNotFound,
                format!("`{method}` is not supported"),
            )),
        }
    }

    /// The path and byte offset of a position.
    fn at(&self, p: &lsp::TextDocumentPositionParams) -> Option<(String, usize)> {
        let path = convert::path_of(&p.text_document.uri);
        let offset = Lines::new(self.world.text(&path)?).offset(p.position);
        Some((path, offset))
    }

    fn text(&self, path: &str) -> &str {
        self.world.text(path).unwrap_or_default()
    }

    /// Locations as the protocol has them (`None` for a path no URI names), each file's
    /// lines found once.
    fn locations<'l>(
        &self,
        found: impl IntoIterator<Item = &'l ide::Location>,
    ) -> Vec<Option<lsp::Location>> {
        let mut lines: HashMap<&str, Lines> = HashMap::new();
        found
            .into_iter()
            .map(|l| {
                let lines = lines
                    .entry(&l.path)
                    .or_insert_with(|| Lines::new(self.text(&l.path)));
                Some(lsp::Location {
                    uri: convert::uri_of(&l.path)?,
                    range: lines.range(l.range.clone()),
                })
            })
            .collect()
    }

    fn hover(&mut self, p: lsp::HoverParams) -> Option<lsp::Hover> {
        let (path, offset) = self.at(&p.text_document_position_params)?;
        let hover = self.world.analysis().hover(&path, offset)?;
        Some(lsp::Hover {
            contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value: hover.markdown,
            }),
            range: Some(Lines::new(self.text(&path)).range(hover.range)),
        })
    }

    fn definition(&mut self, p: lsp::GotoDefinitionParams) -> Option<lsp::GotoDefinitionResponse> {
        let (path, offset) = self.at(&p.text_document_position_params)?;
        let found = self.world.analysis().definition(&path, offset);
        let found = self.locations(&found).into_iter().flatten().collect();
        Some(lsp::GotoDefinitionResponse::Array(found))
    }

    fn references(&mut self, p: lsp::ReferenceParams) -> Option<Vec<lsp::Location>> {
        let (path, offset) = self.at(&p.text_document_position)?;
        let found = self
            .world
            .analysis()
            .references(&path, offset, p.context.include_declaration);
        Some(self.locations(&found).into_iter().flatten().collect())
    }

    /// The name an editor selects for renaming; a place with none is refused with why, which
    /// the editor shows instead of asking for a new name.
    fn prepare_rename(
        &mut self,
        p: lsp::TextDocumentPositionParams,
    ) -> Result<Option<lsp::PrepareRenameResponse>, Failure> {
        let Some((path, offset)) = self.at(&p) else {
            return Ok(None);
        };
        let range = self
            .world
            .analysis()
            .renamable(&path, offset)
            .map_err(|why| (ErrorCode::RequestFailed, why.to_string()))?;
        let range = Lines::new(self.text(&path)).range(range);
        Ok(Some(lsp::PrepareRenameResponse::Range(range)))
    }

    fn rename(&mut self, p: lsp::RenameParams) -> Result<Option<lsp::WorkspaceEdit>, Failure> {
        let Some((path, offset)) = self.at(&p.text_document_position) else {
            return Ok(None);
        };
        let edits = self
            .world
            .analysis()
            .rename(&path, offset, &p.new_name)
            .map_err(|why| (ErrorCode::RequestFailed, why.to_string()))?;
        Ok(Some(self.workspace_edit(&edits)))
    }

    fn workspace_edit(&self, edits: &ide::WorkspaceEdit) -> lsp::WorkspaceEdit {
        let changes = edits
            .iter()
            .filter_map(|(path, edits)| {
                Some((
                    convert::uri_of(path)?,
                    convert::edits(self.text(path), edits),
                ))
            })
            .collect();
        lsp::WorkspaceEdit {
            changes: Some(changes),
            ..Default::default()
        }
    }

    fn completion(&mut self, p: lsp::CompletionParams) -> Option<lsp::CompletionResponse> {
        let (path, offset) = self.at(&p.text_document_position)?;
        let analysis = self.world.analysis();
        let offer = analysis.completion(&path, offset)?;
        let names = analysis.names(&path);
        let text = self.text(&path);
        let range = Lines::new(text).range(offer.start..offset);
        let items = offer
            .words
            .into_iter()
            .map(|word| {
                let label = word.trim_end_matches(['(', ' ', ':']).to_string();
                let kind = if word.ends_with('(') {
                    lsp::CompletionItemKind::FUNCTION
                } else if word.ends_with(": ") {
                    lsp::CompletionItemKind::FIELD
                } else if crate::syntax::is_keyword(&label) {
                    lsp::CompletionItemKind::KEYWORD
                } else if names.kind_of(&label).is_some() {
                    lsp::CompletionItemKind::REFERENCE
                } else {
                    lsp::CompletionItemKind::VALUE
                };
                lsp::CompletionItem {
                    label,
                    kind: Some(kind),
                    text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit {
                        range,
                        new_text: word,
                    })),
                    ..Default::default()
                }
            })
            .collect();
        Some(lsp::CompletionResponse::Array(items))
    }

    fn signature_help(&mut self, p: lsp::SignatureHelpParams) -> Option<lsp::SignatureHelp> {
        let (path, offset) = self.at(&p.text_document_position_params)?;
        let sig = self.world.analysis().signature_help(&path, offset)?;
        let parameters = sig
            .params
            .iter()
            .map(|r| lsp::ParameterInformation {
                label: lsp::ParameterLabel::LabelOffsets([
                    sig.label[..r.start].encode_utf16().count() as u32,
                    sig.label[..r.end].encode_utf16().count() as u32,
                ]),
                documentation: None,
            })
            .collect();
        Some(lsp::SignatureHelp {
            signatures: vec![lsp::SignatureInformation {
                label: sig.label.clone(),
                documentation: Some(lsp::Documentation::MarkupContent(lsp::MarkupContent {
                    kind: lsp::MarkupKind::Markdown,
                    value: sig.doc.clone(),
                })),
                parameters: Some(parameters),
                active_parameter: sig.active.map(|a| a as u32),
            }],
            active_signature: Some(0),
            active_parameter: sig.active.map(|a| a as u32),
        })
    }

    fn format(&mut self, p: lsp::DocumentFormattingParams) -> Option<Vec<lsp::TextEdit>> {
        let path = convert::path_of(&p.text_document.uri);
        let formatted = self.world.analysis().format(&path)?;
        let text = self.text(&path);
        if formatted == text {
            return Some(Vec::new());
        }
        Some(vec![lsp::TextEdit {
            range: Lines::new(text).range(0..text.len()),
            new_text: formatted,
        }])
    }

    fn document_symbols(
        &mut self,
        p: lsp::DocumentSymbolParams,
    ) -> Option<lsp::DocumentSymbolResponse> {
        let path = convert::path_of(&p.text_document.uri);
        let symbols = self.world.analysis().document_symbols(&path);
        let text = self.text(&path);
        let lines = Lines::new(text);
        let converted = symbols.iter().map(|s| document_symbol(&lines, s)).collect();
        Some(lsp::DocumentSymbolResponse::Nested(converted))
    }

    fn workspace_symbols(
        &mut self,
        p: lsp::WorkspaceSymbolParams,
    ) -> Option<lsp::WorkspaceSymbolResponse> {
        let found = self.world.analysis().workspace_symbols(&p.query);
        let locations = self.locations(found.iter().map(|(location, _)| location));
        let symbols = found
            .iter()
            .zip(locations)
            .filter_map(|((_, symbol), location)| {
                #[allow(deprecated)] // `deprecated` is a field every literal must name.
                Some(lsp::SymbolInformation {
                    name: symbol.name.clone(),
                    kind: symbol_kind(symbol.kind),
                    tags: None,
                    deprecated: None,
                    location: location?,
                    container_name: None,
                })
            })
            .collect();
        Some(lsp::WorkspaceSymbolResponse::Flat(symbols))
    }

    fn code_actions(&mut self, p: lsp::CodeActionParams) -> Option<lsp::CodeActionResponse> {
        let path = convert::path_of(&p.text_document.uri);
        let diagnostics = self
            .world
            .diagnostics()
            .into_iter()
            .find(|(f, _)| *f == path)
            .map(|(_, d)| d)
            .unwrap_or_default();
        let range = Lines::new(self.text(&path)).byte_range(p.range);
        let actions = self
            .world
            .analysis()
            .code_actions(&path, range, &diagnostics);
        let text = self.text(&path).to_string();
        let lines = Lines::new(&text);
        let converted = actions
            .iter()
            .map(|a| {
                let fixes = a
                    .fixes
                    .as_ref()
                    .map(|d| vec![convert::diagnostic(d, &lines, |id| self.world.file(id))]);
                lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                    title: a.title.clone(),
                    kind: Some(lsp::CodeActionKind::QUICKFIX),
                    diagnostics: fixes,
                    edit: Some(self.workspace_edit(&a.edit)),
                    is_preferred: Some(a.fixes.is_some()),
                    ..Default::default()
                })
            })
            .collect();
        Some(converted)
    }

    fn semantic_tokens(
        &mut self,
        p: lsp::SemanticTokensParams,
    ) -> Option<lsp::SemanticTokensResult> {
        let path = convert::path_of(&p.text_document.uri);
        let stretches = self.world.analysis().highlight(&path);
        let data = convert::semantic_tokens(self.text(&path), &stretches);
        Some(lsp::SemanticTokensResult::Tokens(lsp::SemanticTokens {
            result_id: None,
            data,
        }))
    }

    fn pull(&mut self, p: lsp::DocumentDiagnosticParams) -> lsp::DocumentDiagnosticReportResult {
        let path = convert::path_of(&p.text_document.uri);
        let found = self
            .world
            .diagnostics()
            .into_iter()
            .find(|(f, _)| *f == path)
            .map(|(_, d)| d)
            .unwrap_or_default();
        let items = self.convert_diagnostics(&path, &found);
        lsp::DocumentDiagnosticReportResult::Report(lsp::DocumentDiagnosticReport::Full(
            lsp::RelatedFullDocumentDiagnosticReport {
                related_documents: None,
                full_document_diagnostic_report: lsp::FullDocumentDiagnosticReport {
                    result_id: None,
                    items,
                },
            },
        ))
    }
}

/// A workspace folder's path, without a trailing `/`.
fn root_path(uri: &lsp::Url) -> String {
    let mut path = convert::path_of(uri);
    while path.len() > 1 && path.ends_with('/') {
        path.pop();
    }
    path
}

fn symbol_kind(kind: ide::index::SymbolKind) -> lsp::SymbolKind {
    use ide::index::SymbolKind as K;
    match kind {
        K::Agent => lsp::SymbolKind::MODULE,
        K::Target => lsp::SymbolKind::NAMESPACE,
        K::Task => lsp::SymbolKind::METHOD,
        K::Action => lsp::SymbolKind::FUNCTION,
        K::Reply => lsp::SymbolKind::STRING,
        K::Usecase => lsp::SymbolKind::ENUM,
        K::Block => lsp::SymbolKind::ENUM_MEMBER,
        K::Param => lsp::SymbolKind::VARIABLE,
        K::Binding => lsp::SymbolKind::EVENT,
        K::Test => lsp::SymbolKind::CLASS,
        K::Import => lsp::SymbolKind::FILE,
    }
}

fn document_symbol(lines: &Lines, s: &ide::index::Symbol) -> lsp::DocumentSymbol {
    #[allow(deprecated)] // `deprecated` is a field every literal must name.
    lsp::DocumentSymbol {
        name: s.name.clone(),
        detail: Some(s.kind.keyword().to_string()),
        kind: symbol_kind(s.kind),
        tags: None,
        deprecated: None,
        range: lines.range(s.range.clone()),
        selection_range: lines.range(s.selection.clone()),
        children: (!s.children.is_empty()).then(|| {
            s.children
                .iter()
                .map(|c| document_symbol(lines, c))
                .collect()
        }),
    }
}
