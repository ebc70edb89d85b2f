//! The memory allocator of the `agentc` binary, shared with the benchmarks (by path) so
//! that their figures are the tool's.

/// mimalloc: the front end makes and frees millions of small tree nodes, and glibc's
/// allocator spends a fifth of a large check on that (measured with `check_speed`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// For a command that runs once (`check`, `run`, …). Backs large heaps with 2 MiB pages
/// where the kernel allows it (transparent huge pages in `madvise` mode, the common
/// default): checking a 10 MB program spent up to 0.7 s of system time faulting in 4 KiB
/// pages one by one; with huge pages, 0.02–0.1 s. And gives freed pages back after
/// [`ONE_SHOT_PURGE_DELAY_MS`]. Call it first thing in `main`.
pub fn use_huge_pages() {
    use_huge_pages_only();
    set_purge_delay(ONE_SHOT_PURGE_DELAY_MS);
}

/// For `agentc serve`: huge pages, and mimalloc's own purge delay (a server soon reuses
/// what it frees, and its figures were measured so).
pub fn use_huge_pages_only() {
    // SAFETY: sets a plain integer option, before any other thread exists.
    unsafe { libmimalloc_sys::mi_option_set(libmimalloc_sys::mi_option_large_os_pages, 1) }
}

/// mimalloc's number for its purge delay (`mi_option_t` of the v3 `mimalloc.h` that
/// `libmimalloc-sys` builds), which the crate does not name, and its default there.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const DEFAULT_PURGE_DELAY_MS: std::ffi::c_long = 1000;

/// A one-shot command's purge delay. What a large check frees early and does not reuse
/// (the file's read buffer among it) stayed resident at mimalloc's default of a second,
/// past the check's peak: 10 ms took 7–10 MB off the peak of a 10 MB program at the same
/// speed (`check_speed`).
const ONE_SHOT_PURGE_DELAY_MS: std::ffi::c_long = 10;

/// Sets mimalloc's purge delay, unless the user set `MIMALLOC_PURGE_DELAY`.
fn set_purge_delay(ms: std::ffi::c_long) {
    // SAFETY: reads and sets a plain integer option, before any other thread exists. Only
    // at its default: then the number is the option meant (a renumbering upgrade leaves
    // mimalloc as it was, and the bench's figure shows it), and a `MIMALLOC_PURGE_DELAY`
    // the user set stays theirs.
    unsafe {
        if libmimalloc_sys::mi_option_get(PURGE_DELAY) == DEFAULT_PURGE_DELAY_MS {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, ms);
        }
    }
}

/// For `agentc lsp`, which lives for hours holding a workspace: pages freed after a check go
/// back to the kernel at once (mimalloc would purge them a second later, and only once the
/// thread allocates again, which an idle server does not), and no transparent huge pages,
/// of which a partly used one is resident whole. `cargo bench --bench ide` reports the
/// server's memory.
#[allow(dead_code)] // the benchmarks share this file, and run no server in-process
pub fn give_memory_back() {
    set_purge_delay(0);
    // mimalloc reads its own THP option before `main`, so the process asks the kernel.
    // SAFETY: a flag of this process; no memory is passed.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
