//! Selection: stages that choose which documents to keep by a seeded draw (`sample`) or by
//! comparing every document with the rest of the corpus (DSIR importance resampling,
//! `score_select` by a score's rank or quantile, `perplexity_buckets`) or by embeddings (`prototype_prune`: SSL prototypes; `diversity_select`: facility location; `rds_select`: RDS+ toward target tasks).

pub mod diversity_select;
pub mod dsir;
pub mod perplexity_buckets;
pub mod prototype_prune;
pub mod rds_select;
pub mod sample;
pub mod score_select;
