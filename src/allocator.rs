//! The memory allocator of the `agentc` binary, shared with the benchmarks (by path) so
//! that their figures are the tool's.

/// mimalloc: the front end makes and frees millions of small tree nodes, and glibc's
/// allocator spends a fifth of a large check on that (measured with `check_speed`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Backs large heaps with 2 MiB pages where the kernel allows it (transparent huge pages
/// in `madvise` mode, the common default). Checking a 10 MB program spent up to 0.7 s of
/// system time faulting in 4 KiB pages one by one; with huge pages, 0.02–0.1 s.
/// Call it first thing in `main`.
pub fn use_huge_pages() {
    // SAFETY: sets a plain integer option, before any other thread exists.
    unsafe { libmimalloc_sys::mi_option_set(libmimalloc_sys::mi_option_large_os_pages, 1) }
}
