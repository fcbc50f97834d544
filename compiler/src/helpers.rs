//! BPF helper functions the generated code calls: (helper id, name).

pub type Helper = (u32, &'static str);

pub const MAP_LOOKUP: Helper = (1, "map_lookup_elem");
pub const MAP_UPDATE: Helper = (2, "map_update_elem");
pub const MAP_DELETE: Helper = (3, "map_delete_elem");
pub const KTIME_GET_NS: Helper = (5, "ktime_get_ns");
pub const TRACE_PRINTK: Helper = (6, "trace_printk");
pub const GET_PRANDOM_U32: Helper = (7, "get_prandom_u32");
pub const GET_SMP_PROCESSOR_ID: Helper = (8, "get_smp_processor_id");
pub const GET_CURRENT_PID_TGID: Helper = (14, "get_current_pid_tgid");
pub const GET_CURRENT_UID_GID: Helper = (15, "get_current_uid_gid");
pub const GET_CURRENT_COMM: Helper = (16, "get_current_comm");
pub const GET_STACKID: Helper = (27, "get_stackid");
pub const GET_CURRENT_TASK: Helper = (35, "get_current_task");
pub const GET_NUMA_NODE_ID: Helper = (42, "get_numa_node_id");
pub const OVERRIDE_RETURN: Helper = (58, "override_return");
pub const SEND_SIGNAL: Helper = (109, "send_signal");
pub const GET_CURRENT_CGROUP_ID: Helper = (80, "get_current_cgroup_id");
pub const PROBE_READ_USER: Helper = (112, "probe_read_user");
pub const PROBE_READ_KERNEL: Helper = (113, "probe_read_kernel");
pub const PROBE_READ_USER_STR: Helper = (114, "probe_read_user_str");
pub const PROBE_READ_KERNEL_STR: Helper = (115, "probe_read_kernel_str");
pub const JIFFIES64: Helper = (118, "jiffies64");
pub const GET_NS_CURRENT_PID_TGID: Helper = (120, "get_ns_current_pid_tgid");
pub const KTIME_GET_BOOT_NS: Helper = (125, "ktime_get_boot_ns");
pub const RINGBUF_OUTPUT: Helper = (130, "ringbuf_output");
pub const D_PATH: Helper = (147, "d_path");
pub const FOR_EACH_MAP_ELEM: Helper = (164, "for_each_map_elem");
pub const KTIME_GET_TAI_NS: Helper = (208, "ktime_get_tai_ns");
