//! The kernel's verifier accepts every program the direct backend emits for the corpus
//! (snapshot cases, benchmark programs, examples, programs aimed at the optimizations):
//! the cleanup keeps buffers initialized before helpers read them and map value and
//! context pointers addressed as the verifier tracks them. Needs root; skipped loudly
//! otherwise, failing instead when `EBPFC_REQUIRE_KERNEL=1`. fentry/fexit programs are
//! not loaded (the kernel refuses them under lockdown).

mod corpus;
mod kernel;

use ebpfc_codegen::Backend;
use kernel::{kernel_available, load_all};

#[test]
fn kernel_verifier_accepts_direct_backend_programs() {
    if !kernel_available("kernel_verifier_accepts_direct_backend_programs") {
        return;
    }
    let (mut failures, mut loaded) = (Vec::new(), 0);
    for (name, module) in corpus::corpus() {
        let object = ebpfc_codegen::emit(&module, Backend::Bytecode)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        match load_all(&name, &object) {
            Ok(n) => loaded += n,
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(loaded > 50, "only {loaded} programs loaded");
    eprintln!("the verifier accepted {loaded} programs of the direct backend");
}
