//! Disk usage of a path: files and bytes, never following links (the sizes `rm` reports for
//! ignored files and `trash list` for kept ones).

use std::fs;
use std::path::Path;

/// Files and bytes under `p`, never following links.
pub fn size(p: &Path) -> (u64, u64) {
    let Ok(meta) = fs::symlink_metadata(p) else {
        return (0, 0);
    };
    if !meta.is_dir() {
        return (1, meta.len());
    }
    let mut total = (0, 0);
    if let Ok(rd) = fs::read_dir(p) {
        for e in rd.flatten() {
            let (c, b) = size(&e.path());
            total.0 += c;
            total.1 += b;
        }
    }
    total
}
