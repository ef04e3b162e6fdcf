//! Reading a stage's reference files (training text, benchmark sets): every document of a
//! JSONL or Parquet file, in order, with its problems as errors naming the file and line.

use datamill_core::Doc;
use datamill_core::doc::FieldNames;
use std::path::PathBuf;
use std::sync::Arc;

/// Calls `f` with every document of a JSONL or Parquet file, in file order; the document's
/// text is field `text_field` and its id field `id_field`. A bad record (invalid JSON, a
/// missing text) is an error naming the file and line; an error `f` returns is prefixed with the file,
/// the document's position (from 1) and id.
pub(crate) fn for_each_doc(
    path: PathBuf,
    text_field: &str,
    id_field: &str,
    f: &mut dyn FnMut(&Doc) -> Result<(), String>,
) -> Result<(), String> {
    use datamill_io::read::{ReadOptions, Record, open_unit};
    let io = |e: datamill_io::IoError| e.to_string();
    let opts = ReadOptions {
        names: FieldNames {
            text: text_field.to_string(),
            id: id_field.to_string(),
        },
        ..Default::default()
    };
    let label = path.display().to_string();
    let mut n = 0u64;
    let file = datamill_io::plan::describe(path, label.clone(), None).map_err(io)?;
    for unit in datamill_io::plan::plan_file(&file, 0, u64::MAX, text_field).map_err(io)? {
        let mut r = open_unit(&file, &unit, &opts, Arc::default()).map_err(io)?;
        while let Some(rec) = r.next_record().map_err(io)? {
            match rec {
                Record::Doc(doc, _) => {
                    n += 1;
                    f(&doc)
                        .map_err(|e| format!("{label}, document {n} (id {:?}): {e}", doc.id()))?
                }
                Record::Blank => {}
                Record::Bad(b) => {
                    return Err(format!("{}: {} ({})", b.location, b.message, b.reason));
                }
            }
        }
    }
    Ok(())
}
