//! The `.ebpfc` ELF section: the contract between the code generator and the runtime.
//!
//! The runtime knows nothing of the source program. Everything it needs to attach
//! probes, decode ring-buffer events and print maps is described here and serialized
//! as JSON into the object. Invariants:
//! - every `Probe::program` names a function symbol (an aya program) in the object;
//! - every `MapInfo::elf_name` and `Metadata::ringbuf` names a map in `.maps`;
//! - all offsets are byte offsets from the start of the key, value or event record.

use serde::{Deserialize, Serialize};

/// The name of the ELF section holding the serialized [`Metadata`].
pub const SECTION: &str = ".ebpfc";
/// Current schema version; the runtime refuses objects with another one.
pub const VERSION: u32 = 1;

/// Event record id (first u64 of every ring-buffer record): `exit(code)`.
/// The exit code is an i64 at offset 8.
pub const EVENT_EXIT: u64 = 0;
/// Event record id of the first printf format; format `i` has id `EVENT_PRINTF + i`.
pub const EVENT_PRINTF: u64 = 0x1000;
/// `print(@m [, top [, div]])`: u64 index into `Metadata::maps` at 8, u64 `top` at 16
/// (0 = all entries), u64 `div` at 24 (0 or 1 = no division). The runtime prints the
/// map's current contents in the exit-dump layout, without the leading blank lines.
pub const EVENT_PRINT: u64 = 1;
/// `clear(@m)`: u64 map index at 8. The runtime deletes every entry.
pub const EVENT_CLEAR: u64 = 2;
/// `zero(@m)`: u64 map index at 8. The runtime sets every value to zero.
pub const EVENT_ZERO: u64 = 3;
/// `time(fmt)`: u64 index into `Metadata::strings` at 8, an strftime format printed
/// with the local time.
pub const EVENT_TIME: u64 = 4;
/// `cat(path)`: the path as a NUL-terminated string from offset 8 to the record's end.
/// The runtime prints the file's contents (or an error line naming the file).
pub const EVENT_CAT: u64 = 5;
/// `join(array [, sep])`: u64 index into `Metadata::strings` (the separator) at 8, u64
/// number of elements present at 16, then [`JOIN_ARGS`] NUL-terminated strings of
/// [`JOIN_ARG_SIZE`] bytes each from 24. The runtime prints them joined, then a newline.
pub const EVENT_JOIN: u64 = 6;
/// `unwatch(addr)`: the u64 address at 8. The runtime detaches the watchpoints on it.
pub const EVENT_UNWATCH: u64 = 7;
/// Elements `join()` reads from its array.
pub const JOIN_ARGS: u32 = 16;
/// Bytes of each `join()` element, NUL included (bpftrace's 1024).
pub const JOIN_ARG_SIZE: u32 = 1024;

/// Everything the runtime needs to know about an object.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Metadata {
    pub version: u32,
    /// One entry per BPF program, in source order.
    pub probes: Vec<Probe>,
    /// User maps (`@name`), to be printed at exit.
    pub maps: Vec<MapInfo>,
    /// printf formats; event id `EVENT_PRINTF + index`.
    pub formats: Vec<Format>,
    /// ELF name of the ring buffer map carrying events, if the program emits any.
    pub ringbuf: Option<String>,
    /// Constant strings events refer to by index (e.g. `time()` formats).
    #[serde(default)]
    pub strings: Vec<String>,
    /// ELF name of a per-CPU array (one u64 entry) counting events the ring buffer
    /// dropped, if the program counts them.
    #[serde(default)]
    pub lost_events: Option<String>,
    /// ELF name of the `BPF_MAP_TYPE_STACK_TRACE` map `kstack`/`ustack` ids index.
    #[serde(default)]
    pub stack_map: Option<String>,
    /// ELF name of an array map (u32 key 0, u64 value) the runtime fills with the
    /// session's start time (CLOCK_MONOTONIC ns, the clock of `bpf_ktime_get_ns`) before
    /// anything runs: `elapsed` subtracts it.
    #[serde(default)]
    pub start_time: Option<String>,
    /// ELF name of a per-CPU array (u32 key `i`, u64 value) counting the updates of
    /// `maps[i]` the kernel refused because the map was full.
    #[serde(default)]
    pub dropped_updates: Option<String>,
}

/// One BPF program and where it attaches.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Probe {
    /// The program's function symbol in the object (aya's program name).
    pub program: String,
    /// The user-facing probe name, e.g. `tracepoint:syscalls:sys_enter_openat`.
    pub name: String,
    pub attach: Attach,
    /// Where the program's instructions come from, for pointing verifier errors at
    /// the source: `[first instruction, span start, span end]` per run of
    /// instructions of one statement, by instruction; empty when the backend
    /// records none. The last entry is `[instruction count, 0, 0]`: instructions past
    /// the program's own (its callbacks, appended by the loader) have no source here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<[u32; 3]>,
    /// The instructions that jump back (the ends of loops), for pointing "program too
    /// large" rejections at the loops; empty when the backend records none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub loops: Vec<u32>,
}

impl Probe {
    /// The source span (start, end) instruction `insn` of the program comes from.
    pub fn source_of(&self, insn: u32) -> Option<(u32, u32)> {
        let at = self
            .lines
            .partition_point(|l| l[0] <= insn)
            .checked_sub(1)?;
        let [_, start, end] = self.lines[at];
        (at + 1 < self.lines.len()).then_some((start, end))
    }

    /// The source spans of the program's loops, each once, in program order.
    pub fn loop_spans(&self) -> Vec<(u32, u32)> {
        let mut spans: Vec<(u32, u32)> = Vec::new();
        for span in self.loops.iter().filter_map(|&i| self.source_of(i)) {
            if !spans.contains(&span) {
                spans.push(span);
            }
        }
        spans
    }
}

/// Where and how a program attaches.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Attach {
    /// Run once (BPF_PROG_TEST_RUN of a raw_tp program) before anything else attaches.
    Begin,
    /// Run once (BPF_PROG_TEST_RUN of a raw_tp program) after everything detached.
    End,
    Tracepoint {
        category: String,
        name: String,
    },
    RawTracepoint {
        name: String,
    },
    /// A software cpu-clock perf event on CPU 0 only.
    Interval {
        period_ns: u64,
    },
    /// A software cpu-clock perf event on every CPU.
    Profile {
        period_ns: u64,
    },
    /// A software perf event (`PERF_TYPE_SOFTWARE`, `config`) on every CPU.
    Software {
        event: String,
        config: u64,
        period: u64,
    },
    /// A hardware perf event (`PERF_TYPE_HARDWARE`, `config`: 0 cycles, 1 instructions,
    /// 2 cache-references, 3 cache-misses, 4 branch-instructions, 5 branch-misses,
    /// 6 bus-cycles, 7 stalled-cycles-frontend, 8 stalled-cycles-backend, 9 ref-cycles)
    /// on every CPU, sampled every `period` events.
    Hardware {
        event: String,
        config: u64,
        period: u64,
    },
    Kprobe {
        function: String,
        offset: u64,
        ret: bool,
    },
    Uprobe {
        path: String,
        symbol: Option<String>,
        offset: u64,
        ret: bool,
    },
    Fentry {
        function: String,
        ret: bool,
    },
    /// A USDT probe site of `path` (`provider:name`), attached as a uprobe at the file
    /// offset `offset`. `semaphore` is the file offset of the probe's semaphore, which
    /// the kernel counts up while the probe is attached (uprobe `ref_ctr_offset`), in
    /// every process that maps the file. Offsets come from the `.note.stapsdt` notes of
    /// the file the program was compiled against.
    Usdt {
        path: String,
        provider: String,
        name: String,
        offset: u64,
        semaphore: Option<u64>,
    },
    /// A hardware breakpoint (`PERF_TYPE_BREAKPOINT`) on `length` bytes at `address`
    /// (1, 2, 4 or 8), for `mode` accesses: a combination of `r`, `w` and `x` (`x`
    /// alone). In the `-p` process, else in every process and the kernel, on every CPU.
    Watchpoint {
        address: u64,
        length: u8,
        mode: String,
    },
    /// A BPF iterator (`iter/<target>` program, e.g. `task`, `task_file`): run once
    /// after BEGIN by reading the iterator to its end; then the run ends.
    Iter {
        target: String,
    },
    /// A program (a `raw_tp` section, run with BPF_PROG_TEST_RUN like BEGIN) run each
    /// time ebpfc itself receives `signal` (its number, e.g. 10 for SIGUSR1).
    Signal {
        signal: i32,
    },
}

impl Attach {
    /// The probe kind's long name, as the language spells it (`kprobe`, `BEGIN`...).
    pub fn kind(&self) -> &'static str {
        match self {
            Attach::Begin => "BEGIN",
            Attach::End => "END",
            Attach::Tracepoint { .. } => "tracepoint",
            Attach::RawTracepoint { .. } => "rawtracepoint",
            Attach::Interval { .. } => "interval",
            Attach::Profile { .. } => "profile",
            Attach::Software { .. } => "software",
            Attach::Hardware { .. } => "hardware",
            Attach::Kprobe { ret: false, .. } => "kprobe",
            Attach::Kprobe { ret: true, .. } => "kretprobe",
            Attach::Uprobe { ret: false, .. } => "uprobe",
            Attach::Uprobe { ret: true, .. } => "uretprobe",
            Attach::Fentry { ret: false, .. } => "fentry",
            Attach::Fentry { ret: true, .. } => "fexit",
            Attach::Usdt { .. } => "usdt",
            Attach::Watchpoint { .. } => "watchpoint",
            Attach::Iter { .. } => "iter",
            Attach::Signal { .. } => "self",
        }
    }
}

/// A value type as stored in a key, a map value or an event record.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ty {
    /// An integer of `size` bytes (1, 2, 4 or 8), little endian.
    Int { size: u8, signed: bool },
    /// A NUL-terminated string in a buffer of `size` bytes.
    Str { size: u32 },
    /// Fields at fixed offsets, printed `a, b` in keys and `(a, b)` as values. A record
    /// (`(x = 1, y = 2)`) also has one name per field, and prints `(x = 1, y = 2)`.
    Tuple {
        fields: Vec<Field>,
        size: u32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        names: Vec<String>,
    },
    /// `ntop()`: u64 address family at 0 (2 = AF_INET, 10 = AF_INET6), the address bytes
    /// from 8 (4 or 16 of them); 24 bytes. Printed as `1.2.3.4` or in IPv6 notation.
    Inet,
    /// `buf()`: u64 length at 0, then `size` bytes of data. Printed byte by byte:
    /// printable ASCII as itself, anything else as `\xNN`.
    Buf { size: u32 },
    /// `kstack` / `ustack`: i64 stack id (into `Metadata::stack_map`) at 0, and for
    /// user stacks the u64 pid at 8 (for symbols); 16 bytes. At most `frames` frames are
    /// printed, one line per frame as `mode` says.
    Stack {
        user: bool,
        frames: u32,
        #[serde(default)]
        mode: StackMode,
    },
    /// `ksym(addr)` / `usym(addr)`: u64 address at 0, and for user addresses the u64 pid
    /// at 8; 16 bytes. Printed as the name of the symbol holding the address.
    Sym { user: bool },
    /// `strftime(fmt, ns)`: u64 nanoseconds of CLOCK_MONOTONIC (the clock of
    /// `bpf_ktime_get_ns`) at 0; 8 bytes. Printed as the wall-clock time at that moment,
    /// formatted with the strftime format `Metadata::strings[format]`.
    Time { format: u32 },
    /// `username`: the u64 uid at 0; 8 bytes. Printed as the user's name from
    /// /etc/passwd, or the uid when it has none.
    Username,
    /// `strerror(n)`: the i64 errno at 0; 8 bytes. Printed as the C library's message.
    Errno,
    /// `cgroup_path(id, filter)`: the u64 cgroup id at 0; 8 bytes. Printed as
    /// `name:path` for each cgroup hierarchy whose name (`unified` for cgroup2, the mount
    /// directory's name for cgroup1) matches the wildcard `Metadata::strings[filter]` and
    /// holds the cgroup, cgroup2 first, then cgroup1 by name, joined by commas.
    CgroupPath { filter: u32 },
    /// `macaddr(mac)`: six bytes at 0; 8 bytes. Printed as `AA:BB:CC:DD:EE:FF`.
    Mac,
    /// A C struct or union copied from memory: its members in order (a union's all at
    /// offset 0). Printed `{ .a = 1, .b = 2 }`, in keys `{.a=1,.b=2}`; `char` arrays
    /// print as strings and pointers as signed decimals.
    Struct { members: Vec<Member>, size: u32 },
    /// A C array copied from memory: `len` elements `stride` bytes apart. Printed
    /// `[1,2,3]`.
    Array {
        elem: Box<Ty>,
        len: u32,
        stride: u32,
    },
}

/// A member of a C struct: its value at byte `offset`, or a bitfield there.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Member {
    pub name: String,
    pub offset: u32,
    pub ty: Ty,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits: Option<Bits>,
}

/// A bitfield: `width` bits starting `shift` bits after its member's byte offset.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bits {
    pub shift: u32,
    pub width: u32,
}

/// How the frames of a stack are printed (`kstack(perf)`, ...).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum StackMode {
    /// `symbol+offset`, indented by spaces.
    #[default]
    Bpftrace,
    /// A tab, the hex address, then `symbol+offset` (and ` (module)` for user frames),
    /// as `perf script` prints frames.
    Perf,
    /// The hex address alone, not indented.
    Raw,
}

/// A typed field at a byte offset.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Field {
    pub offset: u32,
    pub ty: Ty,
}

/// How a map's values are stored and aggregated.
///
/// Value layouts (per CPU where `MapInfo::per_cpu`; the runtime combines CPUs):
/// - `Value`: the value is `MapInfo::value`, not per CPU.
/// - `Count`, `Sum`: one i64 (count is never negative); CPUs are summed.
/// - `Min`, `Max`: i64 value at 0, u64 "is set" flag at 8; CPUs with the flag set combine.
/// - `Avg`, `Stats`: i64 total at 0, u64 count at 8; CPUs are summed.
/// - `Hist`, `Lhist`: the BPF key is the user key followed by a u64 bucket index at
///   offset `MapInfo::key_size` rounded up to 8; the value is a u64 count, summed.
///   Hist buckets (`bits` 0): 0 is `(..., 0)`, 1 is `[0]`, and `n >= 1` lands in
///   `log2(n) + 2`. With `bits` k (N = 2^k sub-buckets per power of two): 0 is
///   negatives, `n < 2N` lands in `n + 1`, larger `n` in
///   `((p - k + 1) << k) + (n >> (p - k)) - N + 1` where `p = floor(log2(n))`.
///   Lhist buckets: 0 is `(..., min)`, `k` in 1..=N is `[min + (k-1)*step, min + k*step)`,
///   N+1 is `[max, ...)`, where N = (max - min) / step.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MapKind {
    Value,
    Count,
    Sum,
    Min,
    Max,
    Avg,
    Stats,
    Hist {
        #[serde(default)]
        bits: u32,
    },
    Lhist {
        min: i64,
        max: i64,
        step: i64,
    },
}

/// A user map (`@name[...]`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct MapInfo {
    /// As the user wrote it: `@x`, or `@` for the anonymous map.
    pub name: String,
    /// The map's name in the object's `.maps` section.
    pub elf_name: String,
    pub kind: MapKind,
    /// The user key, or `None` for a scalar map (whose BPF key is a u64 zero).
    pub key: Option<Ty>,
    /// Size in bytes of the user key part of the BPF key (0 for scalar maps).
    pub key_size: u32,
    /// Type of the value for `MapKind::Value` maps; for aggregations, `Int{8, signed}`.
    pub value: Ty,
    pub per_cpu: bool,
}

/// A printf call site: its format string (escapes already decoded) and the layout of
/// its arguments in the event record (after the u64 event id).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Format {
    pub template: String,
    pub args: Vec<Field>,
    /// `system(fmt, ...)`: the formatted text is a shell command the runtime runs (its
    /// output is printed) instead of text to print.
    #[serde(default)]
    pub system: bool,
    /// `errorf()` / `warnf()`: the text goes to stderr after this prefix (the call's
    /// source location and `ERROR: ` or `WARNING: `), ending in a newline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_prefix: Option<String>,
    /// `print(value)`: one argument, printed as `{"type": "value", ...}` in JSON.
    #[serde(default)]
    pub value: bool,
    /// `cat(fmt, ...)`: the formatted text is the path of a file the runtime prints.
    #[serde(default)]
    pub cat: bool,
}

impl Metadata {
    /// Serializes to the bytes stored in the `.ebpfc` section.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("metadata always serializes")
    }

    /// Parses the `.ebpfc` section contents.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let meta: Metadata =
            serde_json::from_slice(bytes).map_err(|e| format!("invalid .ebpfc metadata: {e}"))?;
        if meta.version != VERSION {
            return Err(format!(
                "object metadata version {} is not supported (expected {VERSION})",
                meta.version
            ));
        }
        Ok(meta)
    }
}

impl Ty {
    /// Size of the type in bytes.
    pub fn size(&self) -> u32 {
        match self {
            Ty::Int { size, .. } => u32::from(*size),
            Ty::Str { size } => *size,
            Ty::Tuple { size, .. } => *size,
            Ty::Inet => 24,
            Ty::Buf { size } => 8 + size.div_ceil(8) * 8,
            Ty::Stack { .. } | Ty::Sym { .. } => 16,
            Ty::Time { .. } | Ty::Username => 8,
            Ty::Errno | Ty::CgroupPath { .. } | Ty::Mac => 8,
            Ty::Struct { size, .. } => *size,
            Ty::Array { len, stride, .. } => len.saturating_mul(*stride),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_bytes() {
        let meta = Metadata {
            version: VERSION,
            probes: vec![Probe {
                program: "p0".into(),
                name: "BEGIN".into(),
                attach: Attach::Begin,
                lines: Vec::new(),
                loops: Vec::new(),
            }],
            maps: vec![MapInfo {
                name: "@c".into(),
                elf_name: "m_c".into(),
                kind: MapKind::Lhist {
                    min: 0,
                    max: 100,
                    step: 10,
                },
                key: None,
                key_size: 0,
                value: Ty::Int {
                    size: 8,
                    signed: true,
                },
                per_cpu: true,
            }],
            formats: vec![],
            ringbuf: Some("events".into()),
            strings: vec!["%H:%M:%S".into()],
            lost_events: None,
            stack_map: Some("stacks".into()),
            start_time: None,
            dropped_updates: None,
        };
        assert_eq!(Metadata::from_bytes(&meta.to_bytes()).unwrap(), meta);
    }

    #[test]
    fn hardware_probes_serialize_with_their_kind() {
        let attach = Attach::Hardware {
            event: "cache-misses".into(),
            config: 3,
            period: 1_000_000,
        };
        let json = serde_json::to_string(&attach).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"hardware","event":"cache-misses","config":3,"period":1000000}"#
        );
        assert_eq!(serde_json::from_str::<Attach>(&json).unwrap(), attach);
    }

    #[test]
    fn rejects_other_versions() {
        let meta = Metadata {
            version: 99,
            ..Default::default()
        };
        assert!(Metadata::from_bytes(&meta.to_bytes())
            .unwrap_err()
            .contains("99"));
    }
}
