//! The maps a program needs besides its `@` maps: the event ring buffer and its
//! lost-event counter, the stack trace map, the start-time map, the per-CPU scratch
//! buffer, the counters of updates full maps dropped and the flag `exit()` raises. Each exists only when some
//! probe uses it; ids follow the user maps in this order, fixed after the learning pass
//! so both passes agree.

use crate::ir::{MapDef, MapId};
use crate::lower::ModuleState;

/// Name of the event ring buffer map.
pub const RINGBUF_NAME: &str = "events";
/// Name of the per-CPU counter of events the ring buffer dropped.
pub const LOST_NAME: &str = "lost_events";
/// Name of the stack trace map of `kstack`/`ustack`.
pub const STACKS_NAME: &str = "stacks";
/// Name of the array holding the session's start time for `elapsed`.
pub const START_NAME: &str = "start_time";
/// Name of the per-CPU counters (one per `@` map) of updates a full map refused.
pub const DROPPED_NAME: &str = "dropped_updates";
/// Name of the per-CPU scratch buffer.
pub const SCRATCH_NAME: &str = "scratch";
/// Name of the array whose one value `exit()` sets: probes (but END) do nothing then.
pub const EXITED_NAME: &str = "exited";

const RINGBUF: u32 = 27;
const RINGBUF_SIZE: u32 = 1 << 20;
const PERCPU_ARRAY: u32 = 6;
const ARRAY: u32 = 2;
const STACK_TRACE: u32 = 7;
const STACK_ENTRIES: u32 = 4096;

/// Gives the hidden maps the learning pass found in use their ids.
pub fn assign_ids(state: &mut ModuleState) {
    let mut next = state.maps.len() as u32;
    let mut take = |used: bool, n: u32| {
        let id = MapId(next);
        if used {
            next += n;
        }
        id
    };
    state.ringbuf = take(state.uses_ringbuf, 2);
    state.stack_map = take(state.uses_stacks, 1);
    state.start_map = take(state.uses_start, 1);
    state.scratch_map = take(state.scratch_size > 0, 1);
    state.dropped_map = take(state.uses_dropped, 1);
    state.exited_map = take(state.uses_exit, 1);
}

/// The definitions of the hidden maps in use, in id order.
pub fn definitions(state: &ModuleState) -> Vec<MapDef> {
    let def = |name: &str, map_type, key_size, value_size, max_entries| MapDef {
        name: name.to_string(),
        map_type,
        key_size,
        value_size,
        max_entries,
    };
    let mut maps = Vec::new();
    if state.uses_ringbuf {
        maps.push(def(RINGBUF_NAME, RINGBUF, 0, 0, RINGBUF_SIZE));
        maps.push(def(LOST_NAME, PERCPU_ARRAY, 4, 8, 1));
    }
    if state.uses_stacks {
        let frames = crate::lower::MAX_FRAMES * 8;
        maps.push(def(STACKS_NAME, STACK_TRACE, 4, frames, STACK_ENTRIES));
    }
    if state.uses_start {
        maps.push(def(START_NAME, ARRAY, 4, 8, 1));
    }
    if state.scratch_size > 0 {
        maps.push(def(SCRATCH_NAME, PERCPU_ARRAY, 4, state.scratch_size, 1));
    }
    if state.uses_dropped {
        let entries = (state.maps.len() as u32).max(1);
        maps.push(def(DROPPED_NAME, PERCPU_ARRAY, 4, 8, entries));
    }
    if state.uses_exit {
        maps.push(def(EXITED_NAME, ARRAY, 4, 8, 1));
    }
    maps
}
