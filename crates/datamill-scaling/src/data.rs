//! Reading runs from CSV: column mapping, row filters, validation with
//! row-numbered errors, and the outlier rule.

use std::path::Path;

use crate::error::ScalingError;

/// A parsed CSV file: a header row and string cells.
#[derive(Debug, Clone)]
pub struct Table {
    /// Where the table came from (for messages).
    pub source: String,
    /// Column names.
    pub headers: Vec<String>,
    /// Data rows (each as long as `headers`).
    pub rows: Vec<Vec<String>>,
}

/// Split one CSV line into fields (RFC 4180 quoting, no embedded newlines).
fn split_csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    cur.push('"');
                    chars.next();
                } else {
                    in_quotes = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == '"' {
            in_quotes = true;
        } else if c == ',' {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

impl Table {
    /// Parse CSV text. `source` names the file in error messages.
    pub fn parse(text: &str, source: &str) -> Result<Table, ScalingError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((_, header)) = lines.next() else {
            return Err(ScalingError::Input(format!("{source}: the file is empty")));
        };
        let headers: Vec<String> = split_csv_line(header.trim_start_matches('\u{feff}'))
            .into_iter()
            .map(|h| h.trim().to_string())
            .collect();
        let mut rows = Vec::new();
        for (i, line) in lines {
            let fields = split_csv_line(line.trim_end_matches('\r'));
            if fields.len() != headers.len() {
                return Err(ScalingError::Input(format!(
                    "{source}: line {}: {} fields, but the header has {}",
                    i + 1,
                    fields.len(),
                    headers.len()
                )));
            }
            rows.push(fields);
        }
        Ok(Table {
            source: source.to_string(),
            headers,
            rows,
        })
    }

    /// Read and parse a CSV file.
    pub fn read(path: &Path) -> Result<Table, ScalingError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScalingError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        Table::parse(&text, &path.display().to_string())
    }

    /// Index of a column by exact name, else case-insensitive.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name).or_else(|| {
            self.headers
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name))
        })
    }

    /// Index of column `name`, or an error naming the missing column, what it is for
    /// (`role`) and the columns the file has.
    pub(crate) fn require_column(&self, name: &str, role: &str) -> Result<usize, ScalingError> {
        self.column(name).ok_or_else(|| {
            ScalingError::Input(format!(
                "{}: missing column `{name}` (for {role}); the columns are: {}",
                self.source,
                self.headers.join(", ")
            ))
        })
    }
}

/// Which CSV column holds which quantity. `N` and `loss` are needed by most
/// laws; tokens come from `D`, or from `C` (D = C/(6N), as Epoch does), or
/// from `M` (D = M·N, Gadre's token multiplier).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMap {
    /// Parameters N.
    pub n: Option<String>,
    /// Training tokens D.
    pub d: Option<String>,
    /// Training compute C in FLOP.
    pub c: Option<String>,
    /// Tokens per parameter M.
    pub m: Option<String>,
    /// Unique tokens U.
    pub u: Option<String>,
    /// Loss.
    pub loss: Option<String>,
}

pub(crate) const N_NAMES: &[&str] = &[
    "N",
    "params_N",
    "Model Size",
    "params",
    "parameters",
    "n_params",
];
pub(crate) const D_NAMES: &[&str] = &["D", "tokens_D", "Training Tokens", "tokens", "n_tokens"];
const C_NAMES: &[&str] = &["C", "Training FLOP", "flops", "compute"];
const U_NAMES: &[&str] = &["U", "unique_tokens_U", "unique_tokens"];
const LOSS_NAMES: &[&str] = &["loss", "val_loss", "loss_c4_val", "L"];

impl ColumnMap {
    /// Parse `N=col,D=col,loss=col,U=col,C=col,M=col` (keys case-insensitive;
    /// column names may contain spaces but not commas).
    pub fn parse(spec: &str) -> Result<ColumnMap, ScalingError> {
        let mut map = ColumnMap::default();
        for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
            let Some((k, v)) = part.split_once('=') else {
                return Err(ScalingError::InvalidArgument(format!(
                    "--columns: `{part}` is not KEY=COLUMN (keys: N, D, C, M, U, loss)"
                )));
            };
            let v = Some(v.trim().to_string());
            match k.trim().to_ascii_lowercase().as_str() {
                "n" => map.n = v,
                "d" => map.d = v,
                "c" => map.c = v,
                "m" => map.m = v,
                "u" => map.u = v,
                "loss" | "l" => map.loss = v,
                other => {
                    return Err(ScalingError::InvalidArgument(format!(
                        "--columns: unknown key `{other}` (keys: N, D, C, M, U, loss)"
                    )));
                }
            }
        }
        Ok(map)
    }
}

/// A numeric row filter `column OP value`, with OP one of `=`, `!=`, `<`,
/// `<=`, `>`, `>=`. `=`/`!=` compare numbers when both sides parse as
/// numbers, strings otherwise; `col=v1|v2|v3` keeps rows equal to any of the values.
#[derive(Debug, Clone, PartialEq)]
pub struct RowFilter {
    /// Column name.
    pub column: String,
    /// Operator.
    pub op: String,
    /// Right-hand side.
    pub value: String,
}

impl RowFilter {
    /// Parse `col=value`, `col<=1e9`, ...
    pub fn parse(s: &str) -> Result<RowFilter, ScalingError> {
        for op in ["!=", "<=", ">=", "=", "<", ">"] {
            if let Some((c, v)) = s.split_once(op) {
                return Ok(RowFilter {
                    column: c.trim().to_string(),
                    op: op.to_string(),
                    value: v.trim().to_string(),
                });
            }
        }
        Err(ScalingError::InvalidArgument(format!(
            "--where `{s}`: expected COLUMN OP VALUE with OP one of = != < <= > >="
        )))
    }

    /// Whether a row whose cell in [`RowFilter::column`] is `cell` passes.
    pub fn keep(&self, cell: &str) -> bool {
        let num = cell
            .trim()
            .parse::<f64>()
            .ok()
            .zip(self.value.parse::<f64>().ok());
        match (self.op.as_str(), num) {
            ("=", _) if self.value.contains('|') => self.value.split('|').any(|alt| {
                let alt = alt.trim();
                match (cell.trim().parse::<f64>(), alt.parse::<f64>()) {
                    (Ok(a), Ok(b)) => a == b,
                    _ => cell.trim() == alt,
                }
            }),
            ("=", Some((a, b))) => a == b,
            ("=", None) => cell.trim() == self.value,
            ("!=", Some((a, b))) => a != b,
            ("!=", None) => cell.trim() != self.value,
            ("<", Some((a, b))) => a < b,
            ("<=", Some((a, b))) => a <= b,
            (">", Some((a, b))) => a > b,
            (">=", Some((a, b))) => a >= b,
            _ => false,
        }
    }
}

/// Runs ready for fitting: one entry per kept row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Runs {
    /// Parameters N (NaN when the file has no N column and the law needs none).
    pub n: Vec<f64>,
    /// Training tokens D.
    pub d: Vec<f64>,
    /// Unique tokens U, when given.
    pub u: Option<Vec<f64>>,
    /// Loss.
    pub loss: Vec<f64>,
    /// 1-based data-row number of each entry in the source file.
    pub row: Vec<usize>,
}

impl Runs {
    /// Number of runs.
    pub fn len(&self) -> usize {
        self.loss.len()
    }
    /// Whether there are no runs.
    pub fn is_empty(&self) -> bool {
        self.loss.is_empty()
    }

    /// Keep only the entries whose index is in `keep` (in order).
    pub fn select(&self, keep: &[usize]) -> Runs {
        Runs {
            n: keep.iter().map(|&i| self.n[i]).collect(),
            d: keep.iter().map(|&i| self.d[i]).collect(),
            u: self
                .u
                .as_ref()
                .map(|u| keep.iter().map(|&i| u[i]).collect()),
            loss: keep.iter().map(|&i| self.loss[i]).collect(),
            row: keep.iter().map(|&i| self.row[i]).collect(),
        }
    }

    /// Epoch's outlier rule: drop the `k` highest losses, keeping a row iff
    /// `loss < sorted(loss)[-k]` (strict, so ties with the k-th highest go too).
    pub fn drop_highest_losses(&self, k: usize) -> Runs {
        if k == 0 || k > self.len() {
            return self.clone();
        }
        let mut sorted = self.loss.clone();
        sorted.sort_by(f64::total_cmp);
        let cut = sorted[sorted.len() - k];
        let keep: Vec<usize> = (0..self.len()).filter(|&i| self.loss[i] < cut).collect();
        self.select(&keep)
    }
}

/// What the law being fitted needs from the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// N is required.
    pub n: bool,
    /// D (or C or M) is required.
    pub d: bool,
    /// U is required.
    pub u: bool,
}

/// The number in a cell (0-based data row `row`), or an error naming the file, row, line and
/// column.
pub(crate) fn cell_number(
    table: &Table,
    row: usize,
    col: usize,
    role: &str,
) -> Result<f64, ScalingError> {
    let cell = table.rows[row][col].trim();
    cell.parse().map_err(|_| {
        ScalingError::Input(format!(
            "{}: row {} (line {}), column `{}` ({role}): `{cell}` is not a number",
            table.source,
            row + 1,
            row + 2,
            table.headers[col]
        ))
    })
}

/// A finite, positive number in a cell, or an error naming the file, row, line and column.
pub(crate) fn parse_cell(
    table: &Table,
    row: usize,
    col: usize,
    role: &str,
) -> Result<f64, ScalingError> {
    let cell = table.rows[row][col].trim();
    let v = cell_number(table, row, col, role)?;
    if !v.is_finite() || v <= 0.0 {
        return Err(ScalingError::Input(format!(
            "{}: row {} (line {}), column `{}` ({role}): {cell} is {}; every value must be finite and positive",
            table.source,
            row + 1,
            row + 2,
            table.headers[col],
            if v.is_nan() {
                "NaN"
            } else if v.is_finite() {
                "not positive"
            } else {
                "infinite"
            }
        )));
    }
    Ok(v)
}

/// The first of `names` that is a column of `table`.
pub(crate) fn find_default(table: &Table, names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| table.column(n))
}

/// Extract runs from `table` with the column map and filters; every used cell
/// is validated (finite, positive) and errors name the row and column.
pub fn extract_runs(
    table: &Table,
    cols: &ColumnMap,
    filters: &[RowFilter],
    needs: Needs,
) -> Result<Runs, ScalingError> {
    let pick = |explicit: &Option<String>,
                names: &[&str],
                role: &str|
     -> Result<Option<usize>, ScalingError> {
        match explicit {
            Some(name) => table.require_column(name, role).map(Some),
            None => Ok(find_default(table, names)),
        }
    };
    let loss_col = pick(&cols.loss, LOSS_NAMES, "loss")?.ok_or_else(|| {
        ScalingError::Input(format!(
            "{}: no loss column (looked for {}); name it with --columns loss=COLUMN. The columns are: {}",
            table.source,
            LOSS_NAMES.join(", "),
            table.headers.join(", ")
        ))
    })?;
    let n_col = pick(&cols.n, N_NAMES, "N")?;
    let d_col = pick(&cols.d, D_NAMES, "D")?;
    let c_col = pick(&cols.c, C_NAMES, "C")?;
    let m_col = match &cols.m {
        Some(name) => Some(table.require_column(name, "M")?),
        None => None,
    };
    let u_col = pick(&cols.u, U_NAMES, "U")?;
    if needs.n && n_col.is_none() {
        return Err(ScalingError::Input(format!(
            "{}: missing a parameter-count column (looked for {}); name it with --columns N=COLUMN. The columns are: {}",
            table.source,
            N_NAMES.join(", "),
            table.headers.join(", ")
        )));
    }
    // Token source priority: explicit D, explicit C, explicit M, then defaults D, C.
    enum Tok {
        D(usize),
        C(usize),
        M(usize),
        None,
    }
    let tok = if cols.d.is_some() {
        Tok::D(d_col.unwrap_or_default())
    } else if cols.c.is_some() {
        Tok::C(c_col.unwrap_or_default())
    } else if let Some(m) = m_col {
        Tok::M(m)
    } else if let Some(d) = d_col {
        Tok::D(d)
    } else if let Some(c) = c_col {
        Tok::C(c)
    } else {
        Tok::None
    };
    if needs.d && matches!(tok, Tok::None) {
        return Err(ScalingError::Input(format!(
            "{}: missing a token column: give D (tokens), C (FLOP, D = C/(6N)) or M (tokens per parameter) with --columns; the columns are: {}",
            table.source,
            table.headers.join(", ")
        )));
    }
    if matches!(tok, Tok::C(_) | Tok::M(_)) && n_col.is_none() {
        return Err(ScalingError::Input(format!(
            "{}: deriving D from C or M needs an N column",
            table.source
        )));
    }
    if needs.u && u_col.is_none() {
        return Err(ScalingError::Input(format!(
            "{}: missing a unique-tokens column (looked for {}); name it with --columns U=COLUMN",
            table.source,
            U_NAMES.join(", ")
        )));
    }
    for f in filters {
        table.require_column(&f.column, "--where")?;
    }
    let mut runs = Runs {
        u: if needs.u { Some(Vec::new()) } else { None },
        ..Default::default()
    };
    for (i, row) in table.rows.iter().enumerate() {
        if !filters
            .iter()
            .all(|f| f.keep(&row[table.column(&f.column).unwrap_or_default()]))
        {
            continue;
        }
        let loss = parse_cell(table, i, loss_col, "loss")?;
        let n = match n_col {
            Some(c) => parse_cell(table, i, c, "N")?,
            None => f64::NAN,
        };
        let d = match tok {
            Tok::D(c) => parse_cell(table, i, c, "D")?,
            Tok::C(c) => parse_cell(table, i, c, "C")? / (6.0 * n),
            Tok::M(c) => parse_cell(table, i, c, "M")? * n,
            Tok::None => f64::NAN,
        };
        if let (Some(uc), Some(us)) = (u_col, runs.u.as_mut()) {
            let u = parse_cell(table, i, uc, "U")?;
            if needs.d && u > d * (1.0 + 1e-9) {
                return Err(ScalingError::Input(format!(
                    "{}: row {} (line {}): unique tokens U = {u} exceed total tokens D = {d}",
                    table.source,
                    i + 1,
                    i + 2
                )));
            }
            us.push(u);
        }
        runs.n.push(n);
        runs.d.push(d);
        runs.loss.push(loss);
        runs.row.push(i + 1);
    }
    if runs.is_empty() {
        return Err(ScalingError::Input(format!(
            "{}: no rows left after the --where filters",
            table.source
        )));
    }
    Ok(runs)
}

/// One quantity a law reads from a CSV file: its `--columns` key, what it is (for messages),
/// the column names recognised by default, and whether the law needs it.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The `--columns` key (matched case-insensitively).
    pub key: &'static str,
    /// What the column holds, e.g. "domain ratio r".
    pub role: &'static str,
    /// Column names used when `--columns` does not name one (first present wins).
    pub names: &'static [&'static str],
    /// Whether a file without it is refused.
    pub required: bool,
}

/// Resolves `columns` in `table`: a column named in `overrides` (`KEY=COLUMN,...`, keys from
/// `columns`) must exist, otherwise the first default name present is used; a required
/// column that is found neither way is an error naming the file, the quantity, the names
/// looked for and the columns the file has.
pub fn resolve_columns(
    table: &Table,
    columns: &[Column],
    overrides: Option<&str>,
) -> Result<Vec<Option<usize>>, ScalingError> {
    let keys: Vec<&str> = columns.iter().map(|c| c.key).collect();
    let mut named: Vec<Option<String>> = vec![None; columns.len()];
    for part in overrides
        .unwrap_or("")
        .split(',')
        .filter(|p| !p.trim().is_empty())
    {
        let bad = || {
            ScalingError::InvalidArgument(format!(
                "--columns: `{part}` is not KEY=COLUMN (keys: {})",
                keys.join(", ")
            ))
        };
        let (k, v) = part.split_once('=').ok_or_else(bad)?;
        let i = keys
            .iter()
            .position(|key| key.eq_ignore_ascii_case(k.trim()))
            .ok_or_else(bad)?;
        named[i] = Some(v.trim().to_string());
    }
    columns
        .iter()
        .zip(named)
        .map(|(c, name)| match name {
            Some(name) => table.require_column(&name, c.role).map(Some),
            None => match find_default(table, c.names) {
                Some(i) => Ok(Some(i)),
                None if c.required => Err(ScalingError::Input(format!(
                    "{}: missing a column for the {} (looked for {}); name it with --columns {}=COLUMN. The columns are: {}",
                    table.source,
                    c.role,
                    c.names.join(", "),
                    c.key,
                    table.headers.join(", ")
                ))),
                None => Ok(None),
            },
        })
        .collect()
}

/// The 0-based indices of the data rows of `table` that pass every filter (`COLUMN OP
/// VALUE`, see [`RowFilter::parse`]); an error when a filter names a missing column or no
/// row is left.
pub fn filtered_rows(table: &Table, filters: &[String]) -> Result<Vec<usize>, ScalingError> {
    let filters = filters
        .iter()
        .map(|f| RowFilter::parse(f))
        .collect::<Result<Vec<_>, _>>()?;
    let cols = filters
        .iter()
        .map(|f| table.require_column(&f.column, "--where"))
        .collect::<Result<Vec<_>, _>>()?;
    let rows: Vec<usize> = (0..table.rows.len())
        .filter(|&i| {
            filters
                .iter()
                .zip(&cols)
                .all(|(f, &c)| f.keep(&table.rows[i][c]))
        })
        .collect();
    if rows.is_empty() {
        return Err(ScalingError::Input(format!(
            "{}: no rows left after the --where filters",
            table.source
        )));
    }
    Ok(rows)
}

/// A number in `[lo, hi]` in a cell, or an error naming the file, row, line, column and value.
pub(crate) fn parse_cell_in(
    table: &Table,
    row: usize,
    col: usize,
    role: &str,
    (lo, hi): (f64, f64),
) -> Result<f64, ScalingError> {
    let v = cell_number(table, row, col, role)?;
    if !(v >= lo && v <= hi) {
        return Err(ScalingError::Input(format!(
            "{}: row {} (line {}), column `{}` ({role}): {} is outside [{lo}, {hi}]",
            table.source,
            row + 1,
            row + 2,
            table.headers[col],
            table.rows[row][col].trim()
        )));
    }
    Ok(v)
}

/// Which runs of a CSV file to use: the column map, row filters and outlier rule, as
/// written on the command line (`--columns`, `--where`, `--drop-highest-loss`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSelection {
    /// Column mapping `KEY=COLUMN,...` ([`ColumnMap::parse`]); `None` = the default names.
    pub columns: Option<String>,
    /// Row filters `COLUMN OP VALUE` ([`RowFilter::parse`]), all of which must hold.
    pub filters: Vec<String>,
    /// Drop the K highest losses ([`Runs::drop_highest_losses`]; Epoch uses 5).
    pub drop_highest_loss: usize,
}

/// Reads the runs of a CSV file as `datamill scaling fit` and `plot` do; also returns the
/// number of rows in the file.
pub fn load_runs(
    path: &Path,
    select: &RunSelection,
    needs: Needs,
) -> Result<(Runs, usize), ScalingError> {
    let table = Table::read(path)?;
    let cols = match &select.columns {
        Some(s) => ColumnMap::parse(s)?,
        None => ColumnMap::default(),
    };
    let filters = select
        .filters
        .iter()
        .map(|f| RowFilter::parse(f))
        .collect::<Result<Vec<_>, _>>()?;
    let runs =
        extract_runs(&table, &cols, &filters, needs)?.drop_highest_losses(select.drop_highest_loss);
    Ok((runs, table.rows.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "name,\"Model Size\",Training FLOP,loss\na,1e9,6e19,2.5\nb,2e9,1.2e20,2.4\n";

    #[test]
    fn parses_quoted_headers_and_derives_d_from_c() {
        let t = Table::parse(CSV, "t.csv").unwrap();
        assert_eq!(t.headers[1], "Model Size");
        let r = extract_runs(
            &t,
            &ColumnMap::default(),
            &[],
            Needs {
                n: true,
                d: true,
                u: false,
            },
        )
        .unwrap();
        assert_eq!(r.len(), 2);
        assert!((r.d[0] - 1e10).abs() < 1.0);
        assert_eq!(r.row, vec![1, 2]);
    }

    #[test]
    fn bad_value_names_row_and_column() {
        let t = Table::parse("N,D,loss\n1e9,2e10,2.5\n1e9,-3,2.4\n", "x.csv").unwrap();
        let e = extract_runs(
            &t,
            &ColumnMap::default(),
            &[],
            Needs {
                n: true,
                d: true,
                u: false,
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("row 2") && e.contains("`D`") && e.contains("not positive"),
            "{e}"
        );
        let t = Table::parse("N,D,loss\n1e9,2e10,NaN\n", "x.csv").unwrap();
        let e = extract_runs(
            &t,
            &ColumnMap::default(),
            &[],
            Needs {
                n: true,
                d: true,
                u: false,
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("row 1") && e.contains("NaN"), "{e}");
    }

    #[test]
    fn missing_column_is_named() {
        let t = Table::parse("N,D,loss\n1,2,3\n", "x.csv").unwrap();
        let cols = ColumnMap::parse("N=params").unwrap();
        let e = extract_runs(
            &t,
            &cols,
            &[],
            Needs {
                n: true,
                d: true,
                u: false,
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("missing column `params`"), "{e}");
    }

    #[test]
    fn filters_and_outlier_rule() {
        let t = Table::parse(
            "N,D,loss,set\n1,2,3,a\n1,2,5,b\n1,2,4,a\n1,2,6,a\n",
            "x.csv",
        )
        .unwrap();
        let f = vec![RowFilter::parse("set=a").unwrap()];
        let r = extract_runs(
            &t,
            &ColumnMap::default(),
            &f,
            Needs {
                n: true,
                d: true,
                u: false,
            },
        )
        .unwrap();
        assert_eq!(r.row, vec![1, 3, 4]);
        let r = r.drop_highest_losses(1);
        assert_eq!(r.loss, vec![3.0, 4.0]);
        let f = RowFilter::parse("loss<=4").unwrap();
        assert!(f.keep("4") && !f.keep("4.5"));
        let f = RowFilter::parse("m=1|16").unwrap();
        assert!(f.keep("1.0") && f.keep("16") && !f.keep("4"));
    }
}
