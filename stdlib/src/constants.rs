//! Macros from the kernel and C library headers that tracing scripts `#include` for
//! (`<linux/socket.h>`, `<linux/sched.h>`, ...). They are `#define`s, so kernel BTF does
//! not record them; these are their values on Linux.

/// (name, value) of every known header macro, sorted by name.
const MACROS: &[(&str, i64)] = &[
    ("AF_INET", 2),
    ("AF_INET6", 10),
    ("AF_NETLINK", 16),
    ("AF_PACKET", 17),
    ("AF_UNIX", 1),
    ("AF_UNSPEC", 0),
    ("EXIT_DEAD", 0x10),
    ("EXIT_ZOMBIE", 0x20),
    ("O_APPEND", 0o2000),
    ("O_CREAT", 0o100),
    ("O_EXCL", 0o200),
    ("O_NONBLOCK", 0o4000),
    ("O_RDONLY", 0),
    ("O_RDWR", 2),
    ("O_TRUNC", 0o1000),
    ("O_WRONLY", 1),
    ("TASK_DEAD", 0x80),
    ("TASK_INTERRUPTIBLE", 0x1),
    ("TASK_NEW", 0x800),
    ("TASK_NOLOAD", 0x400),
    ("TASK_PARKED", 0x40),
    ("TASK_RUNNING", 0x0),
    ("TASK_UNINTERRUPTIBLE", 0x2),
    ("TASK_WAKEKILL", 0x100),
    ("TASK_WAKING", 0x200),
    ("__TASK_STOPPED", 0x4),
    ("__TASK_TRACED", 0x8),
];

/// The value of header macro `name`, if it is one of the known ones.
pub fn lookup(name: &str) -> Option<i64> {
    MACROS
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .map(|i| MACROS[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_found() {
        assert!(MACROS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(lookup("AF_INET6"), Some(10));
        assert_eq!(lookup("TASK_RUNNING"), Some(0));
        assert_eq!(lookup("AF_INET7"), None);
    }
}
