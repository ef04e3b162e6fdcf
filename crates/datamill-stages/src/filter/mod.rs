//! Filters: per-document stages that keep or drop a document by a rule (length, a regular
//! expression, a metadata value, a URL block list) and the exact ports of datatrove 0.10.1's
//! Gopher, C4 and FineWeb rules, which share the wrapper in `datatrove.rs`.

mod datatrove;

pub mod c4_badwords;
pub mod c4_quality;
pub mod fineweb_quality;
pub mod gopher_quality;
pub mod gopher_repetition;
pub mod length;
pub mod metadata;
pub mod regex_match;
pub mod url_filter;
