//! The subset of Python's `re` that spaCy's tokenizer patterns use, matched with Python's own
//! semantics.
//!
//! Patterns arrive as parse trees produced by Python's `re._parser` (`tools/gen_langs.py`), with
//! every character class already evaluated by CPython 3.11 into code-point ranges (so `\w`, `\d`,
//! `\s` and IGNORECASE mean what they mean in Python, not in Rust's `regex`). The matcher is a
//! backtracking one, like `sre`: alternatives are tried in order, repeats are greedy, the first
//! success wins; look-ahead and fixed-width look-behind are supported. What it adds is a filter:
//! every alternative carries the set of characters it can start with, so an alternative is only
//! tried where it can match (spaCy's prefix/suffix/infix patterns are alternations of 100+ pieces).
//!
//! Positions are byte offsets into a `&str`.

use std::sync::Arc;

/// A set of characters: ASCII as a bitmap, the rest as sorted inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CharSet {
    ascii: u128,
    ranges: Vec<(u32, u32)>,
}

impl CharSet {
    /// Build from sorted, disjoint inclusive ranges.
    pub(crate) fn from_ranges(rs: &[(u32, u32)]) -> Self {
        let mut ascii = 0u128;
        let mut ranges = Vec::new();
        for &(lo, hi) in rs {
            for c in lo..=hi.min(127) {
                ascii |= 1u128 << c;
            }
            if hi >= 128 {
                ranges.push((lo.max(128), hi));
            }
        }
        CharSet { ascii, ranges }
    }

    #[inline]
    pub(crate) fn contains(&self, c: char) -> bool {
        let c = c as u32;
        if c < 128 {
            return self.ascii >> c & 1 == 1;
        }
        self.ranges
            .binary_search_by(|&(lo, hi)| {
                if hi < c {
                    std::cmp::Ordering::Less
                } else if lo > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    }

    fn union(&self, other: &CharSet) -> CharSet {
        let mut all: Vec<(u32, u32)> = self.ranges.iter().chain(&other.ranges).copied().collect();
        all.sort_unstable();
        let mut ranges: Vec<(u32, u32)> = Vec::with_capacity(all.len());
        for (lo, hi) in all {
            match ranges.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => ranges.push((lo, hi)),
            }
        }
        CharSet {
            ascii: self.ascii | other.ascii,
            ranges,
        }
    }

    fn single(c: char) -> CharSet {
        CharSet::from_ranges(&[(c as u32, c as u32)])
    }
}

/// What an expression can start with: `any` (no filter), or a set; `nullable` if it can match
/// without consuming a character (then it must be tried everywhere, also at the end).
#[derive(Debug, Clone, Default)]
struct First {
    any: bool,
    nullable: bool,
    set: CharSet,
}

impl First {
    #[inline]
    fn admits(&self, c: Option<char>) -> bool {
        self.any
            || self.nullable
            || match c {
                Some(c) => self.set.contains(c),
                None => false,
            }
    }
}

#[derive(Debug)]
enum Node {
    Lit(char),
    NotLit(char),
    Any,
    Class(Arc<CharSet>),
    Branch(Vec<(Vec<Node>, First)>),
    Group(Vec<Node>),
    /// Greedy repeat; `max == u32::MAX` is unbounded. `single` when the body is one node that
    /// always consumes exactly one character (then repeated without recursion).
    Repeat {
        min: u32,
        max: u32,
        body: Vec<Node>,
        single: bool,
    },
    Look {
        behind: bool,
        neg: bool,
        width: usize,
        body: Vec<Node>,
    },
    Bol,
    Eol,
}

/// Error in generated pattern data (a bug in the generator or the data file).
#[derive(Debug)]
pub(crate) struct BadPattern(pub(crate) String);

fn conv_seq(v: &serde_json::Value, classes: &[Arc<CharSet>]) -> Result<Vec<Node>, BadPattern> {
    let arr = v
        .as_array()
        .ok_or_else(|| BadPattern(format!("sequence expected, got {v}")))?;
    arr.iter().map(|n| conv_node(n, classes)).collect()
}

fn as_u32(v: &serde_json::Value) -> Result<u32, BadPattern> {
    v.as_u64()
        .and_then(|x| u32::try_from(x).ok())
        .ok_or_else(|| BadPattern(format!("integer expected, got {v}")))
}

fn as_char(v: &serde_json::Value) -> Result<char, BadPattern> {
    char::from_u32(as_u32(v)?).ok_or_else(|| BadPattern(format!("code point expected, got {v}")))
}

fn conv_node(v: &serde_json::Value, classes: &[Arc<CharSet>]) -> Result<Node, BadPattern> {
    let arr = v
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| BadPattern(format!("node expected, got {v}")))?;
    let tag = arr[0].as_str().unwrap_or("");
    let arg = |i: usize| -> Result<&serde_json::Value, BadPattern> {
        arr.get(i)
            .ok_or_else(|| BadPattern(format!("node {v}: missing argument {i}")))
    };
    Ok(match tag {
        "c" => Node::Lit(as_char(arg(1)?)?),
        "n" => Node::NotLit(as_char(arg(1)?)?),
        "." => Node::Any,
        "k" => {
            let id = as_u32(arg(1)?)? as usize;
            Node::Class(
                classes
                    .get(id)
                    .cloned()
                    .ok_or_else(|| BadPattern(format!("class {id} out of range")))?,
            )
        }
        "|" => {
            let alts = arg(1)?
                .as_array()
                .ok_or_else(|| BadPattern(format!("alternatives expected in {v}")))?;
            let mut out = Vec::with_capacity(alts.len());
            for a in alts {
                let seq = conv_seq(a, classes)?;
                let f = first(&seq);
                out.push((seq, f));
            }
            Node::Branch(out)
        }
        "g" => Node::Group(conv_seq(arg(1)?, classes)?),
        "r" => {
            let min = as_u32(arg(1)?)?;
            let max = match arg(2)?.as_i64() {
                Some(-1) => u32::MAX,
                _ => as_u32(arg(2)?)?,
            };
            let body = conv_seq(arg(3)?, classes)?;
            let single = body.len() == 1
                && matches!(
                    body[0],
                    Node::Lit(_) | Node::NotLit(_) | Node::Any | Node::Class(_)
                );
            Node::Repeat {
                min,
                max,
                body,
                single,
            }
        }
        "a" => {
            let dir = arg(1)?.as_i64().unwrap_or(0);
            let neg = arg(2)?.as_i64().unwrap_or(0) == 1;
            let body = conv_seq(arg(3)?, classes)?;
            let width = if dir == -1 {
                fixed_width(&body)
                    .ok_or_else(|| BadPattern(format!("look-behind without a fixed width: {v}")))?
            } else {
                0
            };
            Node::Look {
                behind: dir == -1,
                neg,
                width,
                body,
            }
        }
        "^" => Node::Bol,
        "$" => Node::Eol,
        _ => return Err(BadPattern(format!("unknown node {v}"))),
    })
}

/// Width in characters of a sequence that always consumes the same number of characters.
fn fixed_width(seq: &[Node]) -> Option<usize> {
    let mut w = 0usize;
    for n in seq {
        w += match n {
            Node::Lit(_) | Node::NotLit(_) | Node::Any | Node::Class(_) => 1,
            Node::Group(b) => fixed_width(b)?,
            Node::Branch(alts) => {
                let mut ws = alts.iter().map(|(a, _)| fixed_width(a));
                let first = ws.next()??;
                for x in ws {
                    if x? != first {
                        return None;
                    }
                }
                first
            }
            Node::Repeat { min, max, body, .. } if min == max => {
                fixed_width(body)? * (*min as usize)
            }
            Node::Repeat { .. } => return None,
            Node::Look { .. } | Node::Bol | Node::Eol => 0,
        };
    }
    Some(w)
}

/// What `seq` can start with.
fn first(seq: &[Node]) -> First {
    let mut acc = First {
        any: false,
        nullable: true,
        set: CharSet::default(),
    };
    for n in seq {
        let f = match n {
            Node::Lit(c) => First {
                any: false,
                nullable: false,
                set: CharSet::single(*c),
            },
            Node::NotLit(_) | Node::Any => First {
                any: true,
                nullable: false,
                set: CharSet::default(),
            },
            Node::Class(cs) => First {
                any: false,
                nullable: false,
                set: (**cs).clone(),
            },
            Node::Branch(alts) => {
                let mut f = First::default();
                for (_, af) in alts {
                    f.any |= af.any;
                    f.nullable |= af.nullable;
                    f.set = f.set.union(&af.set);
                }
                f
            }
            Node::Group(b) => first(b),
            Node::Repeat { min, body, .. } => {
                let mut f = first(body);
                if *min == 0 {
                    f.nullable = true;
                }
                f
            }
            Node::Look { .. } | Node::Bol | Node::Eol => continue,
        };
        acc.any |= f.any;
        acc.set = acc.set.union(&f.set);
        if !f.nullable {
            acc.nullable = false;
            break;
        }
    }
    acc
}

/// A compiled pattern.
#[derive(Debug)]
pub(crate) struct Pattern {
    nodes: Vec<Node>,
    first: First,
    /// The pattern starts with `^` (spaCy's prefix patterns): `search` only needs position 0.
    anchored: bool,
}

/// Deepest nesting of general (non single-character) repeats before a match attempt gives up,
/// so a pathological input cannot overflow the stack (Python's `sre` is iterative).
const MAX_DEPTH: usize = 20_000;

#[inline]
fn char_at(s: &str, pos: usize) -> Option<char> {
    s[pos..].chars().next()
}

#[derive(Clone, Copy)]
struct Ctx<'s> {
    s: &'s str,
    depth: usize,
}

impl Pattern {
    /// Build from a generated parse tree, with the shared class table.
    pub(crate) fn from_json(
        v: &serde_json::Value,
        classes: &[Arc<CharSet>],
    ) -> Result<Self, BadPattern> {
        let nodes = conv_seq(v, classes)?;
        let first = first(&nodes);
        let anchored = matches!(nodes.first(), Some(Node::Bol));
        Ok(Pattern {
            nodes,
            first,
            anchored,
        })
    }

    /// `pattern.match(s, pos)` with `sre`'s `must_advance` (an empty match at `pos` is
    /// rejected): the end of the match, if any.
    fn match_at(&self, s: &str, pos: usize, must_advance: bool) -> Option<usize> {
        let ctx = Ctx { s, depth: 0 };
        let mut end = None;
        let ok = m(ctx, &self.nodes, pos, &mut |e| {
            if must_advance && e == pos {
                false
            } else {
                end = Some(e);
                true
            }
        });
        if ok { end } else { None }
    }

    /// `bool(pattern.match(s))`.
    pub(crate) fn is_match_start(&self, s: &str) -> bool {
        self.first.admits(char_at(s, 0)) && self.match_at(s, 0, false).is_some()
    }

    /// `pattern.search(s)` as `(start, end)`.
    pub(crate) fn search(&self, s: &str) -> Option<(usize, usize)> {
        if self.anchored {
            return self.match_at(s, 0, false).map(|e| (0, e));
        }
        let mut pos = 0usize;
        loop {
            let c = char_at(s, pos);
            if self.first.admits(c)
                && let Some(e) = self.match_at(s, pos, false)
            {
                return Some((pos, e));
            }
            match c {
                Some(c) => pos += c.len_utf8(),
                None => return None,
            }
        }
    }

    /// `[(m.start(), m.end()) for m in pattern.finditer(s)]`.
    pub(crate) fn find_iter(&self, s: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut pos = 0usize;
        let mut must_advance = false;
        while pos <= s.len() {
            let c = char_at(s, pos);
            let found = if self.first.admits(c) {
                self.match_at(s, pos, must_advance)
            } else {
                None
            };
            match found {
                Some(e) => {
                    out.push((pos, e));
                    must_advance = e == pos;
                    pos = e;
                }
                None => {
                    must_advance = false;
                    match c {
                        Some(c) => pos += c.len_utf8(),
                        None => break,
                    }
                }
            }
        }
        out
    }
}

/// Match `seq` at `pos`, then call `k` with the end position; backtrack while `k` says no.
fn m(ctx: Ctx<'_>, seq: &[Node], pos: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
    let Some((node, rest)) = seq.split_first() else {
        return k(pos);
    };
    let s = ctx.s;
    match node {
        Node::Lit(_) | Node::NotLit(_) | Node::Any | Node::Class(_) => match one(s, pos, node) {
            Some(p) => m(ctx, rest, p, k),
            None => false,
        },
        Node::Bol => pos == 0 && m(ctx, rest, pos, k),
        Node::Eol => {
            (pos == s.len() || (pos + 1 == s.len() && s.as_bytes()[pos] == b'\n'))
                && m(ctx, rest, pos, k)
        }
        Node::Group(body) => {
            let body: &[Node] = body;
            m_then(ctx, body, rest, pos, k)
        }
        Node::Branch(alts) => {
            let c = char_at(s, pos);
            for (alt, f) in alts {
                if f.admits(c) && m_then(ctx, alt, rest, pos, k) {
                    return true;
                }
            }
            false
        }
        Node::Repeat {
            min,
            max,
            body,
            single,
        } => {
            if *single {
                let mut ends: Vec<usize> = vec![pos];
                let mut p = pos;
                while (ends.len() as u64 - 1) < u64::from(*max) {
                    match one(s, p, &body[0]) {
                        Some(q) => {
                            p = q;
                            ends.push(p);
                        }
                        None => break,
                    }
                }
                let min = *min as usize;
                for j in (min..ends.len()).rev() {
                    if m(ctx, rest, ends[j], k) {
                        return true;
                    }
                }
                false
            } else {
                rep(ctx, body, *min, *max, 0, pos, rest, k)
            }
        }
        Node::Look {
            behind,
            neg,
            width,
            body,
        } => {
            let ok = if *behind {
                let mut start = pos;
                let mut fits = true;
                for _ in 0..*width {
                    match s[..start].chars().next_back() {
                        Some(c) => start -= c.len_utf8(),
                        None => {
                            fits = false;
                            break;
                        }
                    }
                }
                fits && m(ctx, body, start, &mut |p| p == pos)
            } else {
                m(ctx, body, pos, &mut |_| true)
            };
            ok != *neg && m(ctx, rest, pos, k)
        }
    }
}

/// Match `first` then `rest` then `k`.
fn m_then(
    ctx: Ctx<'_>,
    first: &[Node],
    rest: &[Node],
    pos: usize,
    k: &mut dyn FnMut(usize) -> bool,
) -> bool {
    if rest.is_empty() {
        return m(ctx, first, pos, k);
    }
    m(ctx, first, pos, &mut |p| m(ctx, rest, p, k))
}

/// Greedy repeat of a general body (`count` iterations done so far).
#[allow(clippy::too_many_arguments)]
fn rep(
    ctx: Ctx<'_>,
    body: &[Node],
    min: u32,
    max: u32,
    count: u32,
    pos: usize,
    rest: &[Node],
    k: &mut dyn FnMut(usize) -> bool,
) -> bool {
    if ctx.depth > MAX_DEPTH {
        return false;
    }
    if count < max {
        let inner = Ctx {
            s: ctx.s,
            depth: ctx.depth + 1,
        };
        // an iteration that consumes nothing ends the loop (sre's guard against empty loops)
        if m(ctx, body, pos, &mut |p| {
            p != pos && rep(inner, body, min, max, count + 1, p, rest, k)
        }) {
            return true;
        }
    }
    count >= min && m(ctx, rest, pos, k)
}

/// One single-character node at `pos`: the position after it.
#[inline]
fn one(s: &str, pos: usize, node: &Node) -> Option<usize> {
    let c = char_at(s, pos)?;
    let ok = match node {
        Node::Lit(l) => c == *l,
        Node::NotLit(l) => c != *l,
        Node::Any => c != '\n',
        Node::Class(cs) => cs.contains(c),
        _ => false,
    };
    ok.then(|| pos + c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(j: &str) -> Pattern {
        let classes = vec![Arc::new(CharSet::from_ranges(&[(48, 57)]))];
        Pattern::from_json(&serde_json::from_str(j).unwrap(), &classes).unwrap()
    }

    #[test]
    fn python_semantics() {
        // (?:a|ab)c on "abc": first alternative fails at c, second succeeds (backtracking)
        let p = pat(r#"[["|",[[["c",97]],[["c",97],["c",98]]]],["c",99]]"#);
        assert_eq!(p.search("abc"), Some((0, 3)));
        // greedy repeat backs off: \d+1 on "1231"
        let p = pat(r#"[["r",1,-1,[["k",0]]],["c",49]]"#);
        assert_eq!(p.search("x1231"), Some((1, 5)));
        // look-behind (?<=\d)x and look-ahead x(?!\d)
        let p = pat(r#"[["a",-1,0,[["k",0]]],["c",120]]"#);
        assert_eq!(p.find_iter("x1xax2x"), vec![(2, 3), (6, 7)]);
        let p = pat(r#"[["c",120],["a",1,1,[["k",0]]]]"#);
        assert_eq!(p.find_iter("x1xx"), vec![(2, 3), (3, 4)]);
        // $ also matches before a final newline
        let p = pat(r#"[["c",97],["$"]]"#);
        assert_eq!(p.search("ba\n"), Some((1, 2)));
        assert_eq!(p.search("ba\n\n"), None);
        // empty matches in finditer: x* on "axx" -> (0,0) (1,3) (3,3)
        let p = pat(r#"[["r",0,-1,[["c",120]]]]"#);
        assert_eq!(p.find_iter("axx"), vec![(0, 0), (1, 3), (3, 3)]);
        // an empty look-around-only match (spaCy's Catalan elision infix)
        let p = pat(r#"[["a",-1,0,[["c",108],["c",39]]],["a",1,0,[["k",0]]]]"#);
        assert_eq!(p.find_iter("l'1l'a"), vec![(2, 2)]);
    }
}
