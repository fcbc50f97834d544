//! The catalogue of builtin variables, functions and aggregations.
