//! Matches normalised path segments against the rows' path templates. The templates are
//! compiled into a tree once; a request walks it segment by segment, so that the first segment
//! no template accepts is the one Graph names ("Resource not found for the segment 'X'").
//!
//! What one template segment accepts (Graph's URL conventions, `super::path`):
//! - a literal: the name, case-insensitively; followed by a `{key}`, also `name('key')`;
//! - `{key}`: any segment without parentheses that does not start with `$`;
//! - `$count`: that, case-insensitively (Graph: "path URL resource names … are case
//!   insensitive", as `$metadata` already was);
//! - `microsoft.graph.{type}`: the cast, also `graph.`-qualified, case-insensitively;
//! - an operation (a function `name()` / `name(args)`, or the last segment of an action's
//!   row): the name bare or `microsoft.graph.`/`graph.`-qualified, with or without
//!   parentheses; their text is kept as the function's arguments.

use super::error::ApiError;
use super::path::Segment;
use super::table::{Operation, Params};

/// A compiled operation table.
pub struct Table {
    rows: &'static [Operation],
    root: Node,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Count,
    Cast(&'static str),
    Operation { name: &'static str, weak: bool },
    Literal(&'static str),
    Key(&'static str),
}

impl Step {
    /// Matching priority among siblings: the fixed forms before a key.
    fn rank(&self) -> u8 {
        match self {
            Self::Count => 0,
            Self::Cast(_) => 1,
            Self::Operation { .. } => 2,
            Self::Literal(_) => 3,
            Self::Key(_) => 4,
        }
    }
}

struct Node {
    step: Step,
    children: Vec<Node>,
    rows: Vec<&'static Operation>,
    not_built: Option<&'static str>,
    not_built_below: bool,
}

impl Node {
    fn new(step: Step) -> Self {
        Self {
            step,
            children: Vec::new(),
            rows: Vec::new(),
            not_built: None,
            not_built_below: false,
        }
    }

    fn child(&mut self, step: Step) -> &mut Node {
        if !self.children.iter().any(|c| c.step == step) {
            self.children.push(Node::new(step));
            self.children.sort_by_key(|c| c.step.rank());
        }
        let at = self
            .children
            .iter()
            .position(|c| c.step == step)
            .unwrap_or_default();
        &mut self.children[at]
    }

    fn key_child(&self) -> Option<&Node> {
        self.children
            .iter()
            .find(|c| matches!(c.step, Step::Key(_)))
    }
}

/// What a request path reached.
pub struct Found {
    /// The rows at the path, one per method.
    pub rows: &'static [&'static Operation],
    /// The path parameters.
    pub params: Params,
}

/// How a template's last plain segment is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// A literal segment (a collection or a property).
    Literal,
    /// An operation.
    Operation,
    /// A legacy operation: bound to a collection, it gives way to a key unless written as a
    /// call or last (`…/depOnboardingSettings/uploadDepToken/enrollmentProfiles` names a
    /// setting).
    WeakOperation,
}

impl Tail {
    fn of(row: &Operation) -> Self {
        match (row.request.is_action(), row.legacy.is_some()) {
            (false, _) => Self::Literal,
            (true, false) => Self::Operation,
            (true, true) => Self::WeakOperation,
        }
    }
}

/// The steps of a path template, its last plain segment read as `tail` says.
fn compile(path: &'static str, tail: Tail) -> Vec<Step> {
    let parts: Vec<&'static str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let last = parts.len().saturating_sub(1);
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Step::Key(name)
            } else if *part == "$count" {
                Step::Count
            } else if let Some(name) = part.strip_prefix("microsoft.graph.") {
                Step::Cast(name)
            } else if let Some(open) = part.find('(') {
                Step::Operation {
                    name: &part[..open],
                    weak: false,
                }
            } else if tail != Tail::Literal && i == last {
                Step::Operation {
                    name: part,
                    weak: tail == Tail::WeakOperation,
                }
            } else {
                Step::Literal(part)
            }
        })
        .collect()
}

/// The type name of a `microsoft.graph.{type}` / `graph.{type}` segment, if it is `expected`.
fn is_cast(seg: &Segment, expected: &str) -> bool {
    let lower = seg.name.to_ascii_lowercase();
    lower
        .strip_prefix("microsoft.graph.")
        .or_else(|| lower.strip_prefix("graph."))
        .is_some_and(|name| name.eq_ignore_ascii_case(expected))
}

impl Table {
    /// Compiles `rows` (and the known-but-unbuilt members: template, name, whether unknown
    /// segments right below it are unbuilt too).
    pub fn new(
        rows: &'static [Operation],
        not_built: &[(&'static str, &'static str, bool)],
    ) -> Self {
        let mut root = Node::new(Step::Literal(""));
        for row in rows {
            let steps = compile(&row.path, Tail::of(row));
            let node = steps.into_iter().fold(&mut root, Node::child);
            node.rows.push(row);
        }
        for &(path, name, below) in not_built {
            let parts = path.split('/').filter(|s| !s.is_empty()).count();
            let node = compile(path, Tail::Literal)
                .into_iter()
                .enumerate()
                .map(|(i, step)| match step {
                    // A member of an entity (below a key) is a bound operation.
                    Step::Literal(name) if i + 1 == parts && path.contains('}') => {
                        Step::Operation { name, weak: false }
                    }
                    other => other,
                })
                .fold(&mut root, Node::child);
            node.not_built = Some(name);
            node.not_built_below = below;
        }
        Self { rows, root }
    }

    /// Every row, in table order.
    pub fn rows(&self) -> &'static [Operation] {
        self.rows
    }

    /// The rows `segments` (below `/beta`) reach, or Graph's error for the path.
    pub fn find(&'static self, segments: &[Segment]) -> Result<Found, ApiError> {
        let Some(last_seg) = segments.last() else {
            return Err(ApiError::SegmentNotFound(String::new()));
        };
        let mut node = &self.root;
        let mut params = Params::default();
        for (i, seg) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            match Self::step(node, seg, i == 0, last, &mut params) {
                Some(next) => node = next,
                None if node.not_built_below => {
                    return Err(ApiError::NotImplemented(
                        node.not_built.unwrap_or_default().to_owned(),
                    ));
                }
                None => return Err(ApiError::SegmentNotFound(seg.name.clone())),
            }
        }
        if node.rows.is_empty() {
            return Err(match node.not_built {
                Some(name) => ApiError::NotImplemented(name.to_owned()),
                None => ApiError::SegmentNotFound(last_seg.name.clone()),
            });
        }
        Ok(Found {
            rows: &node.rows,
            params,
        })
    }

    /// The child of `node` that accepts `seg`, recording what it binds.
    fn step<'n>(
        node: &'n Node,
        seg: &Segment,
        first: bool,
        last: bool,
        params: &mut Params,
    ) -> Option<&'n Node> {
        for child in &node.children {
            match child.step {
                Step::Count if seg.is("$count") => return Some(child),
                Step::Cast(name) if is_cast(seg, name) => {
                    params.cast = Some(name);
                    return Some(child);
                }
                // A weak (legacy collection-bound) operation gives way to a sibling key unless
                // it is written as a call or ends the path.
                Step::Operation { name, weak }
                    if seg.is_operation(name)
                        && (!weak || last || seg.args.is_some() || node.key_child().is_none()) =>
                {
                    params.member = name;
                    params.args.clone_from(&seg.args);
                    return Some(child);
                }
                Step::Literal(name) if seg.is(name) => {
                    let key_child = child.key_child();
                    if let (Some(key), Some(keyed)) = (seg.key(), key_child)
                        && let Step::Key(param) = keyed.step
                    {
                        params.member = name;
                        params.keys.push((param, key));
                        return Some(keyed);
                    }
                    // GRAPH-COMPAT: `name()` is the collection; parentheses on a root
                    // singleton or a namespaced segment are not Graph's.
                    let plain = seg.args.is_none()
                        || key_child.is_some()
                        || (!first && !name.contains('.'));
                    if plain {
                        params.member = name;
                        return Some(child);
                    }
                }
                Step::Key(param) if seg.args.is_none() && !seg.name.starts_with('$') => {
                    params.keys.push((param, seg.name.clone()));
                    return Some(child);
                }
                _ => {}
            }
        }
        None
    }
}
