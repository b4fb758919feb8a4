//! One file into a backup folder as an independent copy: a copy-on-write clone (FICLONE) where
//! the filesystem has them, a byte copy otherwise, never a hard link — a link shares the inode,
//! so damage to the stored photo would be damage to the backup too. The size and SHA-256
//! returned are of the bytes that ended up in the backup, and the file is durable before it
//! appears under its final name.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::storage::fsutil;

/// What was written: size and SHA-256 (hex) of the backup's copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub size: u64,
    pub sha256: String,
}

const MODE: u32 = 0o640;

/// Copies the local file `source` to `target`. The caller fsyncs `target`'s directory once all
/// of its entries are written (one fsync per folder, not per object).
pub fn copy_file(source: &Path, target: &Path) -> io::Result<Written> {
    let mut src = File::open(source)?;
    write_via_temp(target, |tmp| {
        // A clone shares blocks only until either side writes: an independent copy at no cost.
        // Any refusal (other filesystem, no reflink support) falls back to copying the bytes.
        if rustix::fs::ioctl_ficlone(&*tmp, &src).is_ok() {
            tmp.rewind()?;
            return hash_reader(&mut *tmp);
        }
        copy_hashing(&mut src, tmp)
    })
}

/// Writes `bytes` (an object read from a bucket) to `target`.
pub fn write_bytes(bytes: &[u8], target: &Path) -> io::Result<Written> {
    write_via_temp(target, |tmp| copy_hashing(&mut &bytes[..], tmp))
}

/// Copies `source` to `target` durably (file and directory), for the database files.
pub fn copy_durably(source: &Path, target: &Path) -> io::Result<Written> {
    let written = copy_file(source, target)?;
    fsutil::fsync_dir(target.parent().unwrap_or_else(|| Path::new(".")))?;
    Ok(written)
}

/// Size and SHA-256 of a file, streamed.
pub fn hash_file(path: &Path) -> io::Result<Written> {
    hash_reader(&mut File::open(path)?)
}

fn write_via_temp(target: &Path, fill: impl FnOnce(&mut File) -> io::Result<Written>) -> io::Result<Written> {
    let tmp = fsutil::temp_path_beside(target);
    let result = (|| {
        let mut f = OpenOptions::new().read(true).write(true).create_new(true).mode(MODE).open(&tmp)?;
        let written = fill(&mut f)?;
        f.sync_all()?;
        std::fs::rename(&tmp, target)?;
        Ok(written)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn copy_hashing(from: &mut impl Read, to: &mut impl Write) -> io::Result<Written> {
    let mut h = Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..n]);
        to.write_all(&buf[..n])?;
        size += n as u64;
    }
    Ok(Written { size, sha256: hex::encode(h.finalize()) })
}

fn hash_reader(from: &mut impl Read) -> io::Result<Written> {
    copy_hashing(from, &mut io::sink())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn a_copy_is_a_separate_file_that_keeps_its_bytes_when_the_source_changes() {
        let dir = tempfile::tempdir().unwrap();
        let (src, dst) = (dir.path().join("src"), dir.path().join("dst"));
        std::fs::write(&src, b"original photo bytes").unwrap();
        let w = copy_file(&src, &dst).unwrap();
        assert_eq!(w.size, 20);
        assert_eq!(w.sha256, hex::encode(Sha256::digest(b"original photo bytes")));
        assert_ne!(std::fs::metadata(&src).unwrap().ino(), std::fs::metadata(&dst).unwrap().ino());
        let mut f = OpenOptions::new().write(true).open(&src).unwrap();
        f.write_all(b"X").unwrap();
        drop(f);
        assert_eq!(std::fs::read(&dst).unwrap(), b"original photo bytes");
        assert_eq!(hash_file(&dst).unwrap(), w);
    }

    #[test]
    fn a_missing_source_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let err = copy_file(&dir.path().join("absent"), &dir.path().join("dst")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
