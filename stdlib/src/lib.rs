//! The one catalogue of what the language provides (builtin variables, functions,
//! aggregations) and the schema of the `.ebpfc` metadata section that links the
//! compiler's output to the runtime.

pub mod bytes;
pub mod catalogue;
pub mod constants;
pub mod format;
pub mod meta;
