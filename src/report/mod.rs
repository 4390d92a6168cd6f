//! Output files and what people read: CSV writers, the summary statistics files and
//! the terminal table. Only this layer (and `cli`) serialises.

pub mod csv;
pub mod summary;
