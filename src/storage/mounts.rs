//! What the operating system says about the place a path lives: its mount, filesystem type,
//! device and free space. This is how the service knows whether its media survives a restart.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, serde::Serialize)]
pub struct MountFacts {
    pub mount_point: PathBuf,
    pub fs_type: String,
    pub source: String,
    /// `major:minor` of the filesystem, as in /proc/self/mountinfo.
    pub device: String,
    pub read_only: bool,
    /// The path is on the same filesystem as `/`.
    pub same_device_as_root: bool,
}

#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Space {
    pub total_bytes: u64,
    pub free_bytes: u64,
    pub used_percent: f64,
}

/// Why a filesystem does not survive a restart, if it does not.
pub fn ephemeral_reason(m: &MountFacts, in_container_or_platform: bool) -> Option<String> {
    match m.fs_type.as_str() {
        "tmpfs" | "ramfs" => Some(format!("{} is memory-backed: it is empty after every restart", m.fs_type)),
        "overlay" | "aufs" => Some(format!(
            "{} is a container's writable layer: it is thrown away on every redeploy",
            m.fs_type
        )),
        _ if m.same_device_as_root && in_container_or_platform => Some(
            "it is the container's root filesystem (same device as /): it is thrown away on every redeploy"
                .to_string(),
        ),
        _ => None,
    }
}

/// The nearest existing ancestor of `path` (the path itself when it exists).
pub fn existing_ancestor(path: &Path) -> PathBuf {
    let mut cur = path.to_path_buf();
    while !cur.exists() {
        if !cur.pop() {
            return PathBuf::from("/");
        }
    }
    cur
}

/// Finds the mount holding `path` (or its nearest existing ancestor).
pub fn mount_for(path: &Path) -> std::io::Result<MountFacts> {
    let existing = existing_ancestor(path);
    let real = std::fs::canonicalize(&existing)?;
    let dev = std::fs::metadata(&real)?.dev();
    let root_dev = std::fs::metadata("/")?.dev();
    let infos = procfs::process::Process::myself()
        .and_then(|p| p.mountinfo())
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    // The longest mount point that is a prefix wins; among equals the last (it shadows the rest).
    let best = infos
        .into_iter()
        .filter(|m| real.starts_with(&m.mount_point))
        .fold(None::<procfs::process::MountInfo>, |best, m| match &best {
            Some(b) if b.mount_point.as_os_str().len() > m.mount_point.as_os_str().len() => best,
            _ => Some(m),
        })
        .ok_or_else(|| std::io::Error::other("no mount found for the path"))?;
    Ok(MountFacts {
        read_only: best.mount_options.contains_key("ro"),
        mount_point: best.mount_point,
        fs_type: best.fs_type,
        source: best.mount_source.unwrap_or_default(),
        device: best.majmin,
        same_device_as_root: dev == root_dev,
    })
}

pub fn space(path: &Path) -> std::io::Result<Space> {
    let st = rustix::fs::statvfs(existing_ancestor(path)).map_err(std::io::Error::from)?;
    let total = st.f_blocks.saturating_mul(st.f_frsize);
    let free = st.f_bavail.saturating_mul(st.f_frsize);
    let used = total.saturating_sub(st.f_bfree.saturating_mul(st.f_frsize));
    let used_percent = if total == 0 { 0.0 } else { used as f64 * 100.0 / total as f64 };
    Ok(Space { total_bytes: total, free_bytes: free, used_percent: (used_percent * 10.0).round() / 10.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_directory_is_on_the_root_mount() {
        let m = mount_for(Path::new("/")).unwrap();
        assert_eq!(m.mount_point, PathBuf::from("/"));
    }

    #[test]
    fn proc_is_its_own_mount_on_another_device() {
        let m = mount_for(Path::new("/proc/self")).unwrap();
        assert_eq!(m.mount_point, PathBuf::from("/proc"));
        assert_eq!(m.fs_type, "proc");
        assert!(!m.same_device_as_root, "procfs is not the root filesystem's device");
    }

    #[test]
    fn a_missing_path_is_judged_by_its_nearest_existing_parent() {
        let dir = tempfile::tempdir().unwrap();
        let m = mount_for(&dir.path().join("not/yet/there")).unwrap();
        assert!(dir.path().starts_with(&m.mount_point));
    }

    #[test]
    fn memory_and_overlay_filesystems_are_ephemeral_everywhere() {
        let mut m = MountFacts {
            mount_point: "/x".into(),
            fs_type: "tmpfs".into(),
            source: "tmpfs".into(),
            device: "0:1".into(),
            read_only: false,
            same_device_as_root: false,
        };
        assert!(ephemeral_reason(&m, false).is_some());
        m.fs_type = "overlay".into();
        assert!(ephemeral_reason(&m, false).is_some());
        m.fs_type = "ext4".into();
        m.same_device_as_root = true;
        assert!(ephemeral_reason(&m, false).is_none(), "a laptop's root disk is persistent");
        assert!(ephemeral_reason(&m, true).unwrap().contains("root filesystem"));
    }
}
