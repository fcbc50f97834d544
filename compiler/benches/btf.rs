//! Start-up cost of the kernel type database: cold open and lookups of
//! `struct task_struct` and the `real_parent->pid` chain, against a full name index and
//! an eager resolution of every type. Prints a table; `cargo bench -p ebpfc-compiler
//! --bench btf` runs many rounds, a plain run (as `cargo test --benches` does) one.

use ebpfc_compiler::btf::{KernelTypes, Kind};
use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

/// A step measured on an opened database.
type Part<'a> = &'a dyn Fn(&KernelTypes);

const SYSTEM: &str = "/sys/kernel/btf/vmlinux";
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vmlinux.btf");

fn main() {
    let rounds = if std::env::args().any(|a| a == "--bench") {
        50
    } else {
        1
    };
    let live = Path::new(SYSTEM).exists();
    let file = if live { SYSTEM } else { FIXTURE };
    println!("BTF: {file} ({rounds} rounds; min / median)");
    let first = time(|| cold_chain(live, file));
    row("first cold chain in this process", &[first]);
    let cases: [(&str, &dyn Fn()); 11] = [
        ("open (map, header only)", &|| drop(open(live, file))),
        ("open (read whole file)", &|| drop(from_file(file))),
        ("open + offset index", &|| index(open(live, file))),
        ("open + struct_named(task_struct)", &|| {
            task_struct(live, file)
        }),
        ("cold: task_struct->real_parent->pid", &|| {
            cold_chain(live, file)
        }),
        ("cold chain, --btf FILE (read)", &|| chain(from_file(file))),
        ("open + miss (walk all, modules)", &|| {
            miss(open(live, file))
        }),
        ("open + func_named(vfs_read)", &|| vfs_read(live, file)),
        ("open + 20 different lookups", &|| twenty(live, file)),
        ("full name index (all names hashed)", &|| {
            name_index(live, file)
        }),
        ("eager: resolve all types + fields", &|| eager(live, file)),
    ];
    for (name, case) in cases {
        let samples: Vec<Duration> = (0..rounds).map(|_| time(case)).collect();
        row(name, &samples);
    }
    let parts: [(&str, Part); 3] = [
        ("part: offset index", &|t| drop(t.type_ids())),
        ("part: miss scan (index built)", &|t| {
            drop(t.struct_named("nope_nope"))
        }),
        ("part: vfs_read (index built)", &|t| {
            drop(t.func_named("vfs_read"))
        }),
    ];
    for (name, part) in parts {
        let samples: Vec<Duration> = (0..rounds)
            .map(|_| {
                let t = from_file(file);
                if !name.contains("index") {
                    t.type_ids().unwrap();
                }
                time(|| part(&t))
            })
            .collect();
        row(name, &samples);
    }
}

fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn row(name: &str, samples: &[Duration]) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (min, median) = (ms(sorted[0]), ms(sorted[sorted.len() / 2]));
    println!("{name:<40} {min:>9.3} ms {median:>9.3} ms");
}

fn open(live: bool, file: &str) -> KernelTypes {
    if live {
        KernelTypes::system().expect("open system BTF")
    } else {
        from_file(file)
    }
}

fn from_file(file: &str) -> KernelTypes {
    KernelTypes::from_file(file).expect("open BTF file")
}

fn index(types: KernelTypes) {
    black_box(types.type_ids().expect("index").len());
}

fn task_struct(live: bool, file: &str) {
    let types = open(live, file);
    black_box(types.struct_named("task_struct").expect("lookup"));
}

fn cold_chain(live: bool, file: &str) {
    chain(open(live, file));
}

fn chain(types: KernelTypes) {
    let task = types.struct_named("task_struct").unwrap().unwrap();
    let parent = types.field(&task, "real_parent").unwrap().unwrap();
    let parent = types.resolve(parent.ty.pointee().unwrap()).unwrap();
    let pid = types.field(parent.as_aggregate().unwrap(), "pid").unwrap();
    black_box(pid.unwrap());
}

fn miss(types: KernelTypes) {
    black_box(types.struct_named("no_such_struct_anywhere").unwrap());
}

fn vfs_read(live: bool, file: &str) {
    let types = open(live, file);
    black_box(types.func_named("vfs_read").unwrap().unwrap());
}

fn twenty(live: bool, file: &str) {
    let types = open(live, file);
    let structs = [
        "task_struct",
        "mm_struct",
        "file",
        "path",
        "dentry",
        "qstr",
        "sock",
        "sk_buff",
        "inode",
        "super_block",
        "cred",
        "nsproxy",
        "pid_namespace",
        "vm_area_struct",
        "files_struct",
        "fdtable",
        "net_device",
        "socket",
        "sock_common",
        "request_sock",
    ];
    for name in structs {
        black_box(types.struct_named(name).unwrap());
    }
}

fn name_index(live: bool, file: &str) {
    let types = open(live, file);
    let all = [
        Kind::Struct,
        Kind::Union,
        Kind::Enum,
        Kind::Enum64,
        Kind::Typedef,
        Kind::Func,
        Kind::Int,
        Kind::Float,
        Kind::Fwd,
    ];
    let mut index = HashMap::new();
    for (name, id) in types.names_of(&all).unwrap() {
        index.entry(name).or_insert(id);
    }
    black_box(index.len());
}

fn eager(live: bool, file: &str) {
    let types = open(live, file);
    let mut fields = 0;
    for id in types.type_ids().unwrap() {
        let Ok(ty) = types.resolve(id) else { continue };
        if let Some(agg) = ty.as_aggregate() {
            fields += types.fields(agg).unwrap().len();
        }
    }
    black_box(fields);
}
