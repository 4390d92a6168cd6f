//! The discrete-event engine: simulated time, the event queue and seeded streams.
//!
//! Knows nothing about pods or deployments. Does no I/O and reads no clock.

pub mod queue;
pub mod rng;
pub mod sample;
pub mod time;

pub use queue::EventQueue;
pub use time::SimTime;
