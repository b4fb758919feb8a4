//! The allocator's settings. mimalloc (the global allocator, see `main.rs`) reads its options
//! from the environment once, as the process starts, and setting them later takes `unsafe`
//! code. So when they are not set, the process replaces itself (exec: same PID, same arguments)
//! with them set, before anything else runs. An operator's own values always win.
//!
//! Measured on `bench/run mixed` (debug build; README "Reliability"): returning freed pages at
//! once instead of after a second, and committing arena memory only as it is used, took the peak
//! of the mixed load from 356 to 218 MiB and the memory held afterwards from 326 to 89 MiB.

use std::os::unix::process::CommandExt;

/// Purge freed pages at once (v3's default waits 1 s, and a burst's pages stayed until the
/// next allocation came by); commit arena memory as it is used, not 1 GiB at a time.
pub const SETTINGS: [(&str, &str); 2] = [("MIMALLOC_PURGE_DELAY", "0"), ("MIMALLOC_ARENA_EAGER_COMMIT", "0")];

/// Restarts the process with [`SETTINGS`] when any is unset; returns when they are in place, or
/// when the restart is impossible (then the defaults apply, which is only less frugal).
pub fn apply_settings() {
    if SETTINGS.iter().all(|(k, _)| std::env::var_os(k).is_some()) {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let mut args = std::env::args_os();
    let mut cmd = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        cmd.arg0(arg0);
    }
    cmd.args(args);
    for (k, v) in SETTINGS {
        if std::env::var_os(k).is_none() {
            cmd.env(k, v);
        }
    }
    // `exec` returns only when it failed.
    let err = cmd.exec();
    eprintln!(
        "note: could not restart with the allocator settings ({err}); running with mimalloc's defaults"
    );
}
