//! One loaded BTF blob (vmlinux, a module's split BTF, or a `--btf` file) and its lazy
//! offset index.
//!
//! Opening a source only checks its header. Records have variable lengths, so finding
//! type `n` means walking the records before it; the walk records each record's offset
//! and goes only as far as the furthest record asked for ([`Walk`]). Looking up
//! `task_struct` (id 114 in vmlinux 6.18) walks a few hundred records; a miss walks them
//! all, once. A split source's ids start at `first_id` (the base's type count plus one)
//! and its string offsets at `str_base` (the base's string section length): smaller
//! values refer to the base.

use super::error::BtfError;
use super::raw::{split_info, trailer_len, u32_at, Header, Kind, Record, COMMON_LEN};
use std::sync::{Mutex, MutexGuard};

/// The bytes of a source: mapped from the kernel's file, or read into memory.
pub(crate) enum Blob {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Blob {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Blob::Mapped(map) => map,
            Blob::Owned(vec) => vec,
        }
    }
}

/// One BTF blob and its index.
pub(crate) struct Source {
    pub name: String,
    blob: Blob,
    /// Where the BTF lies inside the blob (an ELF's `.BTF` section, or all of it).
    range: (usize, usize),
    header: Header,
    /// Id of the first type of this source.
    pub first_id: u32,
    /// String offsets below this one belong to the base.
    pub str_base: u32,
    walk: Mutex<Walk>,
}

impl Source {
    /// A base (not split) source over the BTF at `range` of `blob`.
    pub(crate) fn new(name: String, blob: Blob, range: (usize, usize)) -> Result<Self, BtfError> {
        let data = blob
            .bytes()
            .get(range.0..range.1)
            .ok_or(BtfError::BadHeader("BTF range"))?;
        let header = Header::parse(data)?;
        Ok(Source {
            name,
            blob,
            range,
            header,
            first_id: 1,
            str_base: 0,
            walk: Mutex::new(Walk::default()),
        })
    }

    /// A split source whose ids and strings continue after those of `base`.
    pub(crate) fn split(name: String, blob: Blob, base: &Source) -> Result<Self, BtfError> {
        let len = blob.bytes().len();
        let mut source = Source::new(name, blob, (0, len))?;
        source.first_id = base.count()? + 1;
        source.str_base = u32::try_from(base.strings().len()).unwrap_or(u32::MAX);
        Ok(source)
    }

    fn data(&self) -> &[u8] {
        &self.blob.bytes()[self.range.0..self.range.1]
    }

    /// The type section.
    pub(crate) fn types(&self) -> &[u8] {
        &self.data()[self.header.types.0..self.header.types.1]
    }

    /// This source's own string section.
    pub(crate) fn strings(&self) -> &[u8] {
        &self.data()[self.header.strings.0..self.header.strings.1]
    }

    fn walk(&self) -> MutexGuard<'_, Walk> {
        self.walk.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of types in this source (walks every record).
    pub(crate) fn count(&self) -> Result<u32, BtfError> {
        let mut walk = self.walk();
        walk.extend(self.types(), self.first_id, usize::MAX);
        walk.check()?;
        Ok(walk.offsets.len() as u32)
    }

    /// Whether `id` is one of this source's own ids.
    pub(crate) fn owns(&self, id: u32) -> bool {
        id >= self.first_id
    }

    /// The record of local type `id`.
    pub(crate) fn record(&self, id: u32) -> Result<Record<'_>, BtfError> {
        let local = id
            .checked_sub(self.first_id)
            .ok_or(BtfError::BadTypeId(id))? as usize;
        let types = self.types();
        let mut walk = self.walk();
        walk.extend(types, self.first_id, local + 1);
        let Some(&off) = walk.offsets.get(local) else {
            walk.check()?;
            return Err(BtfError::BadTypeId(id));
        };
        drop(walk);
        Record::read(types, off as usize, id)
    }

    /// The first id, in order, whose record satisfies `pred(id, offset)`; walks at most
    /// [`WALK_CHUNK`] records past it. The walk stays locked while `pred` runs, so `pred`
    /// must not ask this source for records.
    pub(crate) fn position(
        &self,
        mut pred: impl FnMut(u32, usize) -> bool,
    ) -> Result<Option<u32>, BtfError> {
        let types = self.types();
        let mut walk = self.walk();
        let mut local = 0;
        loop {
            for (i, &off) in walk.offsets[local..].iter().enumerate() {
                let id = self.first_id + (local + i) as u32;
                if pred(id, off as usize) {
                    return Ok(Some(id));
                }
            }
            local = walk.offsets.len();
            walk.extend(types, self.first_id, local + WALK_CHUNK);
            if walk.offsets.len() == local {
                walk.check()?;
                return Ok(None);
            }
        }
    }
}

/// How far the records of a type section have been walked.
#[derive(Default)]
struct Walk {
    /// Offset of each record walked so far, by local index.
    offsets: Vec<u32>,
    /// Offset of the first record not walked yet.
    next: usize,
    /// Why the walk stopped early, if it did.
    failed: Option<BtfError>,
}

/// Typical bytes per record in kernel BTF, to size the offset table once.
const AVERAGE_RECORD_LEN: usize = 24;
/// How many records a scan walks at a time before checking them.
const WALK_CHUNK: usize = 1024;

impl Walk {
    /// Walks on until `want` records are known, the section ends, or a record is bad
    /// (which [`check`](Self::check) then reports).
    fn extend(&mut self, types: &[u8], first_id: u32, want: usize) {
        if self.failed.is_some() {
            return;
        }
        if self.offsets.capacity() == 0 {
            self.offsets.reserve(types.len() / AVERAGE_RECORD_LEN);
        }
        while self.offsets.len() < want && self.next < types.len() {
            let id = first_id.saturating_add(self.offsets.len() as u32);
            match record_end(types, self.next, id) {
                Ok(end) => {
                    self.offsets.push(self.next as u32);
                    self.next = end;
                }
                Err(err) => {
                    self.failed = Some(err);
                    return;
                }
            }
        }
    }

    /// The error that stopped the walk, if any.
    fn check(&self) -> Result<(), BtfError> {
        match &self.failed {
            Some(err) => Err(err.clone()),
            None => Ok(()),
        }
    }
}

/// The offset just past the record at `off`, checked against the section's end.
fn record_end(types: &[u8], off: usize, id: u32) -> Result<usize, BtfError> {
    let truncated = || BtfError::Truncated {
        what: "type record",
        offset: off,
    };
    let (kind, vlen) = split_info(u32_at(types, off + 4).ok_or_else(truncated)?);
    let kind = Kind::from_u8(kind).ok_or(BtfError::UnknownKind { id, kind })?;
    let end = off + COMMON_LEN + trailer_len(kind, vlen);
    match end <= types.len() {
        true => Ok(end),
        false => Err(truncated()),
    }
}

/// The strings a source's name offsets refer to: the base's, then its own.
#[derive(Clone, Copy)]
pub(crate) struct Strings<'a> {
    pub base: &'a [u8],
    pub own: &'a [u8],
    pub split_at: u32,
}

impl<'a> Strings<'a> {
    /// The bytes from `off` to the end of its section.
    fn tail(&self, off: u32) -> Option<&'a [u8]> {
        if off < self.split_at {
            self.base.get(off as usize..)
        } else {
            self.own.get((off - self.split_at) as usize..)
        }
    }

    /// The NUL-terminated string at `off`.
    pub(crate) fn get(&self, off: u32) -> Result<&'a str, BtfError> {
        let tail = self.tail(off).ok_or(BtfError::BadString(off))?;
        let end = tail
            .iter()
            .position(|&b| b == 0)
            .ok_or(BtfError::BadString(off))?;
        std::str::from_utf8(&tail[..end]).map_err(|_| BtfError::BadString(off))
    }

    /// Whether the string at `off` is `name_nul` (a name followed by its NUL).
    pub(crate) fn is(&self, off: u32, name_nul: &[u8]) -> bool {
        let first = |t: &[u8]| t.first() == name_nul.first();
        self.tail(off)
            .filter(|t| first(t))
            .and_then(|t| t.get(..name_nul.len()))
            .is_some_and(|s| s == name_nul)
    }
}
